"""Edit one slot: name, description, default value, and values with weights."""

from __future__ import annotations

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Static, TextArea

from forge_tui.core.templates import SlotDef, WeightedValue
from forge_tui.i18n import N_, _
from forge_tui.ui.localized import TButton, TLabel
from forge_tui.ui.widgets.plain import PlainStatic


def format_values(values: list[WeightedValue]) -> str:
    return "\n".join(v.value if v.weight == 1 else f"{v.value} | {v.weight:g}" for v in values)


def parse_values(text: str) -> list[WeightedValue]:
    """One value a line, optionally `value | weight`."""
    values: list[WeightedValue] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        value, sep, weight = raw.rpartition("|")
        if not sep:
            values.append(WeightedValue(value=raw.strip()))
            continue
        try:
            values.append(WeightedValue(value=value.strip(), weight=float(weight)))
        except (ValueError, ValidationError):
            raise ValueError(
                _("values line {number}: the weight after '|' must be a number ≥ 0").format(number=number)
            ) from None
    return values


def _pydantic_message(exc: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())


class SlotName(Validator):
    """A slot name SlotDef accepts, and not one of the template's other slots."""

    def __init__(self, taken: set[str]) -> None:
        super().__init__()
        self._taken = taken

    def validate(self, value: str) -> ValidationResult:
        name = value.strip()
        if name in self._taken:
            return self.failure(_("There is already a slot named '{name}'.").format(name=name))
        try:
            SlotDef(name=name)
        except ValidationError as exc:
            return self.failure(_pydantic_message(exc))
        return self.success()


class SlotEditor(ModalScreen[SlotDef | None]):
    DEFAULT_CSS = """
    SlotEditor TextArea {
        height: 5;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", N_("Cancel"), id="slot.cancel"),
        Binding("ctrl+s", "accept", N_("Done"), id="slot.done"),
    ]

    def __init__(self, slot: SlotDef | None, taken: set[str]) -> None:
        super().__init__()
        self._slot = slot or SlotDef(name="slot")
        self._new = slot is None
        self._taken = taken

    def compose(self) -> ComposeResult:
        slot = self._slot
        with Vertical(classes="dialog"):
            if self._new:
                yield TLabel(N_("New slot"), classes="dialog-title")
            else:
                yield TLabel(N_("Slot '{name}'"), classes="dialog-title", name=slot.name)
            yield TLabel(N_("Name (letters, digits, _)"))
            name = "" if self._new else slot.name
            yield Input(
                name, id="slot-name", compact=True, validators=[SlotName(self._taken)], validate_on=["submitted"]
            )
            yield TLabel(N_("Description"))
            yield Input(slot.description, id="slot-description", compact=True)
            yield TLabel(N_("Default value"))
            yield Input(slot.default, id="slot-default", compact=True)
            yield TLabel(N_("Values for unattended runs: one a line, optionally 'value | weight'"))
            yield TextArea(format_values(slot.values), id="slot-values")
            yield PlainStatic("", classes="error", id="slot-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("Done"), variant="primary", id="done", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    @on(Button.Pressed, "#done")
    @on(Input.Submitted)
    def action_accept(self) -> None:
        name_field = self.query_one("#slot-name", Input)
        name = name_field.value.strip()
        error = self.query_one("#slot-error", Static)
        checked = name_field.validate(name_field.value)
        if checked is not None and not checked.is_valid:
            error.update("; ".join(checked.failure_descriptions))
            return
        try:
            slot = SlotDef(
                name=name,
                description=self.query_one("#slot-description", Input).value.strip(),
                default=self.query_one("#slot-default", Input).value,
                values=parse_values(self.query_one("#slot-values", TextArea).text),
            )
        except ValidationError as exc:
            error.update(_pydantic_message(exc))
            return
        except ValueError as exc:
            error.update(str(exc))
            return
        self.dismiss(slot)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
