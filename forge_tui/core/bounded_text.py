"""Text from a file put into a message, cut to a bounded length: a CSV header of a million names
or a field name of a megabyte must not become a message of megabytes."""

from __future__ import annotations

from collections.abc import Sequence

from forge_tui.i18n import _

SHOWN_NAMES = 20
NAME_CHARS = 60


def clip(text: str, limit: int = NAME_CHARS) -> str:
    """`text`, or its first `limit` characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(names: Sequence[str], shown: int = SHOWN_NAMES, each: int = NAME_CHARS) -> str:
    """The names joined by commas: the first `shown` of them and "… and N more" when there are more."""
    text = ", ".join(clip(name, each) for name in names[:shown])
    if len(names) > shown:
        text = _("{names}, … and {count} more").format(names=text, count=len(names) - shown)
    return text
