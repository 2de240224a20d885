"""Short excerpts of what a server sent, for error messages: a proxy's HTML error page or a garbled
stream line is quoted in a few plain words, never pasted whole."""

from __future__ import annotations

import html
import re

_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def shorten(text: str, limit: int = 120) -> str:
    """`text` on one line (whitespace collapsed), cut to `limit` characters with an ellipsis."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def looks_like_html(text: str, content_type: str = "") -> bool:
    return "html" in content_type.lower() or text.lstrip()[:1] == "<"


def plain_excerpt(text: str, limit: int = 120) -> str:
    """The readable words of an HTML page (scripts, styles and the head dropped, tags removed,
    entities decoded), shortened; plain text is only shortened."""
    if looks_like_html(text):
        text = html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", text)))
    return shorten(text, limit)
