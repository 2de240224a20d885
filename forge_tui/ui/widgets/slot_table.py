"""A template's slots as a table: Enter edits one in the SlotEditor dialog, the remove key drops one.
The table holds the slots being edited and posts Changed when they change."""

from __future__ import annotations

from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from forge_tui.core.templates import SlotDef
from forge_tui.i18n import N_
from forge_tui.ui.dialogs.slot_editor import SlotEditor
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.table_headers import LocalizedTable


class SlotTable(LocalizedTable):
    BINDINGS = [Binding("delete", "remove_slot", N_("Remove slot"), id="templates.remove_slot", show=False)]
    HEADERS = (
        (N_("Slot"), "Slot"),
        (N_("Description"), "Description"),
        (N_("Default"), "Default"),
        (N_("Values"), "Values"),
    )

    class Changed(Message):
        """A slot was added, edited or removed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.slots: list[SlotDef] = []

    def on_mount(self) -> None:
        self.add_headers()

    def show(self, slots: list[SlotDef]) -> None:
        self.slots = list(slots)
        self._fill()

    def _fill(self) -> None:
        self.clear()
        for slot in self.slots:
            values = str(len(slot.values) or "")
            self.add_row(slot.name, shown_cell(slot.description), shown_cell(slot.default), values, key=slot.name)
        self.display = bool(self.slots)

    def _changed(self) -> None:
        self._fill()
        self.post_message(self.Changed())

    async def add(self) -> SlotDef | None:
        """Asks for a new slot (run from a worker); returns it once added, or None."""
        slot = await self.app.push_screen_wait(SlotEditor(None, {s.name for s in self.slots}))
        if slot is not None:
            self.slots.append(slot)
            self._changed()
        return slot

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self._edit(event.cursor_row)

    @work(exclusive=True, group="slot-edit")
    async def _edit(self, index: int) -> None:
        old = self.slots[index]
        slot = await self.app.push_screen_wait(SlotEditor(old, {s.name for s in self.slots} - {old.name}))
        if slot is not None:
            self.slots[index] = slot
            self._changed()

    def action_remove_slot(self) -> None:
        if self.slots:
            del self.slots[self.cursor_row]
            self._changed()
