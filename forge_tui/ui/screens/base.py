"""The screens of an unlocked workspace (datasets, templates, settings, …) share this base."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from textual.notifications import SeverityLevel
from textual.screen import Screen

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _
from forge_tui.services.workspace import Workspace
from forge_tui.ui.keys import key_for
from forge_tui.ui.messages import DatasetSwitched

T = TypeVar("T")


class WorkspaceScreen(Screen[None]):
    HELP = ""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace

    def report(self, failure: str, call: Callable[[], T], *, severity: SeverityLevel = "error") -> T | None:
        """Runs a service call; a ForgeError becomes a toast titled `failure` (a message id, e.g.
        N_("Cannot save the settings")) and None."""
        try:
            return call()
        except ForgeError as exc:
            self.notify(str(exc), title=_(failure), severity=severity)
            return None

    async def report_async(self, failure: str, call: Callable[[], T], *, severity: SeverityLevel = "error") -> T | None:
        """`report` for a call that may block: it runs in a thread, its ForgeError is reported here."""
        try:
            return await asyncio.to_thread(call)
        except ForgeError as exc:
            self.notify(str(exc), title=_(failure), severity=severity)
            return None

    def key(self, action: str) -> str:
        """The key bound to `action` on this screen, or else on the app ("" when none is)."""
        return key_for(self, action) or key_for(self.app, action)

    def help_text(self) -> str:
        """F1's text about this screen (HELP is a message id); override it where the text names keys
        (use self.key)."""
        return _(self.HELP) if self.HELP else ""

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        """Screens that show the current dataset override this and show the new one."""
