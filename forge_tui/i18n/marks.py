"""N_: marks a constant for extraction without translating it."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a constant for extraction without translating it: where it is shown, `_()` translates it."""
    return message
