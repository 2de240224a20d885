"""Save config / Load config of the job dialogs: a name asked for, or one picked from the saved ones
(where one can also be deleted, after a confirmation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.core.job_configs import AnyConfig
from forge_tui.i18n import N_, _
from forge_tui.services.job_configs import JobConfigService
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.shown import shown_markup

Config = TypeVar("Config", bound=AnyConfig)


async def save_as(
    screen: Screen[Any], configs: JobConfigService, name: str, make: Callable[[str], AnyConfig]
) -> str | None:
    """Asks for a name (offering `name`) and saves `make(name)` under it; the name saved, or None."""
    chosen = await screen.app.push_screen_wait(TextPrompt(_("Save configuration as"), name))
    if not chosen:
        return None
    try:
        config = configs.save(make(chosen))
    except ForgeError as exc:
        screen.notify(str(exc), title=_("Not saved"), severity="error")
        return None
    screen.notify(_("Configuration '{name}' saved.").format(name=clip(config.name)))
    return config.name


async def pick(screen: Screen[Any], configs: JobConfigService, kind: type[Config], save_key: str) -> Config | None:
    """A saved configuration of `kind` chosen by name, or None."""
    try:
        saved = [c for c in configs.list() if isinstance(c, kind)]
    except ForgeError as exc:
        screen.notify(str(exc), title=_("Cannot load"), severity="error")
        return None
    if not saved:
        what = kind.model_fields["kind"].default
        # TRANSLATORS: {kind} is the job kind as typed (generate, judge, augment); {key} a key name.
        screen.notify(_("No saved {kind} configuration yet: {key} saves one.").format(kind=what, key=save_key))
        return None
    while saved:
        chosen = await screen.app.push_screen_wait(ConfigPicker([c.name for c in saved]))
        if chosen is None:
            return None
        action, name = chosen
        if action == LOAD:
            return next((c for c in saved if c.name == name), None)
        if not await screen.app.push_screen_wait(
            Confirm(_("Delete the configuration '{name}'?").format(name=clip(name)), N_("Delete"))
        ):
            continue
        try:
            configs.delete(name)
        except ForgeError as exc:
            screen.notify(str(exc), title=_("Not deleted"), severity="error")
            return None
        screen.notify(_("Configuration '{name}' deleted.").format(name=clip(name)))
        saved = [c for c in saved if c.name != name]
    return None


LOAD, DELETE = "load", "delete"


class ConfigPicker(Localized, ModalScreen[tuple[str, str] | None]):
    """The saved configurations by name: enter loads one, delete asks to delete it. Dismisses with
    (LOAD or DELETE, the name), or None."""

    BINDINGS = [
        Binding("delete", "delete", N_("Delete"), id="configs.delete"),
        Binding("escape", "cancel", N_("Cancel"), id="pick.cancel"),
    ]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self._names = names

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog pick"):
            yield TLabel(N_("Load configuration"), classes="dialog-title")
            yield OptionList(*[Option(shown_markup(name), id=name) for name in self._names], id="pick-list")
            yield Static("", id="configs-hint", classes="dim")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def draw_text(self) -> None:
        options = self.query_one(OptionList)
        enter, delete = key_for(options, "select") or "enter", key_for(self, "delete")
        hint = _("{enter} loads · {delete} deletes · escape cancels").format(enter=enter, delete=delete)
        self.query_one("#configs-hint", Static).update(hint)

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss((LOAD, event.option.id or ""))

    def action_delete(self) -> None:
        highlighted = self.query_one(OptionList).highlighted_option
        if highlighted is not None and highlighted.id is not None:
            self.dismiss((DELETE, highlighted.id))

    def action_cancel(self) -> None:
        self.dismiss(None)
