"""Edit a card's answer (and its tool calls as JSON). The edit stays in the card until it is added."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TLabel
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

# Applies the edit (answer, tool-call JSON or None) and raises ForgeError with the reason it is refused.
Apply = Callable[[str, str | None], None]


class CardEditor(Localized, ModalScreen[bool]):
    """`title` is shown as given (translated by the caller)."""

    BINDINGS = [
        Binding("ctrl+s", "accept", N_("Keep edit"), id="card_editor.keep"),
        Binding("escape", "cancel", N_("Cancel"), id="card_editor.cancel"),
    ]

    def __init__(self, title: str, answer: str, tool_calls: str | None, apply: Apply) -> None:
        super().__init__()
        self._title = title
        self._answer = answer
        self._tool_calls = tool_calls
        self._apply = apply
        self._problem: Callable[[], str] = str

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog card-editor"):
            yield PlainLabel(self._title, classes="dialog-title")
            yield TLabel(N_("Answer"))
            yield TextArea(self._answer, id="edit-answer", soft_wrap=True)
            if self._tool_calls is not None:
                yield TLabel(
                    N_("Tool calls: {shape}, checked against the tools' schemas"),
                    shape='[{"name": …, "arguments": {…}}]',
                )
                yield TextArea(self._tool_calls, id="edit-tool-calls", soft_wrap=True)
            yield PlainStatic("", classes="error", id="edit-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._keep_label(), variant="primary", id="keep", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _keep_label(self) -> str:
        return _("Keep edit ({key})").format(key=key_for(self, "accept"))

    def draw_text(self) -> None:
        self.query_one("#keep", Button).label = self._keep_label()
        self.query_one("#edit-error", Static).update(self._problem())

    def on_mount(self) -> None:
        editor = self.query_one("#edit-answer", TextArea)
        editor.move_cursor(editor.document.end)  # most edits finish or trim the answer's end
        editor.focus()

    @on(Button.Pressed, "#keep")
    def action_accept(self) -> None:
        answer = self.query_one("#edit-answer", TextArea).text
        calls = self.query_one("#edit-tool-calls", TextArea).text if self._tool_calls is not None else None
        try:
            self._apply(answer, calls)
        except ForgeError as exc:
            reason = str(exc)
            self._problem = lambda: _("Not kept: {reason}").format(reason=reason)
            self.draw_text()
            return
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
