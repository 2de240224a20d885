"""F1: the keys of the screen underneath, with what they do."""

from __future__ import annotations

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static

from forge_tui.i18n import N_, _
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.wrapped_static import WrappedStatic


def key_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key as shown, what it does [binding id]) for each enabled binding of `screen`, as bound now;
    descriptions translated."""
    keys: list[tuple[str, str]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.description and binding.description not in seen and active.enabled:
            seen.add(binding.description)
            description = _(binding.description)
            what = f"{description}  [{binding.id}]" if binding.id else description
            keys.append((screen.app.get_key_display(binding), what))
    return keys


def about(screen: Screen[object]) -> str:
    """The screen's help text: its help_text() where it has one (it may name keys, and translates
    itself), else its HELP (a message id)."""
    help_text = getattr(screen, "help_text", None)
    if callable(help_text):
        text = help_text()
        return text if isinstance(text, str) else ""
    text = getattr(screen, "HELP", "")
    return _(text) if isinstance(text, str) and text else ""


def title_of(screen: Screen[object]) -> str:
    """A screen's title (a message id: TITLE = N_("Unlock")), translated."""
    return _(screen.title) if screen.title else type(screen).__name__


def key_lines(keys: list[tuple[str, str]]) -> str:
    """Keys padded to one column by their width in cells (a key name may be wide)."""
    width = max((cell_len(k) for k, _what in keys), default=0) + 2
    return "\n".join(f"  {key}{' ' * (width - cell_len(key))}{what}" for key, what in keys)


class HelpScreen(Localized, ModalScreen[None]):
    BINDINGS = [Binding("escape,f1", "close", N_("Close"), id="help.close")]

    def __init__(self, screen: Screen[object]) -> None:
        super().__init__()
        self._screen = screen

    @classmethod
    def for_screen(cls, screen: Screen[object]) -> HelpScreen:
        return cls(screen)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Label(classes="dialog-title", id="help-title", markup=False)
            yield WrappedStatic(classes="help-about")
            yield Static(classes="help-keys", markup=False)
            yield Static(classes="dim", id="help-close")

    def draw_text(self) -> None:
        """On mount and after a language switch: the title, the text and the keys of the screen underneath."""
        self.query_one("#help-title", Label).update(_("Help — {screen}").format(screen=title_of(self._screen)))
        self.query_one(".help-about", WrappedStatic).update(about(self._screen))
        keys = key_rows(self._screen)
        self.query_one(".help-keys", Static).update(key_lines(keys) or _("No keys here."))
        self.query_one("#help-close", Static).update(
            _("Press {key} to close this help.").format(key=key_for(self, "close"))
        )

    def action_close(self) -> None:
        self.dismiss(None)
