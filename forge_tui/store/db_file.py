"""The database file before SQLite opens it: made whole or not at all, and checked when it exists.

SQLite takes an empty file for a new database, so a forge.db cut to 0 bytes would quietly become a
fresh install (and a new account over the lost one). So a new database is built beside its place
and linked there complete; a forge.db that exists must then look like SQLite's, and no shorter
than its header says. A file damaged in ways the header does not show is reported when SQLite
meets the damage (is_damage).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _
from forge_tui.store.db import make_engine, migrate

_MAGIC = b"SQLite format 3\x00"
_HEADER = 100
_DAMAGE_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_DAMAGE_WORDS = ("malformed", "not a database")


class DatabaseDamaged(ForgeError):
    """The database file cannot be used as it is; nothing was changed."""


def damaged(path: Path, what: str) -> DatabaseDamaged:
    if path.exists():
        message = _(
            "The database {path} {problem}: restore it from a backup, first moving the damaged file "
            "and its {name}-wal (if there is one) out of the way."
        )
    else:
        message = _("The database {path} {problem}: restore it from a backup, first moving {name}-wal out of the way.")
    return DatabaseDamaged(message.format(path=path, problem=what, name=path.name))


def _wal_in_use(path: Path) -> bool:
    with contextlib.suppress(OSError):
        return path.with_name(f"{path.name}-wal").stat().st_size > 0
    return False


def check(path: Path) -> None:
    """Raises DatabaseDamaged when the existing file at `path` is not a whole SQLite database."""
    try:
        found = problem(path)
    except OSError as exc:
        raise DatabaseDamaged(
            _("Cannot read the database {path}: {problem}.").format(path=path, problem=exc.strerror or exc)
        ) from None
    if found is not None:
        raise damaged(path, found)


def problem(path: Path) -> str | None:
    """What makes the file at `path` no whole SQLite database, as words that follow its name ("is
    empty (0 bytes)"); None when it looks whole. Raises OSError when it cannot be read."""
    with path.open("rb") as db:
        size = os.fstat(db.fileno()).st_size
        header = db.read(_HEADER)
    if size == 0:
        return _("is empty (0 bytes)")
    if len(header) < _HEADER or not header.startswith(_MAGIC):
        return _("is not a SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter and the version-valid-for number agree. While
    # a -wal file holds pages, a checkpoint may be writing the file: then SQLite itself judges.
    counted = header[24:28] == header[92:96] and pages > 0
    if page_size < 512 or _wal_in_use(path):
        return None
    if size % page_size or (counted and size < pages * page_size):
        return _("is truncated ({size} bytes where its header says {expected})").format(
            size=size, expected=pages * page_size
        )
    return None


def ensure(path: Path) -> None:
    """Checks the database at `path`, or creates it there whole when there is none."""
    if path.exists():
        check(path)
        return
    if _wal_in_use(path):
        raise damaged(path, _("is missing but {name}-wal is there").format(name=path.name))
    _create(path)


def _create(path: Path) -> None:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".new")
    os.close(fd)
    building = Path(name)
    try:
        engine = make_engine(building)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        # A rollback journal again, so the file is whole on its own (no -wal beside it).
        with contextlib.closing(sqlite3.connect(building)) as connection:
            connection.execute("PRAGMA journal_mode = DELETE")
        try:
            os.link(building, path)  # fails if another process linked its own first: that one is used
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(building, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                building.with_name(building.name + suffix).unlink()


def sqlite_message(exc: BaseException) -> str:
    """SQLite's own words, without SQLAlchemy's statement and link."""
    return str(exc.orig if isinstance(exc, DBAPIError) else exc)[:120]


def is_damage(exc: BaseException) -> bool:
    """Whether `exc` is SQLite reporting a damaged file ("database disk image is malformed", "file
    is not a database"), raised directly or through SQLAlchemy, here or in a worker process."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    return any(word in str(error) for word in _DAMAGE_WORDS)  # pickled from a worker: the code is lost
