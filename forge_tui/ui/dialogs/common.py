"""Small modal dialogs: ask for a line of text, confirm an action, follow long work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from rich.cells import cell_len, set_cell_size
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.validation import Validator
from textual.widgets import Button, Input, ProgressBar, Static

from forge_tui.core.control_chars import escape_controls
from forge_tui.i18n import N_, _
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TInput
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic


def crop(text: str, cells: int) -> str:
    """`text` cut to at most `cells` terminal cells (a CJK character takes two)."""
    return text if cell_len(text) <= cells else set_cell_size(text, cells).rstrip()


class TextPrompt(ModalScreen[str | None]):
    """Asks for one line of text. Enter accepts (when every validator does; else the first failure shows
    under the field), Escape cancels. `title` is shown as given (translated by the caller); `placeholder`
    is a message id (N_), translated here."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel")]

    def __init__(
        self, title: str, value: str = "", placeholder: str = "", validators: Sequence[Validator] = ()
    ) -> None:
        super().__init__()
        self._title = title
        self._value = value
        self._placeholder = placeholder
        self._validators = list(validators)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title, classes="dialog-title")
            # A name stored before names refused control characters comes back with them escaped.
            yield TInput(
                escape_controls(self._value, keep=""),
                placeholder=self._placeholder,
                id="prompt-input",
                validators=self._validators,
                validate_on=["submitted"],
            )
            yield PlainStatic("", classes="error", id="prompt-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("OK"), variant="primary", id="ok")
                yield TButton(N_("Cancel"), id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _accept(self) -> None:
        field = self.query_one("#prompt-input", Input)
        checked = field.validate(field.value)
        if checked is not None and not checked.is_valid:
            reasons = checked.failure_descriptions or [_("That value cannot be used.")]
            self.query_one("#prompt-error", Static).update(reasons[0])
            return
        self.dismiss(field.value)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class Confirm(ModalScreen[bool]):
    """`question` is shown as given (translated by the caller); `yes` and `no` are message ids (N_)."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", N_("No"), id="dialog.no"),
        Binding("y", "answer(True)", N_("Yes"), id="dialog.yes"),
    ]

    def __init__(self, question: str, yes: str = N_("Yes"), no: str = N_("No")) -> None:
        super().__init__()
        self._question = question
        self._yes = yes
        self._no = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainStatic(self._question, classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(self._yes, variant="warning", id="yes")
                yield TButton(self._no, id="no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class WorkProgress(Localized, ModalScreen[None]):
    """Long work in a worker thread: a busy bar, a line of counts, and escape to stop. The owner reports
    with update() (from any thread, through call_from_thread) and closes it with dismiss()."""

    BINDINGS = [Binding("escape", "stop", N_("Stop"), id="progress.stop")]

    def __init__(self, title: str, cancel: threading.Event) -> None:
        super().__init__()
        self._title = title
        self.cancel = cancel
        # What the status line says, drawn again in a new language.
        self._status: Callable[[], str] = lambda: _("Starting…") + self.stops()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title, classes="dialog-title")
            yield ProgressBar(total=None, show_eta=False, id="work-bar")
            yield PlainStatic(self._status(), id="work-status")

    def draw_text(self) -> None:
        self.query_one("#work-status", Static).update(self._status())

    def stops(self) -> str:
        """ " (KEY stops)" with the key bound to stop, as shown, in the language now."""
        key = key_for(self, "stop")
        # TRANSLATORS: added after a progress line, hence the leading space.
        return _(" ({key} stops)").format(key=key) if key else ""

    def update(self, status: str | Callable[[], str]) -> None:
        """The status line: a text, or a callable that writes it (drawn again after a language switch)."""
        self._status = status if callable(status) else (lambda: status)
        self.draw_text()

    def action_stop(self) -> None:
        self.cancel.set()
        self.update(lambda: _("Stopping…"))
