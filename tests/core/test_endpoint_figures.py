"""The per-endpoint figures as text: the Jobs screen's table and `forge-tui jobs show` share them."""

from __future__ import annotations

from forge_tui.core.endpoint_figures import amount, figure_cells, figure_lines, percent
from forge_tui.core.pool_stats import EndpointState, EndpointStats


def stats(name: str = "gpu-a", **changed: float) -> EndpointStats:
    values: dict[str, float] = {"per_minute": 342.0, "tokens_per_s": 7.54, "error_rate": 0.004, **changed}
    return EndpointStats(
        name, "http://gpu:11434", EndpointState.BACKING_OFF, 3, 4, 32,
        values["per_minute"], values["tokens_per_s"], values["error_rate"], 10, 1,
    )  # fmt: skip


def test_rates_and_shares_read_at_a_glance() -> None:
    assert [amount(v) for v in (0, 0.04, 7.54, 10, 312.6)] == ["0", "0.0", "7.5", "10", "313"]
    assert [percent(v) for v in (0, 0.004, 0.125, 1, 3)] == ["0%", "0.4%", "12%", "100%", "100%"]


def test_cells_and_aligned_lines() -> None:
    assert figure_cells(stats()) == ("gpu-a", "backing off", "3", "4/32", "342", "7.5", "0.4%")
    assert figure_cells(stats("n" * 30))[0] == "n" * 15 + "…"
    lines = figure_lines([stats(), stats("b", per_minute=5)])
    assert lines[0].split()[:2] == ["Endpoint", "State"]
    assert len({len(line) for line in lines}) == 1  # right-aligned numbers end in one column
    assert figure_lines([]) == []
