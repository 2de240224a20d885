"""Examples (`e`): the current dataset as a table, opened a page at a time; detail and edit,
select and delete (with undo until you leave), search, import."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.errors import ForgeError
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent
from forge_tui.services.examples import BrokenExample
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.keys import key_for
from forge_tui.ui.messages import DatasetSwitched, Regenerate
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.example_table import DatasetSource, ExampleTable, ListSource
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.import_flow import ImportFlow
from forge_tui.ui.widgets.plain import PlainStatic

SEARCH_BATCH = 200
# How the status line names each desirability filter (f cycles them).
FILTER_LABELS = {
    DesirabilityFilter.ALL: "all examples",
    DesirabilityFilter.DESIRABLE: "desirable (✓)",
    DesirabilityFilter.UNDESIRABLE: "undesirable (✗)",
    DesirabilityFilter.UNLABELLED: "unlabelled",
}


class ExamplesScreen(WorkspaceScreen):
    TITLE = "Examples"
    HELP = (
        "The current dataset, a row per example. Enter opens one (edit, then ctrl+s saves). space "
        "selects a row, shift+up/down extends the selection, ctrl+a selects all; delete removes the "
        "selected rows (u puts them back until you leave this screen); ctrl+r sends them to Audition to be "
        "answered again (star the new answers and add them). / searches every field of every "
        "example (matches appear while the scan goes on; escape returns to the whole dataset). i imports "
        "a file (JSONL, JSON, CSV, TSV, Parquet). c copies the example under the cursor as JSON; in the "
        "detail view alt+c copies the whole focused field (ctrl+c copies a selection). The kto column shows "
        "each example's desirability for KTO (✓ desirable, ✗ undesirable, blank: not labelled; set it in the "
        "detail view); f shows all examples, then only desirable, undesirable or unlabelled ones."
    )
    BINDINGS = [
        Binding("slash", "search", "Search", id="examples.search"),
        Binding("ctrl+a", "select_all", "Select all", id="examples.select_all"),
        Binding("delete", "delete", "Delete", id="examples.delete"),
        Binding("u", "undo", "Undo delete", id="examples.undo"),
        Binding("i", "import", "Import", id="examples.import"),
        Binding("c", "copy", "Copy", id="examples.copy"),
        Binding("ctrl+r", "regenerate", "Regenerate", id="examples.regenerate"),
        Binding("f", "cycle_desirability", "✓✗ filter", id="examples.desirability_filter"),
        Binding("escape", "clear", "Whole dataset", id="examples.clear"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._undo: list[list[dict[str, Any]]] = []
        self._searching = ""
        self._search_done = False
        self._search_damaged = 0  # rows the search met that cannot be read (listed with the matches)
        self._status_text = ""
        self.wanted = DesirabilityFilter.ALL
        self._filter_key = ""  # its key as the bindings give it, looked up once (the status line follows the cursor)
        dataset = workspace.datasets.current()
        self.dataset_id: int | None = dataset.id if dataset else None
        self.dataset_name = dataset.name if dataset else ""

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        # Interim: open again on the new dataset (issue 15 makes this screen show it in place).
        if self.is_current:
            self.app.switch_screen(ExamplesScreen(self.workspace))

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield PlainStatic("", id="examples-status")
        yield Input(placeholder="search every field — enter to search, escape to go back", id="examples-search")
        yield ExampleTable(self._dataset_source(), id="examples-table")
        yield ForgeFooter()

    def _dataset_source(self) -> DatasetSource:
        examples, dataset_id, wanted = self.workspace.examples, self.dataset_id, self.wanted

        def count() -> int:
            return examples.count(dataset_id, wanted) if dataset_id is not None else 0

        def window(offset: int, limit: int) -> list[Any]:
            return examples.window(dataset_id, offset, limit, wanted=wanted) if dataset_id is not None else []

        return DatasetSource(count, window)

    @property
    def table(self) -> ExampleTable:
        return self.query_one(ExampleTable)

    def on_mount(self) -> None:
        self.query_one("#examples-search", Input).display = False
        self.table.reload()
        self.table.focus()
        self._status()

    def on_unmount(self) -> None:
        self._undo.clear()  # deletes become final when you leave

    def _status(self) -> None:
        table = self.table
        if self.dataset_id is None:
            text = "There is no current dataset: make one on the Datasets screen (d)."
        elif self._searching:
            state = "search finished; escape shows all" if self._search_done else "searching…"
            damaged = self._search_damaged
            found = f"{table.total - damaged} matching" + (f", {damaged} damaged (not searched)" if damaged else "")
            text = f"'{self._searching}': {found}{self._filtered()} in '{self.dataset_name}' ({state})"
        else:
            text = f"'{self.dataset_name}': {table.total}{self._filtered()} example{'s' if table.total != 1 else ''}"
        if self.dataset_id is not None:
            key = self._filter_key = self._filter_key or key_for(self, "cycle_desirability")
            if key and self.wanted is DesirabilityFilter.ALL:
                text += f" · {key} filters ✓/✗"
            elif key:
                text += f" · {key}: {FILTER_LABELS[self.wanted.cycled()]}"
        if table.selected:
            text += f" · {len(table.selected)} selected (delete removes them)"
        if self._undo:
            text += " · u undoes the last delete"
        if text != self._status_text:  # Static.update lays out again even for the same text; the cursor moves often
            self._status_text = text
            self.query_one("#examples-status", Static).update(text)

    def _filtered(self) -> str:
        return "" if self.wanted is DesirabilityFilter.ALL else f" {FILTER_LABELS[self.wanted]}"

    def action_cycle_desirability(self) -> None:
        """All examples, then only the desirable, the undesirable, the unlabelled ones (KTO)."""
        if self.dataset_id is None:
            return
        self.wanted = self.wanted.cycled()
        self.table.selected.clear()
        if self._searching:
            self._restart_search(self._searching)
        else:
            self.table.reload(self._dataset_source(), keep_cursor=False)
        self._status()

    @on(ExampleTable.Moved)
    def _moved(self) -> None:
        self._status()

    # --- detail -----------------------------------------------------------------------------------
    @on(ExampleTable.Opened)
    def _open(self, event: ExampleTable.Opened) -> None:
        try:
            example = self.workspace.examples.get(event.example_id)
        except ForgeError as exc:
            self.notify(str(exc), severity="error")
            return

        def save(ex: Example, content: ExampleContent, desirability: bool | None) -> Example:
            return self.workspace.examples.update(ex, content, desirability)

        def closed(saved: Example | None) -> None:
            if saved is not None:
                self.table.reload()

        self.app.push_screen(ExampleDetail(example, save), closed)

    def action_copy(self) -> None:
        """The example under the cursor as JSON (every field), to the clipboard (OSC 52 in a
        terminal, the browser's clipboard under serve)."""
        view = self.table.current()
        if view is None:
            return
        try:
            example = self.workspace.examples.get(view.id)
        except ForgeError as exc:
            self.notify(str(exc), severity="error")
            return
        record = next(FORMATS["raw"].render(example))
        text = json.dumps(record, indent=2, ensure_ascii=False, default=str)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied example {self.table.cursor + 1} as JSON ({len(text):,} characters).")

    # --- selection and delete -----------------------------------------------------------------------
    def action_select_all(self) -> None:
        table = self.table
        if isinstance(table.source, ListSource):
            table.selected = {e.id for e in table.source.items}
        elif self.dataset_id is not None:
            table.selected = set(self.workspace.examples.ids(self.dataset_id, self.wanted))
        table.refresh()
        self._status()

    def action_delete(self) -> None:
        table = self.table
        doomed = table.chosen_ids()
        if not doomed or self.dataset_id is None:
            return
        dataset_id = self.dataset_id

        def answer(yes: bool | None) -> None:
            if not yes:
                return
            removed = self.workspace.examples.delete(dataset_id, doomed)
            self._undo.append(removed)
            table.selected.clear()
            if isinstance(table.source, ListSource):
                gone = set(doomed)
                table.source.items = [e for e in table.source.items if e.id not in gone]
            table.reload()
            self._status()
            self.notify(f"Deleted {len(removed)} example{'s' if len(removed) != 1 else ''}; u undoes it.")

        count = len(doomed)
        self.app.push_screen(Confirm(f"Delete {count} example{'s' if count != 1 else ''}?", yes="Delete"), answer)

    def action_undo(self) -> None:
        if not self._undo:
            self.notify("Nothing to undo.")
            return
        removed = self._undo.pop()
        self.workspace.examples.undo_delete(removed)
        if self._searching:
            self.action_clear()
        self.table.reload()
        self._status()
        self.notify(f"Put back {len(removed)} example{'s' if len(removed) != 1 else ''}.")

    # --- regenerate --------------------------------------------------------------------------------------
    def action_regenerate(self) -> None:
        """The selected examples (or the one under the cursor) go to Audition as cards to ask again."""
        chosen = self.table.chosen_ids()
        if not chosen or self.dataset_id is None:
            return
        if len(chosen) > 64:
            self.notify(f"{len(chosen)} selected: regenerate takes up to 64 at a time.", severity="warning")
            return
        found = [e for e in self.workspace.examples.open_ids(self.dataset_id, chosen) if isinstance(e, Example)]
        self.post_message(Regenerate(found))

    # --- search -----------------------------------------------------------------------------------------
    def action_search(self) -> None:
        search = self.query_one("#examples-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#examples-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.action_clear()
            return
        self._restart_search(text)

    def _restart_search(self, text: str) -> None:
        self._searching = text
        self._search_done = False
        self._search_damaged = 0
        source = ListSource()
        self.table.selected.clear()
        self.table.reload(source, keep_cursor=False)
        self.table.focus()
        self._search(text, source)

    @work(exclusive=True, group="examples-search")
    async def _search(self, text: str, source: ListSource) -> None:
        """Opens every example in a thread, a batch at a time, and shows matches as they come."""
        if self.dataset_id is None:
            return
        found = self.workspace.examples.search(self.dataset_id, text, self.wanted)
        done = False

        def next_batch() -> list[Example | BrokenExample]:
            nonlocal done
            batch: list[Example | BrokenExample] = []
            for example in found:
                batch.append(example)
                if len(batch) >= SEARCH_BATCH:
                    return batch
            done = True
            return batch

        while not done and self._searching == text:
            batch = await asyncio.to_thread(next_batch)
            if self._searching != text:
                break
            damaged = [item for item in batch if isinstance(item, BrokenExample)]
            if damaged and not self._search_damaged:
                self.notify(damaged[0].reason, title="A damaged row was not searched", severity="warning")
            self._search_damaged += len(damaged)
            source.items.extend(batch)
            self.table.reload(keep_cursor=True)
            self._status()
        if self._searching == text:
            self._search_done = True
            self._status()

    def action_clear(self) -> None:
        search = self.query_one("#examples-search", Input)
        if not self._searching and not search.display:
            return
        self._searching = ""
        search.value = ""
        search.display = False
        self.table.selected.clear()
        self.table.reload(self._dataset_source(), keep_cursor=False)
        self.table.focus()
        self._status()

    # --- import ------------------------------------------------------------------------------------------
    def action_import(self) -> None:
        if self.dataset_id is None:
            self.notify("There is no current dataset: make one on the Datasets screen (d).", severity="warning")
            return

        def done(_: object) -> None:
            self.table.reload()
            self._status()

        ImportFlow(self, self.workspace.examples, self.dataset_id, self.dataset_name, done).start()
