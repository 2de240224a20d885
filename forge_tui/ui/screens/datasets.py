"""Datasets (`d`): create, switch, rename, archive/unarchive, show archived, verify."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from forge_tui.core.errors import ForgeError
from forge_tui.core.models import DatasetInfo, check_dataset_name
from forge_tui.services.dataset_filter import DatasetFilterService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset
from forge_tui.ui.dataset_op_runs import run_operation
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.dialogs.dataset_ops import OPERATIONS, DatasetOpDialog
from forge_tui.ui.dialogs.dataset_stats import DatasetStatsPanel
from forge_tui.ui.dialogs.import_flow import ImportFlow
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.field_checks import PassesCheck
from forge_tui.ui.messages import DatasetsChanged, DatasetSwitched, SwitchDataset
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader


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
        Binding("o", "operations", "Merge/sample/split", id="datasets.operations"),
        Binding("S", "stats", "Stats", id="datasets.stats"),
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

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select_id if select_id is not None else self._selected_id()
        current = current_dataset(self)
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
        archived_note = "showing archived" if self.show_archived else self._archived_hidden()
        self.query_one("#datasets-summary", Static).update(
            f"{len(self._rows)} dataset{'s' if len(self._rows) != 1 else ''} · {archived_note}"
        )

    def _archived_hidden(self) -> str:
        key = self.key("toggle_archived")
        return f"archived hidden ({key} shows them)" if key else "archived hidden"

    def _changed(self, select_id: int) -> None:
        """After a create, rename, archive or import: the list again, and the app told."""
        self.reload(select_id)
        self.post_message(DatasetsChanged())

    def _selected(self) -> DatasetInfo | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row < 0 or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    def _selected_id(self) -> int | None:
        selected = self._selected()
        return selected.id if selected else None

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_switch()

    def action_switch(self) -> None:
        """The app switches and says so; DatasetSwitched then marks the new current one here."""
        selected = self._selected()
        if selected is not None:
            self.post_message(SwitchDataset(selected.id))

    @work(group="dialog")
    async def action_new(self) -> None:
        name = await self.app.push_screen_wait(
            TextPrompt("Name of the new dataset", validators=[PassesCheck(check_dataset_name)])
        )
        if not name:
            return
        created = self.report("create", lambda: self.workspace.datasets.create(name))
        if created:
            self._changed(created.id)
            # The table's own enter switches too, whatever the screen's binding is remapped to.
            self.notify(f"Created '{created.name}'. Press {self.key('switch') or 'enter'} to switch to it.")

    @work(group="dialog")
    async def action_rename(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        new_name = await self.app.push_screen_wait(
            TextPrompt(
                f"Rename '{selected.name}' to", value=selected.name, validators=[PassesCheck(check_dataset_name)]
            )
        )
        if not new_name or new_name == selected.name:
            return
        renamed = self.report("rename", lambda: self.workspace.datasets.rename(selected.id, new_name))
        if renamed:
            self._changed(renamed.id)

    def action_archive(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        changed = self.report(
            "archive", lambda: self.workspace.datasets.set_archived(selected.id, not selected.archived)
        )
        if changed:
            self._changed(changed.id)
            verb = "Archived" if changed.archived else "Unarchived"
            key = self.key("toggle_archived")
            hint = f" ({key} shows archived datasets)" if changed.archived and not self.show_archived and key else ""
            self.notify(f"{verb} '{changed.name}'{hint}.")

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.reload()

    @work(group="import", exclusive=True)
    async def action_import(self) -> None:
        selected = self._selected()
        if selected is not None and await ImportFlow(self.app, self.workspace.examples, selected).run():
            self._changed(selected.id)

    @work(group="dialog")
    async def action_operations(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        kind = await self.app.push_screen_wait(PickOne(f"With '{selected.name}'", list(OPERATIONS.items())))
        if kind is None:
            return
        request = await self.app.push_screen_wait(DatasetOpDialog(kind, selected.name))
        if request is None:
            return
        written = await run_operation(self, self.workspace, request)
        if written:
            self._changed(selected.id)
            self.notify(
                " ".join(f"'{w.dataset}': {w.examples} examples." for w in written), title=f"{kind.title()} done"
            )

    @work(group="stats", exclusive=True)
    async def action_stats(self) -> None:
        """The selected dataset's counts and distributions (every example is opened, in a thread)."""
        selected = self._selected()
        if selected is None:
            return
        service = DatasetFilterService(self.workspace.examples)
        stats = await self.report_async("count", lambda: service.stats_of(selected.id, selected.name))
        if stats is not None:
            await self.app.push_screen(DatasetStatsPanel(stats))

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
