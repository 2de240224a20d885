"""The schema revision of a data directory's database, for `doctor`."""

from __future__ import annotations

from forge_tui.services.home import Home
from forge_tui.store.db import head_revision


def schema_status(home: Home) -> tuple[str | None, str]:
    """(the database's revision, the newest revision this version knows)."""
    return home.schema_revision(), head_revision()
