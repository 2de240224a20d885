"""The one SQLite file: connection settings, transactions, and migrations at start-up.

Several processes share the file (one per browser tab under textual-serve, a headless job
beside the TUI). WAL lets readers run beside a writer; write transactions start with
BEGIN IMMEDIATE so a writer waits for the lock up front instead of failing with
"database is locked" when it upgrades a read lock. Every write transaction here is short (a long
import writes in batches, see store.staged_inserts), so a writer waits a fraction of a second; one
that waits longer is told through WriteWait.notice, and gives up with DatabaseBusy, a sentence.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from forge_tui.core.errors import DatabaseBusy, ForgeError
from forge_tui.core.filter_language import sql_functions
from forge_tui.i18n import _

WRITE_WAIT_S = 10.0  # the default of [database] busy_wait_seconds
# SQLite's own busy wait per attempt; a writer still waiting after one slice gives the notice.
BUSY_SLICE_MS = 1000
WAL_SWITCH_WAIT_S = 30.0
SCRUB_BUSY_TIMEOUT_MS = 2_000
_IMMEDIATE = "forge_immediate"


@dataclass
class WriteWait:
    """How long a write waits for another process's write lock, and who hears that it is waiting."""

    seconds: float = WRITE_WAIT_S
    # Called (from the waiting thread) once a write has waited a full slice: "retrying…".
    notice: Callable[[], None] | None = None

    def busy(self, waited_s: float | None = None) -> DatabaseBusy:
        waited = self.seconds if waited_s is None else waited_s
        return DatabaseBusy(
            _(
                "Another forge-tui (or another program) kept the database busy for over {seconds} s, "
                "so this change was not saved; try again in a moment."
            ).format(seconds=f"{waited:g}")
        )


def is_busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY


def _begin_immediate(raw: sqlite3.Connection, wait: WriteWait) -> None:
    """BEGIN IMMEDIATE, waiting up to wait.seconds in slices: after the first, the notice."""
    deadline = time.monotonic() + wait.seconds
    noticed = False
    try:
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            raw.execute(f"PRAGMA busy_timeout = {max(1, min(BUSY_SLICE_MS, left_ms))}")
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not is_busy(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise wait.busy() from None
            if not noticed and wait.notice is not None:
                noticed = True
                wait.notice()
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_SLICE_MS}")


def enable_wal(cur: sqlite3.Cursor, timeout_s: float = WAL_SWITCH_WAIT_S) -> None:
    """Switch the file to WAL, waiting while another connection does the same.

    Turning a new file to WAL takes an exclusive lock. When two connections try at once (two
    processes opening a fresh data directory), SQLite answers one of them "database is locked"
    straight away instead of calling the busy handler, since waiting could deadlock. So retry here.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.002
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def make_engine(db_path: Path, wait: WriteWait | None = None) -> Engine:
    """`wait` is kept (not copied): changing its fields later changes how this engine waits."""
    write_wait = wait if wait is not None else WriteWait()
    engine = create_engine(
        f"sqlite:///{db_path}",
        # The driver's own transaction handling is switched off; BEGIN is issued below.
        connect_args={"isolation_level": None, "timeout": BUSY_SLICE_MS / 1000, "check_same_thread": False},
        # Connections are cheap in SQLite; a pool would share them across Textual's worker threads.
        poolclass=NullPool,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_SLICE_MS}")
        enable_wal(cur)
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        # Deleted and overwritten values are zeroed in the file, not left in free space: plaintext
        # that sealing replaced (and old sealed values) must not be recoverable from the bytes.
        cur.execute("PRAGMA secure_delete = ON")
        cur.close()
        for name, function in sql_functions().items():  # the filter language's ~ and =~
            dbapi_conn.create_function(name, 2, function, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_IMMEDIATE):
            raw = conn.connection.driver_connection
            assert raw is not None
            _begin_immediate(raw, write_wait)
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # Any other statement that meets a lock (rare: reads do not wait in WAL) is a sentence too.
        if is_busy(context.original_exception):
            raise write_wait.busy(BUSY_SLICE_MS / 1000) from None

    return engine


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A transaction that holds the write lock from its first statement and commits on success."""
    with Session(engine.execution_options(**{_IMMEDIATE: True}), expire_on_commit=False) as session:
        with session.begin():
            yield session


def scrub(engine: Engine) -> bool:
    """Rewrites the file without free pages and empties the WAL, so no earlier page image (such as
    plaintext just sealed) is left in either. Best effort: False when another connection's reads or
    writes kept it from finishing (secure_delete has zeroed the replaced values all the same)."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        # A reader elsewhere (another tab's process) would hold the checkpoint back; do not wait long.
        raw.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_TIMEOUT_MS}")
        try:
            raw.execute("VACUUM")
            busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        return bool(busy == 0)


def checkpoint(engine: Engine) -> bool:
    """Copies the WAL into the file and empties it, so no earlier page image is left there. Best
    effort: False when another connection's reads kept it from finishing."""
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout = {SCRUB_BUSY_TIMEOUT_MS}")
        try:
            busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.OperationalError:
            return False
        return bool(busy == 0)


def write_connection(engine: Engine) -> Connection:
    """A connection whose transactions (`with connection.begin():`) take the write lock at BEGIN, for
    a caller that writes many short transactions in a row: one connection spares opening the file
    each time, and the checkpoint SQLite runs when its last connection to the file closes."""
    return engine.execution_options(**{_IMMEDIATE: True}).connect()


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("forge_tui.store") / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script_dir = ScriptDirectory(str(resources.files("forge_tui.store") / "migrations"))
    head = script_dir.get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every schema revision this version can read (and upgrade to the head)."""
    from alembic.script import ScriptDirectory

    script_dir = ScriptDirectory(str(resources.files("forge_tui.store") / "migrations"))
    return {script.revision for script in script_dir.walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        has_table = conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).first()
        if not has_table:
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return str(row[0]) if row else None


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`. Safe when several processes start at once."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    from alembic import command

    with engine.execution_options(**{_IMMEDIATE: True}).connect() as conn:
        # A batch migration rebuilds a table: copy, DROP the old one, rename. With foreign keys on,
        # that DROP deletes every row pointing at the table through ON DELETE CASCADE (rebuilding
        # `user` would empty `dataset` and `example`). The pragma does nothing inside a transaction,
        # so it is set on the driver connection before BEGIN; the keys are checked before COMMIT.
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                command.upgrade(_alembic_config(conn), revision)
                broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise ForgeError(
                        _(
                            "Upgrading the database to revision {revision} would leave {count} rows "
                            "pointing at missing rows (first: table {table}, row {row}); nothing was changed."
                        ).format(revision=revision, count=len(broken), table=broken[0][0], row=broken[0][1])
                    )
        finally:
            raw.execute("PRAGMA foreign_keys = ON")
