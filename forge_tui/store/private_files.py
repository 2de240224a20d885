"""Owner-only modes for the data directory and the database: the file holds each user's wrapped
data key, and another local user who copies it can guess the password offline."""

from __future__ import annotations

import os
import stat
from contextlib import suppress
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = stat.S_IRWXG | stat.S_IRWXO
# SQLite gives these the mode of the database file when it creates them.
SIDE_FILES = ("-wal", "-shm", "-journal")
# Windows has no group or other bits to set (os.chmod only toggles read-only).
CHECKED = os.name == "posix"


def database_family(db_path: Path) -> list[Path]:
    """The database and those of its side files that exist."""
    side = [db_path.with_name(db_path.name + suffix) for suffix in SIDE_FILES]
    return [db_path] + [p for p in side if p.exists()]


def make_private_dir(path: Path) -> None:
    """Creates `path` (and missing parents) with the directory itself readable by its owner only.
    An existing directory is left as it is: it may be one the user chose for other things too."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)


def make_private_database(db_path: Path) -> None:
    """Creates the database file owner-only before SQLite opens it, so its -wal and -shm files are
    made owner-only too, and takes group and other access away from existing ones."""
    with suppress(FileExistsError):
        os.close(os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    if not CHECKED:
        return
    for path in database_family(db_path):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:  # a -wal or -shm removed meanwhile by another process's last connection
            continue
        if mode & _OTHERS:
            with suppress(OSError):  # another user's file: `doctor` reports it
                os.chmod(path, mode & ~_OTHERS)


def exposed(path: Path) -> int | None:
    """The mode of `path` when users other than its owner have access to it, else None."""
    if not CHECKED:
        return None
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    return mode if mode & _OTHERS else None
