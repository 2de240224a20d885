"""OS processes for tests."""

from __future__ import annotations

import subprocess
import sys


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped): no process runs under it, for now."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
