"""Datasets (`d`): create, switch, rename, archive/unarchive, show archived, verify."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from forge_tui.core.errors import ForgeError
from forge_tui.core.models import DatasetInfo, check_dataset_name
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.dataset_filter import DatasetFilterService
from forge_tui.services.documents import DocumentService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset
from forge_tui.ui.dataset_op_runs import run_operation
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.dialogs.dataset_ops import OPERATIONS, DatasetOpDialog
from forge_tui.ui.dialogs.dataset_stats import DatasetStatsPanel
from forge_tui.ui.dialogs.documents import DocumentsView
from forge_tui.ui.dialogs.import_flow import ImportFlow
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.field_checks import PassesCheck
from forge_tui.ui.localized import Localized
from forge_tui.ui.messages import DatasetsChanged, DatasetSwitched, SwitchDataset
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.table_labels import label_columns
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader

COLUMNS = {
    "name": N_("Name"),
    "examples": N_("Examples"),
    "description": N_("Description"),
    "created": N_("Created"),
    "state": N_("State"),
}

OPERATION_DONE = {"merge": N_("Merge done"), "sample": N_("Sample done"), "split": N_("Split done")}


class DatasetsScreen(Localized, WorkspaceScreen):
    TITLE = N_("Datasets")
    HELP = N_(
        "Every example lives in a dataset. The current dataset (marked ●) is where new examples go "
        "and what the other screens show. Archiving hides a dataset; nothing is deleted."
    )
    BINDINGS = [
        Binding("enter", "switch", N_("Switch to"), id="datasets.switch"),
        Binding("n", "new", N_("New"), id="datasets.new"),
        Binding("r", "rename", N_("Rename"), id="datasets.rename"),
        Binding("a", "archive", N_("Archive"), id="datasets.archive"),
        Binding("h", "toggle_archived", N_("Archived"), id="datasets.show_archived"),
        Binding("v", "verify", N_("Verify"), id="datasets.verify"),
        Binding("i", "import", N_("Import"), id="datasets.import"),
        Binding("o", "operations", N_("Merge/sample/split"), id="datasets.operations"),
        Binding("S", "stats", N_("Stats"), id="datasets.stats"),
        Binding("D", "documents", N_("Documents"), id="datasets.documents"),
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
        for key, label in COLUMNS.items():
            table.add_column(_(label), key=key)
        self.reload()
        table.focus()

    def draw_text(self) -> None:
        """The headers, the rows' states and the summary in the current language (the cursor stays)."""
        table = self.query_one(DataTable)
        if table.columns:
            label_columns(table, COLUMNS)
            self.reload()

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        table = self.query_one(DataTable)
        keep = select_id if select_id is not None else self._selected_id()
        current = current_dataset(self)
        self._rows = self.workspace.datasets.list(include_archived=self.show_archived)
        table.clear()
        for ds in self._rows:
            states = ((_("archived"), ds.archived), (_("sealed: old key"), not ds.readable))
            state = _(", ").join(s for s, on in states if on)
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
        archived_note = _("showing archived") if self.show_archived else self._archived_hidden()
        count = len(self._rows)
        self.query_one("#datasets-summary", Static).update(
            ngettext("{n} dataset · {note}", "{n} datasets · {note}", count).format(n=count, note=archived_note)
        )

    def _archived_hidden(self) -> str:
        key = self.key("toggle_archived")
        return _("archived hidden ({key} shows them)").format(key=key) if key else _("archived hidden")

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
            TextPrompt(_("Name of the new dataset"), validators=[PassesCheck(check_dataset_name)])
        )
        if not name:
            return
        created = self.report(N_("Cannot create"), lambda: self.workspace.datasets.create(name))
        if created:
            self._changed(created.id)
            # The table's own enter switches too, whatever the screen's binding is remapped to.
            key = self.key("switch") or "enter"
            self.notify(_("Created '{name}'. Press {key} to switch to it.").format(name=created.name, key=key))

    @work(group="dialog")
    async def action_rename(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        new_name = await self.app.push_screen_wait(
            TextPrompt(
                _("Rename '{name}' to").format(name=selected.name),
                value=selected.name,
                validators=[PassesCheck(check_dataset_name)],
            )
        )
        if not new_name or new_name == selected.name:
            return
        renamed = self.report(N_("Cannot rename"), lambda: self.workspace.datasets.rename(selected.id, new_name))
        if renamed:
            self._changed(renamed.id)

    def action_archive(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        changed = self.report(
            N_("Cannot archive"), lambda: self.workspace.datasets.set_archived(selected.id, not selected.archived)
        )
        if changed:
            self._changed(changed.id)
            key = self.key("toggle_archived")
            if not changed.archived:
                said = _("Unarchived '{name}'.")
            elif not self.show_archived and key:
                said = _("Archived '{name}' ({key} shows archived datasets).")
            else:
                said = _("Archived '{name}'.")
            self.notify(said.format(name=changed.name, key=key))

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
        # OPERATIONS' labels are message ids (N_) where they are defined.
        operations = [(kind, _(label)) for kind, label in OPERATIONS.items()]
        kind = await self.app.push_screen_wait(PickOne(_("With '{name}'").format(name=selected.name), operations))
        if kind is None:
            return
        request = await self.app.push_screen_wait(DatasetOpDialog(kind, selected.name))
        if request is None:
            return
        written = await run_operation(self, self.workspace, request)
        if written:
            self._changed(selected.id)
            lines = (
                ngettext("'{dataset}': {n} example.", "'{dataset}': {n} examples.", w.examples).format(
                    dataset=w.dataset, n=w.examples
                )
                for w in written
            )
            self.notify(" ".join(lines), title=_(OPERATION_DONE.get(kind, N_("Done"))))

    @work(group="stats", exclusive=True)
    async def action_stats(self) -> None:
        """The selected dataset's counts and distributions (every example is opened, in a thread)."""
        selected = self._selected()
        if selected is None:
            return
        service = DatasetFilterService(self.workspace.examples)
        stats = await self.report_async(N_("Cannot count"), lambda: service.stats_of(selected.id, selected.name))
        if stats is not None:
            await self.app.push_screen(DatasetStatsPanel(stats))

    def action_documents(self) -> None:
        """Documents whose passages ground generation jobs (an account's, not the dataset's)."""
        self.app.push_screen(DocumentsView(DocumentService(self.workspace.home, self.workspace.unlocked)))

    def action_verify(self) -> None:
        selected = self._selected()
        if selected is not None:
            self._verify(selected)

    @work(exclusive=True, group="verify")
    async def _verify(self, dataset: DatasetInfo) -> None:
        self.notify(_("Checking every example of '{name}'…").format(name=dataset.name))
        try:
            report = await asyncio.to_thread(self.workspace.verify, dataset)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot verify"), severity="error")
            return
        values = {"dataset": report.dataset, "total": report.total, "resealed": report.resealed}
        if not report.broken:
            if report.resealed:
                said = _("'{dataset}': all {total} examples open ({resealed} re-sealed to bind their optional fields).")
            else:
                said = _("'{dataset}': all {total} examples open.")
            self.notify(said.format(**values), title=_("Verified"))
            return
        if report.resealed:
            head = _(
                "{broken} of {total} examples cannot be read ({resealed} re-sealed to bind their optional fields):"
            )
        else:
            head = _("{broken} of {total} examples cannot be read:")
        shown = "\n".join(b.reason for b in report.broken[:3])
        more = "\n" + _("…and {n} more").format(n=len(report.broken) - 3) if len(report.broken) > 3 else ""
        self.notify(
            head.format(broken=len(report.broken), **values) + "\n" + shown + more,
            title=_("'{dataset}' has damaged rows").format(dataset=report.dataset),
            severity="error",
            timeout=30,
        )
