"""Moving between the workspace's top-level screens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.app import App

from forge_tui.ui.screens.base import WorkspaceScreen

# The app's actions that need an unlocked workspace.
WORKSPACE_ACTIONS = frozenset(
    {
        "show_datasets",
        "show_settings",
        "show_templates",
        "show_audition",
        "show_examples",
        "show_export",
        "show_jobs",
        "show_review",
        "show_models",
        "show_playground",
        "lock",
    }
)


def go_to(app: App[Any], make: Callable[[], WorkspaceScreen]) -> None:
    """Top-level screens replace each other, so the stack does not grow as the user moves around.
    A screen with unsaved edits is asked first."""

    def go() -> None:
        if isinstance(app.screen, WorkspaceScreen):
            app.switch_screen(make())
        else:
            app.push_screen(make())

    guard = getattr(app.screen, "guard_unsaved", None)
    if guard is not None:
        guard(go)
    else:
        go()
