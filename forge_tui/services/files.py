"""Writing files whole: to a temporary file beside the target, renamed over it at the end, so a
failure leaves no partial file behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from forge_tui.core.errors import ForgeError


def _temporary_beside(path: Path, suffix: str) -> tuple[int, str]:
    """A new file beside `path`, readable by this account only (mkstemp makes it 0600)."""
    if not path.parent.is_dir():
        raise ForgeError(f"Cannot write {path}: the folder {path.parent} does not exist")
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as exc:
        raise ForgeError(f"Cannot write {path}: {exc.strerror or exc}") from None


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
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ForgeError(f"Cannot write {path}: {exc.strerror or exc}") from None
        raise


@contextmanager
def scratch_beside(path: Path) -> Iterator[Path]:
    """A temporary file beside `path` (same disk, owner only), removed at the end whatever happens."""
    path = path.expanduser().resolve()
    fd, name = _temporary_beside(path, ".spool")
    os.close(fd)
    try:
        yield Path(name)
    except OSError as exc:
        raise ForgeError(f"Cannot write beside {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def write_text(path: Path, text: str) -> Path:
    with replacing(path) as out:
        out.write(text)
    return path.expanduser().resolve()
