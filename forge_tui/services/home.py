"""An opened data directory: the config and the migrated SQLite file."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from forge_tui.core.errors import DatabaseBusy, ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.config import DB_FILE, AppConfig, load_config, resolve_home
from forge_tui.store import db_file
from forge_tui.store.db import WriteWait, current_revision, make_engine, migrate
from forge_tui.store.private_files import database_family, exposed, make_private_database, make_private_dir
from forge_tui.store.staged_inserts import discard_abandoned
from forge_tui.store.vault import KdfParams

BUSY_NOTICE = N_("Another forge-tui is writing to the database; retrying…")


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

    def exposed_files(self) -> list[str]:
        """A sentence for the data directory and each database file that other local users can open."""
        found: list[str] = []
        mode = exposed(self.path)
        if mode is not None:
            found.append(
                _(
                    "Other users have access to the data directory {path} (mode {mode:o}); `chmod 700 {path}` fixes it."
                ).format(path=self.path, mode=mode)
            )
        for path in database_family(self.db_path):
            mode = exposed(path)
            if mode is not None:
                found.append(
                    _("Other users can read {path} (mode {mode:o}); `chmod 600 {path}` fixes it.").format(
                        path=path, mode=mode
                    )
                )
        return found


def open_home(explicit: str | Path | None = None, on_busy: Callable[[], None] | None = None) -> Home:
    """Open (creating if needed) the data directory and bring its database to the current schema;
    discards what imports killed midway left hidden. `on_busy`: see Home.on_busy. A database file
    that exists but cannot be read is reported (DatabaseDamaged), never replaced."""
    path = resolve_home(explicit)
    try:
        make_private_dir(path)
    except OSError as exc:
        raise ForgeError(
            _("Cannot create the data directory {path}: {reason}").format(path=path, reason=exc.strerror)
        ) from None
    config = load_config(path)
    db_path = path / DB_FILE
    try:
        db_file.ensure(db_path)  # a new database is made owner-only (mkstemp)
        make_private_database(db_path)
    except OSError as exc:
        raise ForgeError(
            _("Cannot create the database in {path}: {reason}").format(path=path, reason=exc.strerror)
        ) from None
    wait = WriteWait(seconds=config.database.busy_wait_seconds, notice=on_busy)
    engine = make_engine(db_path, wait)
    try:
        migrate(engine)
        with engine.connect() as connection:  # the accounts decide between first run and unlock
            connection.exec_driver_sql("SELECT count(*) FROM user").scalar()
    except Exception as exc:
        engine.dispose()
        damage = database_damage(db_path, exc)
        if damage is None:
            raise
        raise damage from None
    with contextlib.suppress(DatabaseBusy):  # left hidden; a later start discards it
        discard_abandoned(engine)
    return Home(path=path, config=config, engine=engine, write_wait=wait)


def database_damage(db_path: Path, exc: BaseException) -> ForgeError | None:
    """The message for `exc` when it is SQLite finding the database file damaged, else None."""
    if isinstance(exc, db_file.DatabaseDamaged):
        return exc
    if db_file.is_damage(exc):
        return db_file.damaged(db_path, _("is damaged (SQLite: {problem})").format(problem=db_file.sqlite_message(exc)))
    return None
