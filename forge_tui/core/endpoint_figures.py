"""The per-endpoint figures of a job as text cells, one row per model server: the Jobs screen's table
and `forge-tui jobs show` print the same columns the same way."""

from __future__ import annotations

from rich.cells import cell_len

from forge_tui.core.bounded_text import clip
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.i18n import N_, _

# Message ids: the tables that show them translate each with _().
HEADERS = (N_("Endpoint"), N_("State"), N_("In flight"), N_("Limit"), "/min", N_("Tokens/s"), N_("Errors"))
NAME_CHARS = 16  # the table fits 80 columns
# A state as the table shows it (the value itself is what --json and the job's record hold).
STATE_LABELS = {
    EndpointState.HEALTHY: N_("healthy"),
    EndpointState.BACKING_OFF: N_("backing off"),
    EndpointState.DROPPED: N_("dropped"),
}


def amount(value: float) -> str:
    """A rate: whole above 10, one decimal below (`0.4`, `7.5`, `312`)."""
    return f"{value:.0f}" if value >= 10 or value == 0 else f"{value:.1f}"


def percent(fraction: float) -> str:
    share = max(0.0, min(1.0, fraction)) * 100
    return f"{share:.0f}%" if share >= 10 or share == 0 else f"{share:.1f}%"


def figure_cells(stats: EndpointStats) -> tuple[str, ...]:
    """Name, state (healthy / backing off / dropped), requests in flight, its limit of the most it may
    take, answers a minute, tokens a second and the error rate, as HEADERS names them."""
    return (
        clip(stats.name, NAME_CHARS),
        _(STATE_LABELS[stats.state]),
        str(stats.in_flight),
        f"{stats.limit}/{stats.max_concurrency}",
        amount(stats.per_minute),
        amount(stats.tokens_per_s),
        percent(stats.error_rate),
    )


def figure_lines(stats: list[EndpointStats]) -> list[str]:
    """The table as aligned plain-text lines (headers first); none without figures."""
    if not stats:
        return []
    rows = [tuple(_(header) for header in HEADERS), *(figure_cells(s) for s in stats)]
    # Padded by terminal cells, not characters: a CJK header takes two cells a character.
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = []
    for row in rows:
        cells = [_pad(cell, width, left=i < 2) for i, (cell, width) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
    return lines


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * max(0, width - cell_len(text))
    return text + space if left else space + text
