"""Back up the database from the TUI (the palette's "Back up the database"): ask where, copy it in
a thread while the app goes on, and say what the copy holds. Restore and rotate-key stay on the
command line: both replace what an open app is reading."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from textual.app import App

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _
from forge_tui.services.backup import backup
from forge_tui.services.home import Home
from forge_tui.ui.dialogs.common import TextPrompt


def default_target(now: datetime | None = None) -> Path:
    return Path.home() / f"forge-backup-{(now or datetime.now()):%Y%m%d-%H%M}.db"


def ask_and_back_up(app: App[Any], home: Home) -> None:
    def chosen(answer: str | None) -> None:
        if answer and answer.strip():
            app.run_worker(back_up(app, home, Path(answer.strip())), group="backup", exclusive=True)

    app.push_screen(TextPrompt(_("Back up the database to this file"), str(default_target())), chosen)


async def back_up(app: App[Any], home: Home, target: Path) -> None:
    try:
        summary, seconds = await asyncio.to_thread(backup, home, target)
    except ForgeError as exc:
        app.notify(str(exc), title=_("Cannot back up"), severity="error")
        return
    app.notify(
        _("{path}: {described}, written in {seconds} s. It stays encrypted; `forge-tui restore` reads it back.").format(
            path=summary.path, described=summary.described(), seconds=f"{seconds:.1f}"
        ),
        title=_("Backed up"),
    )
