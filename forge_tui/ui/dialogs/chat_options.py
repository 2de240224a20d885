"""The Playground's options: model, system prompt, temperature and seed. Returns the changed options."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Static, TextArea

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import N_, _
from forge_tui.services.playground import ChatOptions
from forge_tui.ui.dialogs.common import crop
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TInput, TLabel
from forge_tui.ui.widgets.plain import PlainStatic

MODELS_SHOWN = 140  # cells of the endpoints' model names listed under the field (two lines at 80 columns)


class ChatOptionsDialog(Localized, ModalScreen[ChatOptions | None]):
    BINDINGS = [
        Binding("ctrl+s", "accept", N_("Apply"), id="chat_options.apply"),
        Binding("escape", "cancel", N_("Cancel"), id="chat_options.cancel"),
    ]

    def __init__(self, options: ChatOptions, models: list[str]) -> None:
        """`models`: the names the endpoints serve, suggested as the model's name is typed."""
        super().__init__()
        self._options = options
        self._models = models

    def compose(self) -> ComposeResult:
        options = self._options
        with Vertical(classes="dialog chat-options"):
            yield TLabel(N_("Chat options"), classes="dialog-title")
            yield TLabel(N_("Model"))
            suggest = SuggestFromList(self._models, case_sensitive=False) if self._models else None
            yield Input(options.model, id="chat-model", compact=True, suggester=suggest)
            if self._models:
                yield PlainStatic(crop(", ".join(self._models), MODELS_SHOWN), classes="dim", id="chat-models")
            yield TLabel(N_("Temperature · seed (empty: random)"))
            with Horizontal(classes="chat-numbers"):
                temperature = "" if options.temperature is None else f"{options.temperature:g}"
                yield Input(temperature, id="chat-temperature", compact=True)
                seed = "" if options.seed is None else str(options.seed)
                yield TInput(seed, placeholder=N_("random"), id="chat-seed", compact=True)
            yield TLabel(N_("System prompt"))
            yield TextArea(options.system_prompt, id="chat-system", soft_wrap=True)
            yield PlainStatic("", classes="error", id="chat-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._apply_label(), variant="primary", id="apply", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _apply_label(self) -> str:
        return _("Apply ({key})").format(key=key_for(self, "accept"))

    def draw_text(self) -> None:
        self.query_one("#apply", Button).label = self._apply_label()

    def on_mount(self) -> None:
        self.query_one("#chat-model", Input).focus()

    @on(Button.Pressed, "#apply")
    def action_accept(self) -> None:
        try:
            options = self._read()
        except InvalidInput as exc:
            self.query_one("#chat-error", Static).update(str(exc))
            return
        self.dismiss(options)

    def _read(self) -> ChatOptions:
        model = self.query_one("#chat-model", Input).value.strip()
        if not model:
            raise InvalidInput(_("Name the model to chat with."))
        temperature = _number(self.query_one("#chat-temperature", Input).value, _("The temperature must be a number."))
        if temperature is not None and not 0 <= temperature <= 2:
            raise InvalidInput(_("The temperature is between 0 and 2."))
        seed = _number(self.query_one("#chat-seed", Input).value, _("The seed must be a whole number."))
        if seed is not None and seed != int(seed):
            raise InvalidInput(_("The seed must be a whole number."))
        return replace(
            self._options,
            model=model,
            temperature=float(temperature) if temperature is not None else None,
            seed=int(seed) if seed is not None else None,
            system_prompt=self.query_one("#chat-system", TextArea).text.strip(),
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(text: str, problem: str) -> Decimal | None:
    """The number typed (exact, so a long seed keeps every digit); None when empty."""
    text = text.strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise InvalidInput(problem) from None
    if not number.is_finite():
        raise InvalidInput(problem)
    return number
