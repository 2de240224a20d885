"""Writing files whole: to a temporary file beside the target, renamed over it at the end, so a
failure leaves no partial file behind.

Temporary files hold decrypted content, so none may stay behind. They are removed when the write
fails or is interrupted (an exception, or a signal: see remove_temporaries), and a process killed
outright (SIGKILL, power loss) leaves them to the next write into the same folder: their name,
`.TARGET.forge-tmp-HOST-PID-RANDOM.part` (or `.spool`), says which process made them, and those of
a process that no longer runs on this host are removed (POSIX only; the folder is the user's, so
forge-tui looks only in the folders it writes to).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _

_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
TEMP_NAME = re.compile(r"^\..+\.forge-tmp-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[^.]+\.(part|spool)$")

# The temporary files this process has now. No lock: remove_temporaries runs in a signal handler,
# between two bytecodes of the main thread, and must not wait for one that thread holds.
_live: dict[str, None] = {}
_stopping = False


class Stopping(ForgeError):
    """The process is ending on a signal: nothing more is written."""

    exit_code = 1


def _temporary_beside(path: Path, suffix: str) -> tuple[int, str]:
    """A new file beside `path`, readable by this account only (mkstemp makes it 0600)."""
    if _stopping:
        raise Stopping(_("Nothing was written to {path}: forge-tui is stopping.").format(path=path))
    if not path.parent.is_dir():
        raise ForgeError(
            _("Cannot write {path}: the folder {folder} does not exist").format(path=path, folder=path.parent)
        )
    remove_stale_temporaries(path.parent)
    try:
        prefix = f".{path.name}.forge-tmp-{_HOST}-{os.getpid()}-"
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=prefix, suffix=suffix)
    except OSError as exc:
        raise ForgeError(_("Cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    _live[name] = None
    return fd, name


def _discard(name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name)
    _live.pop(name, None)


def remove_temporaries() -> None:
    """Removes every temporary file of this process and refuses new ones: for a handler of a
    signal that ends the process (the writes in progress then fail, with nothing left behind)."""
    global _stopping
    _stopping = True
    for name in list(_live):
        with contextlib.suppress(OSError):
            os.unlink(name)


def stopping() -> bool:
    """Whether remove_temporaries ran: long writes stop at their next step."""
    return _stopping


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Removes the temporary files in `folder` that a forge-tui process on this host left when it
    was killed (it no longer runs); returns them. Files of another account are left alone."""
    removed: list[Path] = []
    if os.name != "posix":  # no safe way to ask whether a process runs (os.kill ends it on Windows)
        return removed
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        found = TEMP_NAME.match(entry.name)
        if found is None or found["host"] != _HOST:
            continue
        pid = int(found["pid"])
        if pid == os.getpid() or _running(pid):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid():
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def replacing(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Yields a file to write; on success it replaces `path`, on any error it is removed."""
    path = path.expanduser().resolve()
    fd, tmp = _temporary_beside(path, ".part")
    try:
        binary = "b" in mode
        with os.fdopen(fd, mode) if binary else os.fdopen(fd, mode, encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    except BaseException as exc:
        _discard(tmp)
        if isinstance(exc, OSError):
            raise ForgeError(_("Cannot write {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
        raise
    finally:
        _live.pop(tmp, None)


@contextmanager
def scratch_beside(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` (same disk, owner only), removed at the end whatever happens."""
    path = path.expanduser().resolve()
    fd, name = _temporary_beside(path, ".spool")
    os.close(fd)
    try:
        yield Path(name)
    except OSError as exc:
        raise ForgeError(
            _("Cannot write beside {path}: {reason}").format(path=path, reason=exc.strerror or exc)
        ) from None
    finally:
        _discard(name)


def write_text(path: Path, text: str) -> Path:
    with replacing(path) as out:
        out.write(text)
    return path.expanduser().resolve()
