"""Control characters in user text: refused in names, escaped wherever text leaves the app.

A terminal acts on control characters: a name holding ESC ] 0 ; … BEL retitles the window, ESC [ 2 J
clears the screen, OSC 52 writes the clipboard. Names refuse every control character (C0, DEL, C1)
when they are given; text printed to a terminal or written to a CSV/TSV cell has them replaced by a
visible `\\u001b`-style escape, so names stored before the check was made still show safely.
"""

from __future__ import annotations

import re
from functools import lru_cache

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.i18n import _

# C0 controls, DEL and the C1 controls (a terminal may read U+009B as CSI).
CONTROL_CHARS = "".join(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)))
_ANY_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARS)}]")

# What terminal output keeps: line breaks and tabs lay text out and start no sequence.
LAYOUT = "\n\t"


def has_control_chars(text: str) -> bool:
    return _ANY_CONTROL.search(text) is not None


def refuse_control_chars(name: str, what: str, error: type[ForgeError] = InvalidInput) -> None:
    """Raises `error` when `name` holds a control character; `what` is a message id marked with N_(),
    e.g. N_("A dataset name")."""
    if has_control_chars(name):
        raise error(
            _("{what} cannot contain control characters such as escape codes, tabs or line breaks.").format(
                what=_(what)
            )
        )


@lru_cache(maxsize=8)
def _pattern(keep: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(''.join(c for c in CONTROL_CHARS if c not in keep))}]")


def _escaped(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_controls(text: str, keep: str = LAYOUT) -> str:
    """`text` with every control character but those in `keep` written as `\\uXXXX`."""
    pattern = _pattern(keep)
    if pattern.search(text) is None:
        return text
    return pattern.sub(_escaped, text)
