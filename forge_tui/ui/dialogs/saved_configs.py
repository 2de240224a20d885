"""Save config / Load config of the job dialogs: a name asked for, or one picked from the saved ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.screen import Screen

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.core.job_configs import AnyConfig
from forge_tui.services.job_configs import JobConfigService
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.dialogs.pick import PickOne

Config = TypeVar("Config", bound=AnyConfig)


async def save_as(
    screen: Screen[Any], configs: JobConfigService, name: str, make: Callable[[str], AnyConfig]
) -> str | None:
    """Asks for a name (offering `name`) and saves `make(name)` under it; the name saved, or None."""
    chosen = await screen.app.push_screen_wait(TextPrompt("Save configuration as", name))
    if not chosen:
        return None
    try:
        config = configs.save(make(chosen))
    except ForgeError as exc:
        screen.notify(str(exc), title="Not saved", severity="error")
        return None
    screen.notify(f"Configuration '{clip(config.name)}' saved.")
    return config.name


async def pick(screen: Screen[Any], configs: JobConfigService, kind: type[Config], save_key: str) -> Config | None:
    """A saved configuration of `kind` chosen by name, or None."""
    try:
        saved = [c for c in configs.list() if isinstance(c, kind)]
    except ForgeError as exc:
        screen.notify(str(exc), title="Cannot load", severity="error")
        return None
    if not saved:
        what = kind.model_fields["kind"].default
        screen.notify(f"No saved {what} configuration yet: {save_key} saves one.")
        return None
    chosen = await screen.app.push_screen_wait(PickOne("Load configuration", [(c.name, c.name) for c in saved]))
    return next((c for c in saved if c.name == chosen), None)
