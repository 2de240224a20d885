"""F1: the keys of the screen underneath, with what they do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1", "close", "Close", id="help.close")]

    def __init__(self, title: str, about: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._about = about
        self._keys = keys

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self._keys), default=0) + 2
        lines = [f"  {key:<{width}}{what}" for key, what in self._keys]
        with VerticalScroll(classes="dialog help"):
            yield Label(f"Help — {self._title}", classes="dialog-title")
            yield Static(self._about, classes="help-about", markup=False)
            yield Static("\n".join(lines) or "No keys here.", classes="help-keys", markup=False)
            yield Static("Escape closes this help.", classes="dim")

    def action_close(self) -> None:
        self.dismiss(None)
