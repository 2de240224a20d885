"""`f` on Examples: a filter expression, its matches in the table, the expression in the status line,
a bad one refused with its sentence, escape back to the whole dataset; the KTO cycle moved to `k`."""

from __future__ import annotations

from textual.widgets import Input

from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.widgets.example_table import ExampleTable
from tests.ui.helpers import error_text, examples_status, fill, open_examples, type_text, wait_for_screen, wait_until


def _stocked(home: Home) -> None:
    workspace = fill(home, 0)
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = [
        (
            ExampleContent(user_prompt=f"question {i}", output=f"answer {i}", slots={"topic": "ab"[i % 2]}),
            ExampleMeta(score=float(i % 10 + 1), model="qwen2.5" if i < 20 else "llama3", source=ExampleSource.JOB),
        )
        for i in range(40)
    ]
    workspace.examples.add_many(dataset.id, items)


async def test_f_filters_by_an_expression_and_escape_shows_all(home: Home) -> None:
    _stocked(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_examples(pilot)
        table = screen.query_one(ExampleTable)
        await pilot.press("f")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "scroe >= 7")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)  # refused, the typed text kept
        assert app.screen.query_one(Input).value == "scroe >= 7"
        assert error_text(app, "#prompt-error").startswith("Unknown column 'scroe' at 1: the columns are score")
        app.screen.query_one(Input).value = ""
        await type_text(pilot, "score>=7 and model=~'QWEN' and slot:topic = a")
        await pilot.press("enter")
        # i < 20, i % 2 == 0, i % 10 + 1 >= 7: i = 6, 8, 16, 18
        await wait_until(pilot, lambda: table.total == 4)
        status = examples_status(screen)
        assert status.startswith("'default': 4 where score>=7 and model=~'QWEN' and slot:topic = a")
        assert sorted(table.row(i).cells["prompt"].strip() for i in range(4)) == [  # type: ignore[union-attr]
            "question 16",
            "question 18",
            "question 6",
            "question 8",
        ]
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.total == 40)
        assert "where" not in examples_status(screen)
