"""Documents (from Datasets, `D`) at 80x24: `i` adds a file to a set, the passages show with where each
starts, `r` cuts it again, `delete` removes it after a confirmation; a file that cannot be read is one
toast and nothing is added."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from forge_tui.services.documents import DocumentService
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.documents import AddDocuments, DocumentsView
from tests.ui.helpers import at_datasets, fill, static_text, type_text, wait_for_screen, wait_until
from tests.ui.test_palette import run_command


def _guide(tmp_path: Path) -> Path:
    path = tmp_path / "guide.md"
    sections = "\n\n".join(f"## Part {n}\n\n" + "Green tea is steamed soon after picking. " * 12 for n in range(3))
    path.write_text(f"# Tea\n\n{sections}\n", encoding="utf-8")
    return path


async def _fill_in(pilot: Pilot[None], field: str, text: str) -> None:
    pilot.app.screen.query_one(field, Input).value = text


async def test_add_show_rechunk_and_remove_a_document(home: Home, tmp_path: Path) -> None:
    workspace = fill(home, 0)
    documents = DocumentService(home, workspace.unlocked)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await pilot.press("D")
        await wait_for_screen(pilot, DocumentsView)
        view = app.screen
        assert isinstance(view, DocumentsView)
        assert "press i to add" in static_text(view, "#documents-text")

        await pilot.press("i")
        await wait_for_screen(pilot, AddDocuments)
        await _fill_in(pilot, "#add-tokens", "many")
        await pilot.press("enter")  # refused in the dialog: it stays open, the reason under the fields
        assert static_text(app.screen, "#add-error") == "'many' is not a whole number of tokens."
        await _fill_in(pilot, "#add-path", str(_guide(tmp_path)))
        await _fill_in(pilot, "#add-set", "tea")
        await _fill_in(pilot, "#add-tokens", "64")
        await _fill_in(pilot, "#add-overlap", "8")
        await pilot.press("enter")
        await wait_for_screen(pilot, DocumentsView)
        await wait_until(pilot, lambda: "passage 1 of" in static_text(view, "#documents-text"))
        added = documents.documents("tea")
        assert [(d.name, d.chunk_tokens, d.overlap) for d in added] == [("guide.md", 64, 8)]
        text = static_text(view, "#documents-text")
        assert f"── passage 1 of {added[0].chunks} · line 1 · " in text and "· Part 0" in text
        assert "tea · guide.md" in str(view.query_one("#documents-list", OptionList).get_option_at_index(0).prompt)
        dialog = view.query_one(".documents")
        assert dialog.region.bottom <= 24 and dialog.region.right <= 80

        await pilot.press("r")
        await wait_for_screen(pilot, AddDocuments)
        await _fill_in(pilot, "#add-tokens", "512")
        await _fill_in(pilot, "#add-overlap", "0")
        await pilot.press("enter")
        await wait_for_screen(pilot, DocumentsView)
        await wait_until(pilot, lambda: documents.documents()[0].chunks == 3)
        await wait_until(pilot, lambda: "passage 1 of 3 ·" in static_text(view, "#documents-text"))

        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, DocumentsView)
        await wait_until(pilot, lambda: "press i to add" in static_text(view, "#documents-text"))
        assert documents.documents() == []


async def test_a_file_that_cannot_be_read_adds_nothing(home: Home, tmp_path: Path) -> None:
    workspace = fill(home, 0)
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await pilot.press("D")
        await wait_for_screen(pilot, DocumentsView)
        await pilot.press("i")
        await wait_for_screen(pilot, AddDocuments)
        await type_text(pilot, str(tmp_path / "empty.txt"))
        await pilot.press("enter")
        await wait_for_screen(pilot, DocumentsView)
        await wait_until(pilot, lambda: any("holds no text" in str(n.message) for n in app._notifications))
        assert DocumentService(home, workspace.unlocked).documents() == []


async def test_the_palette_opens_documents(home: Home) -> None:
    fill(home, 0)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await run_command(pilot, "Documents")
        await wait_for_screen(pilot, DocumentsView)
