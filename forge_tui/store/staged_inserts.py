"""Staged inserts: many example rows written in short transactions, shown together in one last step.

A long import must not hold SQLite's write lock from its first row to its last: every other process
would wait for it. So its rows go in a batch per transaction, each row tagged with the id of a
pending_insert row, and every read of examples leaves out the rows of a pending insert (see
store.visibility). Deleting the pending row shows them all at once. A cancel or a failure deletes
the rows again, a chunk per transaction; a process killed midway leaves its rows hidden, and the
next start deletes them (discard_abandoned).

A pending insert belongs to the process (host, pid) writing it, and each batch checks that it still
does: a process that takes over an abandoned insert to discard it makes the owner's next batch fail
instead of adding rows that would show once the pending row is gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _
from forge_tui.store import examples as rows
from forge_tui.store.db import read_session, write_connection
from forge_tui.store.key_rotation import KeyChanged, dataset_check

DISCARD_CHUNK = 5000  # rows deleted per transaction: a few tens of milliseconds
# A pending insert older than this is abandoned whatever its process (an import takes minutes).
ABANDONED_AFTER_S = 24 * 3600

_active: set[int] = set()  # this process's pending inserts that are being written or discarded
_active_lock = threading.Lock()


class InsertLost(ForgeError):
    """The pending insert is gone or was taken over: its rows were, or are being, discarded."""


def _me() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def _keep(insert_id: int, active: bool) -> None:
    with _active_lock:
        if active:
            _active.add(insert_id)
        else:
            _active.discard(insert_id)


Writer = Callable[[Connection, Sequence[dict[str, Any]], int], None]


class StagedInsert:
    """Rows added with add() stay hidden until publish(); discard() deletes them. Used as a context
    manager, an exception (a cancel, a failure) discards. Holds one connection from start to end;
    use it from one thread. `writer` inserts a batch: rows.insert_values for new rows (the default),
    rows.restore_values for rows as delete_ids returned them. `key_check`: the fingerprint of the key
    the rows are sealed with, when they were sealed before this starts (rows put back on undo); every
    batch fails with KeyChanged unless the dataset is sealed with that key."""

    def __init__(
        self, engine: Engine, dataset_id: int, writer: Writer | None = None, key_check: bytes | None = None
    ) -> None:
        self.engine = engine
        self.dataset_id = dataset_id
        self._write = writer or rows.insert_values
        self.finished = False
        self._connection = write_connection(engine)
        host, pid = _me()
        try:
            with self._connection.begin():
                found = self._connection.exec_driver_sql(
                    "INSERT INTO pending_insert (dataset_id, host, pid, started_at) VALUES (?, ?, ?, ?) RETURNING id",
                    (dataset_id, host, pid, time.time()),
                )
                self.id = int(found.scalar_one())
                # The rows are sealed with the key the dataset has now: a key rotation that moves the
                # dataset before they are shown makes the next batch fail (they would not open).
                self._key_check = dataset_check(self._connection, dataset_id) if key_check is None else key_check
        except BaseException:
            self._connection.close()
            raise
        _keep(self.id, True)

    def __enter__(self) -> StagedInsert:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _tb: Any) -> None:
        if not self.finished:
            # The error that stopped the insert is the one to report; rows left behind stay hidden
            # and the next start discards them.
            with contextlib.suppress(Exception):
                self.discard()
        self._close()

    def add(self, values: Sequence[dict[str, Any]]) -> None:
        """Writes rows (store.examples.sealed_values dicts) in one short transaction, hidden."""
        if values:
            with self._connection.begin():
                self._check_owned()
                self._write(self._connection, values, self.id)

    def publish(self, values: Sequence[dict[str, Any]] = ()) -> None:
        """Writes the last rows and shows every row of this insert, in one short transaction."""
        with self._connection.begin():
            self._check_owned()
            self._write(self._connection, values, self.id)
            self._connection.exec_driver_sql("DELETE FROM pending_insert WHERE id = ?", (self.id,))
        self.finished = True
        self._close()

    def discard(self) -> None:
        self.finished = True
        try:
            _discard_rows(self._connection, self.id, self.dataset_id)
        finally:
            self._close()

    def _close(self) -> None:
        _keep(self.id, False)
        self._connection.close()

    def _check_owned(self) -> None:
        if not _owned(self._connection, self.id):
            raise InsertLost(
                _(
                    "The rows being added were discarded meanwhile (their dataset was deleted, or another "
                    "forge-tui took them for abandoned); nothing was added."
                )
            )
        if dataset_check(self._connection, self.dataset_id) != self._key_check:
            raise KeyChanged(self.dataset_id)


def _owned(connection: Connection, insert_id: int) -> bool:
    host, pid = _me()
    found = connection.exec_driver_sql(
        "SELECT 1 FROM pending_insert WHERE id = ? AND host = ? AND pid = ?", (insert_id, host, pid)
    )
    return found.first() is not None


def _discard_rows(connection: Connection, insert_id: int, dataset_id: int) -> None:
    """Deletes the insert's rows a chunk per transaction, then its pending row (so no row of it can
    ever show). The newest rows of the dataset are read first: that is where staged rows are."""
    while True:
        with connection.begin():
            if not _owned(connection, insert_id):
                return
            deleted = connection.exec_driver_sql(
                "DELETE FROM example WHERE rowid IN (SELECT rowid FROM example WHERE dataset_id = ? "
                "AND insert_id = ? ORDER BY id DESC LIMIT ?)",
                (dataset_id, insert_id, DISCARD_CHUNK),
            ).rowcount
            if deleted < DISCARD_CHUNK:
                connection.exec_driver_sql("DELETE FROM pending_insert WHERE id = ?", (insert_id,))
                return


def _process_alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill would end the process there; the age rule cleans up instead
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists but belongs to someone else
    return True


def _abandoned(insert_id: int, host: str, pid: int, started_at: float) -> bool:
    if time.time() - started_at > ABANDONED_AFTER_S:
        return True
    my_host, my_pid = _me()
    if host != my_host:
        return False  # another machine's process: only the age rule can tell
    if pid == my_pid:
        with _active_lock:
            return insert_id not in _active
    return not _process_alive(pid)


def discard_abandoned(engine: Engine) -> int:
    """Deletes the rows of pending inserts whose process is gone (killed midway, say); returns how
    many inserts were discarded. Safe when several processes start at once: each insert is taken
    over by one of them."""
    with read_session(engine) as s:
        pending = s.connection().exec_driver_sql("SELECT id, dataset_id, host, pid, started_at FROM pending_insert")
        found = [(int(i), int(d), str(h), int(p), float(t)) for i, d, h, p, t in pending.all()]
    discarded = 0
    for insert_id, dataset_id, host, pid, started_at in found:
        if not _abandoned(insert_id, host, pid, started_at):
            continue
        my_host, my_pid = _me()
        _keep(insert_id, True)
        try:
            with write_connection(engine) as connection:
                with connection.begin():
                    taken = connection.exec_driver_sql(
                        "UPDATE pending_insert SET host = ?, pid = ?, started_at = ? "
                        "WHERE id = ? AND host = ? AND pid = ?",
                        (my_host, my_pid, time.time(), insert_id, host, pid),
                    )
                if taken.rowcount != 1:
                    continue  # another process took it first
                _discard_rows(connection, insert_id, dataset_id)
            discarded += 1
        finally:
            _keep(insert_id, False)
    return discarded
