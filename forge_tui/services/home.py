"""An opened data directory: the config and the migrated SQLite file."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from forge_tui.core.errors import DatabaseBusy, ForgeError
from forge_tui.services.config import DB_FILE, AppConfig, load_config, resolve_home
from forge_tui.store.db import WriteWait, current_revision, make_engine, migrate
from forge_tui.store.staged_inserts import discard_abandoned
from forge_tui.store.vault import KdfParams

BUSY_NOTICE = "Another forge-tui is writing to the database; retrying…"


@dataclass
class Home:
    path: Path
    config: AppConfig
    engine: Engine
    write_wait: WriteWait = field(default_factory=WriteWait)

    @property
    def db_path(self) -> Path:
        return self.path / DB_FILE

    @property
    def kdf_params(self) -> KdfParams:
        sec = self.config.security
        return KdfParams(memory_kib=sec.kdf_memory_kib, iterations=sec.kdf_iterations, lanes=1)

    def schema_revision(self) -> str | None:
        return current_revision(self.engine)

    def on_busy(self, notice: Callable[[], None] | None) -> None:
        """`notice` is called (from the waiting thread) when a change has to wait for another
        process's write for more than a second; BUSY_NOTICE says so. The change goes on waiting up to
        [database] busy_wait_seconds, then fails with DatabaseBusy."""
        self.write_wait.notice = notice

    def close(self) -> None:
        self.engine.dispose()


def open_home(explicit: str | Path | None = None, on_busy: Callable[[], None] | None = None) -> Home:
    """Open (creating if needed) the data directory and bring its database to the current schema;
    discards what imports killed midway left hidden. `on_busy`: see Home.on_busy."""
    path = resolve_home(explicit)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ForgeError(f"Cannot create the data directory {path}: {exc.strerror}") from None
    config = load_config(path)
    wait = WriteWait(seconds=config.database.busy_wait_seconds, notice=on_busy)
    engine = make_engine(path / DB_FILE, wait)
    migrate(engine)
    with contextlib.suppress(DatabaseBusy):  # left hidden; a later start discards it
        discard_abandoned(engine)
    return Home(path=path, config=config, engine=engine, write_wait=wait)
