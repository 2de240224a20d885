"""The screens of an unlocked workspace (datasets, templates, settings, …) share this base."""

from __future__ import annotations

from textual.screen import Screen

from forge_tui.services.workspace import Workspace


class WorkspaceScreen(Screen[None]):
    HELP = ""

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
