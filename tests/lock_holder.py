"""A real OS process that holds a SQLite file's write lock, as another forge-tui (or any program)
writing to it would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLDER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("LOCKED", flush=True)
seconds = float(sys.argv[2])
if seconds > 0:
    time.sleep(seconds)
else:
    sys.stdin.readline()
connection.execute("ROLLBACK")
"""


@contextmanager
def write_lock_held(db_path: Path, seconds: float = 0) -> Iterator[subprocess.Popen[str]]:
    """Holds the write lock from entry until exit, or, with `seconds`, for that long after entry."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(db_path), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "LOCKED"
        yield child
    finally:
        if child.poll() is None and child.stdin is not None:
            child.stdin.write("\n")
            child.stdin.flush()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
