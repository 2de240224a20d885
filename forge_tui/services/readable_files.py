"""Opening a file the user named, for reading, only when it is a regular file.

A directory, a named pipe (opening one waits for a writer; reading it waits forever), a device
(/dev/zero never ends) or a socket is refused with a sentence saying what it is, before a byte
is read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from forge_tui.core.errors import ForgeError, InvalidInput, NotFound
from forge_tui.i18n import N_, _

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_KINDS = (
    (stat.S_ISDIR, N_("a directory, not a file")),
    (stat.S_ISFIFO, N_("a named pipe (FIFO), not a regular file")),
    (stat.S_ISCHR, N_("a device, not a regular file")),
    (stat.S_ISBLK, N_("a device, not a regular file")),
    (stat.S_ISSOCK, N_("a socket, not a regular file")),
)


def _refusal(path: Path, mode: int) -> ForgeError | None:
    if stat.S_ISREG(mode):
        return None
    what = _(next((text for test, text in _KINDS if test(mode)), N_("not a regular file")))
    if path.is_symlink():
        return InvalidInput(
            _("{path} is a link to {target}, {what}.").format(path=path, target=os.path.realpath(path), what=what)
        )
    return InvalidInput(_("{path} is {what}.").format(path=path, what=what))


def _unreadable(path: Path, exc: OSError) -> ForgeError:
    if isinstance(exc, FileNotFoundError):
        return InvalidInput(_("There is no file {path}.").format(path=path))
    return ForgeError(_("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror or exc))


def _refusal_of(path: Path) -> ForgeError | None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return _unreadable(path, exc)
    return _refusal(path, mode)


def problem(path: Path) -> str | None:
    """None when `path` is a regular file; else the sentence saying why it cannot be read."""
    refusal = _refusal_of(path)
    return None if refusal is None else str(refusal)


def check(path: Path) -> None:
    """Raises the ForgeError whose sentence `problem` gives."""
    refusal = _refusal_of(path)
    if refusal is not None:
        raise refusal


def open_regular(path: Path) -> BinaryIO:
    """The file, opened for reading in binary; raises a ForgeError for anything else. Opened
    without waiting (O_NONBLOCK) and checked once open, so that a pipe put in its place meanwhile
    cannot block."""
    check(path)
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise _unreadable(path, exc) from None
    try:
        refusal = _refusal(path, os.fstat(fd).st_mode)
        if refusal is not None:
            raise refusal
        if _NONBLOCK:
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


TEXT_LIMIT = 10 * 1024 * 1024  # a template or format file is a few kilobytes; this is far past any real one


def read_text(path: Path, limit: int = TEXT_LIMIT) -> str:
    """A small UTF-8 text file the user named (a template, a format body), read whole: anything
    but a regular file, a file over `limit` bytes, or text that is not UTF-8 is refused with a sentence."""
    if not os.path.lexists(path):  # a named thing that is missing (exit 5), not bad input
        raise NotFound(_("Cannot read {path}: there is no such file.").format(path=path))
    with open_regular(path) as f:
        try:
            raw = f.read(limit + 1)
        except OSError as exc:
            raise _unreadable(path, exc) from None
    if len(raw) > limit:
        raise InvalidInput(
            _("{path} is larger than {limit} MB; this file should be text of a few KB.").format(
                path=path, limit=limit // (1024 * 1024)
            )
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            _("{path} is not UTF-8 text (byte {byte:#04x} at offset {offset}).").format(
                path=path, byte=raw[exc.start], offset=exc.start
            )
        ) from None
