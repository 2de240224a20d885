"""The Stats panel of the Datasets screen at 80×24: counts, slot top values, and Sparkline histograms."""

from __future__ import annotations

from textual.widgets import Sparkline

from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.dataset_stats import DatasetStatsPanel
from forge_tui.ui.screens.datasets import DatasetsScreen
from tests.ui.helpers import at_datasets, fill, static_text, wait_for_screen


def _stocked(home: Home) -> None:
    workspace = fill(home, 0)
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = [
        (
            ExampleContent(user_prompt=f"q{i}", output="word " * (i + 1), slots={"topic": "abc"[i % 3]}),
            ExampleMeta(
                model="qwen2.5" if i < 6 else "llama3",
                source=ExampleSource.IMPORT,
                review=ReviewState.REJECTED if i == 0 else ReviewState.ACCEPTED,
                completion_tokens=i + 1,
                language_flag="French" if i == 1 else None,
            ),
        )
        for i in range(9)
    ]
    workspace.examples.add_many(dataset.id, items)


async def test_stats_panel_shows_counts_and_histograms_in_80x24(home: Home) -> None:
    _stocked(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        assert isinstance(app.screen, DatasetsScreen)
        await pilot.press("S")
        await wait_for_screen(pilot, DatasetStatsPanel)
        panel = app.screen
        counts = static_text(panel, "#stats-counts")
        assert "source: import 9" in counts
        assert "review: accepted 8, rejected 1" in counts
        assert "model: qwen2.5 6, llama3 3" in counts
        assert 'slot topic: "a" 3, "b" 3, "c" 3' in counts
        assert "9 examples, 1 with a language flag" in str(panel.query_one(".dialog-title").render())
        assert static_text(panel, "#stats-tokens-range") == "Answer tokens: 1 to 9 (9 examples)"
        assert static_text(panel, "#stats-chars-range") == "Answer length in characters: 5 to 45 (9 examples)"
        tokens = panel.query_one("#stats-tokens", Sparkline)
        assert sum(tokens.data or []) == 9 and len(tokens.data or []) == 20
        dialog = panel.query_one("#stats-panel")
        assert dialog.region.bottom <= 24 and dialog.region.right <= 80  # fits the terminal
        assert tokens.region.height == 2 and tokens.region.bottom <= 24
        await pilot.press("escape")
        await wait_for_screen(pilot, DatasetsScreen)
