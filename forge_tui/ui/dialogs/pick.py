"""Choose one item from a list (history of system prompts, slots to insert)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from forge_tui.i18n import N_
from forge_tui.ui.localized import TStatic
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.plain import PlainLabel


class PickOne(ModalScreen[str | None]):
    """Dismisses with the chosen option's id, or None. `title` and the option labels are shown as given
    (translated by the caller); `hint` is a message id (N_); `highlighted` the id the cursor starts on."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="pick.cancel")]

    def __init__(
        self, title: str, options: list[tuple[str, str]], hint: str = "", highlighted: str | None = None
    ) -> None:
        super().__init__()
        self._title = title
        self._options = options
        self._hint = hint
        self._highlighted = highlighted

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog pick"):
            yield PlainLabel(self._title, classes="dialog-title")
            yield OptionList(*[Option(shown_markup(label), id=key) for key, label in self._options], id="pick-list")
            yield TStatic(self._hint or N_("Enter chooses · Escape cancels"), classes="dim")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [key for key, _label in self._options]
        if self._highlighted in ids:
            options.highlighted = ids.index(self._highlighted)
        options.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
