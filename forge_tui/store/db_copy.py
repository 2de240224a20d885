"""Copies of the database made by SQLite's online backup API, and a restore into the live database.

A copy reads one snapshot (a read transaction held from the first page to the last), so it is
consistent while other processes write: in WAL mode a reader never blocks a writer, and a snapshot
held across the steps means a write elsewhere does not make the copy start over.

A restore writes into the live database through the same API, in one write transaction: every
process sees the old database or the restored one, SQLite's WAL and locks stay its own (no file is
swapped under a connection, no -wal of one database is left beside another). The database as it was
is copied aside first, while that transaction already holds the write lock, so no write lands in
neither. A live file too damaged to be written through SQLite is swapped on disk instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from forge_tui.i18n import _
from forge_tui.store.db import BUSY_SLICE_MS, WriteWait
from forge_tui.store.private_files import PRIVATE_FILE
from forge_tui.store.visibility import VISIBLE_SQL

STEP_PAGES = 256  # pages copied per step of a backup: 1 MiB at SQLite's default page size
_DONE = 101  # SQLITE_DONE: the status of the last step
_WAITING = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    target = f"{path.resolve().as_uri()}?mode=ro" if read_only else str(path)
    connection = sqlite3.connect(target, uri=read_only, isolation_level=None, check_same_thread=False)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_SLICE_MS}")
    return connection


def snapshot(source: Path, target: Path, pages: int = STEP_PAGES) -> None:
    """Writes one consistent snapshot of the database at `source` (its WAL included) into `target`
    (a new or empty file), `pages` at a time; `target` ends whole on its own (rollback journal, no
    -wal), and is flushed to disk."""
    with contextlib.closing(_connect(source)) as src, contextlib.closing(_connect(target)) as dst:
        # The journal of the copy is not needed: a copy cut off midway is thrown away whole.
        dst.execute("PRAGMA journal_mode = OFF")
        dst.execute("PRAGMA synchronous = OFF")
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the snapshot starts here
        src.backup(dst, pages=pages)
        src.execute("COMMIT")
        # The copied header says WAL, as the source's did: turn the copy back into one file.
        dst.execute("PRAGMA journal_mode = DELETE")
    _flush(target)


def _flush(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def integrity_problem(path: Path) -> str | None:
    """None when `PRAGMA integrity_check` finds the database at `path` sound, else its first finding."""
    with contextlib.closing(_connect(path)) as connection:
        rows = [str(row[0]) for row in connection.execute("PRAGMA integrity_check(10)").fetchall()]
    if rows == ["ok"]:
        return None
    # A finding may span lines, under a "*** in database main ***" heading.
    found = [line.strip() for row in rows for line in row.splitlines() if line.strip() and not line.startswith("***")]
    shown = "; ".join(found[:2])[:160]
    if len(found) > 2:
        return _("{findings}, and {count} more").format(findings=shown, count=len(found) - 2)
    return shown


def page_size(path: Path) -> int:
    with contextlib.closing(_connect(path)) as connection:
        return int(connection.execute("PRAGMA page_size").fetchone()[0])


def set_page_size(path: Path, size: int) -> None:
    """Rewrites the database at `path` (rollback journal, not in use) with pages of `size` bytes."""
    with contextlib.closing(_connect(path)) as connection:
        connection.execute(f"PRAGMA page_size = {int(size)}")
        connection.execute("VACUUM")


def to_single_file(path: Path) -> None:
    """Empties the WAL of the database at `path` (in use by nobody) into it and leaves it in
    rollback-journal mode: one file, whole on its own."""
    with contextlib.closing(_connect(path)) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")


@dataclass(frozen=True)
class Contents:
    """What a database holds, read without any key."""

    revision: str | None
    accounts: list[str]
    datasets: int
    examples: int


def contents(path: Path) -> Contents:
    with contextlib.closing(_connect(path, read_only=True)) as connection:
        tables = {str(row[0]) for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        revision = None
        if "alembic_version" in tables:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = str(found[0]) if found else None

        def count(sql: str) -> int:
            return int(connection.execute(sql).fetchone()[0])

        accounts = (
            [str(row[0]) for row in connection.execute("SELECT username FROM user ORDER BY username")]
            if "user" in tables
            else []
        )
        datasets = count("SELECT count(*) FROM dataset") if "dataset" in tables else 0
        visible = f" WHERE {VISIBLE_SQL}" if "pending_insert" in tables else ""
        examples = count(f"SELECT count(*) FROM example{visible}") if "example" in tables else 0
    return Contents(revision, accounts, datasets, examples)


def restore_into(source: Path, live: Path, keep: Path, wait: WriteWait) -> None:
    """Replaces the live database at `live` with the one at `source` (not in use; the same page
    size) in one write transaction. Once that transaction holds the write lock, and before anything
    changes, the live database is copied to `keep`. Raises DatabaseBusy (nothing changed) when other
    writers keep the lock longer than `wait` allows; any other error leaves the live database as it
    was too (and no `keep`)."""
    deadline = time.monotonic() + wait.seconds
    kept = False

    def step(status: int, _remaining: int, _total: int) -> None:
        nonlocal kept
        if status in _WAITING:
            if time.monotonic() >= deadline:
                raise wait.busy()
            return
        if not kept:
            # The first page is written but not committed: the write lock is held from here to the
            # end, and readers (this copy) still see the database as it was.
            assert status != _DONE, "the restore must take more than one step"
            partial = keep.with_name(f".{keep.name}.part")
            try:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()  # left by a restore killed here
                os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
                snapshot(live, partial)
                os.replace(partial, keep)
            finally:
                with contextlib.suppress(OSError):
                    partial.unlink()
            kept = True

    with contextlib.closing(_connect(source)) as src, contextlib.closing(_connect(live)) as dst:
        try:
            # One page a step, so the first step cannot be the last (a database has more than one page).
            src.backup(dst, pages=1, progress=step, sleep=BUSY_SLICE_MS / 4000)
        except BaseException:
            if kept:
                with contextlib.suppress(OSError):
                    keep.unlink()
            raise


def replace_file(source: Path, live: Path, keep: Path) -> bool:
    """For a live database SQLite cannot write through (damaged, or missing): puts it aside as
    `keep`, its -wal as `keep`-wal (that log belongs to it), removes its -shm and moves `source` into
    its place. Returns whether there was a database to keep."""
    had = live.exists()
    if had:
        try:
            os.link(live, keep)
        except OSError:  # a file system without hard links
            shutil.copy2(live, keep)
    wal = live.with_name(f"{live.name}-wal")
    if wal.exists():
        os.replace(wal, keep.with_name(f"{keep.name}-wal"))
    with contextlib.suppress(FileNotFoundError):
        live.with_name(f"{live.name}-shm").unlink()
    os.replace(source, live)
    return had
