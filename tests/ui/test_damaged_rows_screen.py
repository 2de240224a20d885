"""The Examples screen over rows damaged behind the app's back: the table pages through them showing
each damaged row with its id and field, search says what it could not read, and the app runs on."""

from __future__ import annotations

from textual.widgets import Input

from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.example_table import ExampleTable
from tests.damage import damage
from tests.ui.helpers import examples_status, fill, open_examples, type_text, wait_until


async def test_damaged_rows_show_in_the_table_and_search_and_the_app_runs_on(home: Home) -> None:
    workspace = fill(home, 8)
    dataset = workspace.datasets.current()
    assert dataset is not None
    ids = workspace.examples.ids(dataset.id)
    damage(home.db_path, ids[2], "system_prompt", 42)
    damage(home.db_path, ids[5], "created_at", "garbage")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        table = screen.query_one(ExampleTable)
        await wait_until(pilot, lambda: "8 examples" in examples_status(screen))
        views = [table.row(i) for i in range(8)]
        assert [v.id for v in views if v is not None] == ids
        broken = {v.id: v.broken for v in views if v is not None and v.broken is not None}
        assert set(broken) == {ids[2], ids[5]}
        assert "system_prompt field" in (broken[ids[2]] or "") and "created_at field" in (broken[ids[5]] or "")
        await pilot.press("down", "down", "enter", "end")  # onto the damaged row, and past it
        assert isinstance(app.screen, ExamplesScreen)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#examples-search", Input)
        await type_text(pilot, "answer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "search finished" in examples_status(screen))
        assert "6 matching, 2 damaged (not searched)" in examples_status(screen)
        assert any(ids[2] in n.message for n in app._notifications)
        assert app.is_running and isinstance(app.screen, ExamplesScreen)
