"""The Export screen's trainer bundle at 80×24: its key opens the trainer list, then the folder (a
suggestion beside the export's destination); the bundle is written and its summary shown; a folder
that is not empty is replaced only after a yes."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input, OptionList

from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.screens.export import ExportScreen
from tests.ui.helpers import fill, open_export, static_text, wait_for_screen, wait_until


async def test_bundle_from_the_export_screen(home: Home, tmp_path: Path) -> None:
    fill(home, 6)
    target = tmp_path / "mlx"
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_export(pilot)
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, PickOne)
        options = app.screen.query_one(OptionList)
        options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)].index("mlx-lm")
        await pilot.press("enter")
        await wait_for_screen(pilot, TextPrompt)
        field = app.screen.query_one(Input)
        assert field.value.endswith("default-mlx-lm")  # beside the export's destination
        field.value = str(target)
        await pilot.press("enter")
        await wait_for_screen(pilot, Confirm)  # train now?
        await pilot.press("n")
        await wait_for_screen(pilot, ExportScreen)
        await wait_until(pilot, lambda: static_text(screen, "#export-result").startswith("Wrote"))
        assert "mlx-lm bundle (sft, 6 records)" in static_text(screen, "#export-result")
        manifest = json.loads((target / "forge-bundle.json").read_text(encoding="utf-8"))
        assert manifest["trainer"] == "mlx-lm" and manifest["examples"] == 6
        assert (target / "data" / "valid.jsonl").is_file()

        (target / "note.txt").write_text("mine", encoding="utf-8")
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("enter")  # the first trainer: TRL
        await wait_for_screen(pilot, TextPrompt)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")
        await wait_until(pilot, lambda: static_text(screen, "#export-result") == "Nothing written.")
        assert (target / "note.txt").exists()
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("enter")
        await wait_for_screen(pilot, TextPrompt)
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, Confirm)  # train now? (a second question, after the replace)
        await pilot.press("n")
        await wait_until(pilot, lambda: "trl bundle (sft, 6 records)" in static_text(screen, "#export-result"))
        assert not (target / "note.txt").exists() and (target / "sft_config.yaml").is_file()
