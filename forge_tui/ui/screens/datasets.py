"""Datasets (`d`): create, switch, rename, archive/unarchive, show archived, verify."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from forge_tui.core.errors import ForgeError
from forge_tui.core.models import DatasetInfo, check_dataset_name
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.messages import DatasetsChanged
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.import_flow import ImportFlow


def _name_problem(value: str) -> str | None:
    try:
        check_dataset_name(value)
    except ForgeError as exc:
        return str(exc)
    return None


class DatasetsScreen(WorkspaceScreen):
    TITLE = "Datasets"
    HELP = (
        "Every example lives in a dataset. The current dataset (marked ●) is where new examples go "
        "and what the other screens show. Archiving hides a dataset; nothing is deleted."
    )
    BINDINGS = [
        Binding("enter", "switch", "Switch to", id="datasets.switch"),
        Binding("n", "new", "New", id="datasets.new"),
        Binding("r", "rename", "Rename", id="datasets.rename"),
        Binding("a", "archive", "Archive", id="datasets.archive"),
        Binding("h", "toggle_archived", "Archived", id="datasets.show_archived"),
        Binding("v", "verify", "Verify", id="datasets.verify"),
        Binding("i", "import", "Import", id="datasets.import"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.show_archived = False
        self._rows: list[DatasetInfo] = []

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield Static("", id="datasets-summary", classes="dim")
        yield DataTable(id="datasets-table", cursor_type="row", zebra_stripes=True)
        yield ForgeFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column(" ", key="current", width=1)
        table.add_column("Name", key="name")
        table.add_column("Examples", key="examples")
        table.add_column("Description", key="description")
        table.add_column("Created", key="created")
        table.add_column("State", key="state")
        self.reload()
        table.focus()

    def reload(self, select_id: int | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select_id if select_id is not None else self._selected_id()
        current = self.workspace.datasets.current()
        self._rows = self.workspace.datasets.list(include_archived=self.show_archived)
        table.clear()
        for ds in self._rows:
            state = ", ".join(s for s, on in (("archived", ds.archived), ("sealed: old key", not ds.readable)) if on)
            table.add_row(
                "●" if current is not None and ds.id == current.id else "",
                shown_cell(ds.name),
                str(ds.example_count),
                shown_cell(ds.description),
                ds.created_at.strftime("%Y-%m-%d"),
                state,
                key=str(ds.id),
            )
        for index, ds in enumerate(self._rows):
            if ds.id == keep:
                table.move_cursor(row=index)
        archived_note = "showing archived" if self.show_archived else "archived hidden (h shows them)"
        self.query_one("#datasets-summary", Static).update(
            f"{len(self._rows)} dataset{'s' if len(self._rows) != 1 else ''} · {archived_note}"
        )
        self.post_message(DatasetsChanged())

    def _selected(self) -> DatasetInfo | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    def _selected_id(self) -> int | None:
        selected = self._selected()
        return selected.id if selected else None

    def _attempt(self, action_name: str, fn: Callable[[], DatasetInfo]) -> DatasetInfo | None:
        try:
            return fn()
        except ForgeError as exc:
            self.notify(str(exc), title=f"Cannot {action_name}", severity="error")
            return None

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        switched = self._attempt("switch", lambda: self.workspace.datasets.switch(selected.id))
        if switched:
            self.reload(switched.id)
            self.notify(f"Now working in '{switched.name}'.")

    async def action_new(self) -> None:
        self.app.push_screen(TextPrompt("Name of the new dataset", check=_name_problem), self._create)

    def _create(self, name: str | None) -> None:
        if not name:
            return
        created = self._attempt("create", lambda: self.workspace.datasets.create(name))
        if created:
            self.reload(created.id)
            self.notify(f"Created '{created.name}'. Press Enter to switch to it.")

    def action_rename(self) -> None:
        selected = self._selected()
        if selected is None:
            return

        def rename(new_name: str | None) -> None:
            if not new_name or new_name == selected.name:
                return
            renamed = self._attempt("rename", lambda: self.workspace.datasets.rename(selected.id, new_name))
            if renamed:
                self.reload(renamed.id)

        self.app.push_screen(
            TextPrompt(f"Rename '{selected.name}' to", value=selected.name, check=_name_problem), rename
        )

    def action_archive(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        changed = self._attempt(
            "archive", lambda: self.workspace.datasets.set_archived(selected.id, not selected.archived)
        )
        if changed:
            self.reload(changed.id)
            verb = "Archived" if changed.archived else "Unarchived"
            hint = " (h shows archived datasets)" if changed.archived and not self.show_archived else ""
            self.notify(f"{verb} '{changed.name}'{hint}.")

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.reload()

    def action_import(self) -> None:
        selected = self._selected()
        if selected is None:
            return

        def done(_: object) -> None:
            self.reload(selected.id)

        ImportFlow(self, self.workspace.examples, selected.id, selected.name, done).start()

    def action_verify(self) -> None:
        selected = self._selected()
        if selected is not None:
            self._verify(selected)

    @work(exclusive=True, group="verify")
    async def _verify(self, dataset: DatasetInfo) -> None:
        self.notify(f"Checking every example of '{dataset.name}'…")
        try:
            report = await asyncio.to_thread(self.workspace.verify, dataset)
        except ForgeError as exc:
            self.notify(str(exc), title="Cannot verify", severity="error")
            return
        resealed = f" ({report.resealed} re-sealed to bind their optional fields)" if report.resealed else ""
        if not report.broken:
            self.notify(f"'{report.dataset}': all {report.total} examples open{resealed}.", title="Verified")
            return
        shown = "\n".join(b.reason for b in report.broken[:3])
        more = f"\n…and {len(report.broken) - 3} more" if len(report.broken) > 3 else ""
        self.notify(
            f"{len(report.broken)} of {report.total} examples cannot be read{resealed}:\n{shown}{more}",
            title=f"'{report.dataset}' has damaged rows",
            severity="error",
            timeout=30,
        )
