"""F1: the keys of the screen underneath, with what they do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from forge_tui.ui.keys import key_for


def key_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key as shown, what it does [binding id]) for each enabled binding of `screen`, as bound now."""
    keys: list[tuple[str, str]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.description and binding.description not in seen and active.enabled:
            seen.add(binding.description)
            what = f"{binding.description}  [{binding.id}]" if binding.id else binding.description
            keys.append((screen.app.get_key_display(binding), what))
    return keys


def about(screen: Screen[object]) -> str:
    """The screen's help text: its help_text() where it has one (it may name keys), else its HELP."""
    help_text = getattr(screen, "help_text", None)
    text = help_text() if callable(help_text) else getattr(screen, "HELP", "")
    return text if isinstance(text, str) else ""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1", "close", "Close", id="help.close")]

    def __init__(self, title: str, about: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._about = about
        self._keys = keys

    @classmethod
    def for_screen(cls, screen: Screen[object]) -> HelpScreen:
        return cls(screen.title or type(screen).__name__, about(screen), key_rows(screen))

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self._keys), default=0) + 2
        lines = [f"  {key:<{width}}{what}" for key, what in self._keys]
        with VerticalScroll(classes="dialog help"):
            yield Label(f"Help — {self._title}", classes="dialog-title")
            yield Static(self._about, classes="help-about", markup=False)
            yield Static("\n".join(lines) or "No keys here.", classes="help-keys", markup=False)
            yield Static(f"Press {key_for(self, 'close')} to close this help.", classes="dim", id="help-close")

    def action_close(self) -> None:
        self.dismiss(None)
