"""What an import keeps aside: every field of a record that no shape maps goes, value as read, into
the example's `extra`, so that nothing the user gave is dropped.

A top-level field keeps its name (`images`). A field inside a message, a content part or an
instance keeps the path to it, indexes counted from 0 in the record as read:
`messages[2].loss_weight`, `messages[0].content[1]` (a whole image part), `conversations[3].weight`,
`instances[1].note`. Summaries count them by name with the indexes left out (`messages[].loss_weight`).
"""

from __future__ import annotations

import re
from typing import Any

Record = dict[str, Any]
_INDEX = re.compile(r"\[\d+\]")


class Fields:
    """One record as a shape reads it: the fields it takes are mapped, every other field and every
    path kept with `keep` becomes `extra`."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.taken: set[str] = set()
        self.aside: dict[str, Any] = {}

    def __contains__(self, key: str) -> bool:
        return key in self.record

    def take(self, key: str, default: Any = None) -> Any:
        """The field's value, marked as mapped."""
        if key not in self.record:
            return default
        self.taken.add(key)
        return self.record[key]

    def peek(self, key: str, default: Any = None) -> Any:
        """The field's value, still to be kept aside unless taken."""
        return self.record.get(key, default)

    def keep(self, path: str, value: Any) -> None:
        self.aside[path] = value

    def extra(self) -> dict[str, Any]:
        kept = {key: value for key, value in self.record.items() if key not in self.taken}
        kept.update(self.aside)
        return kept


def summary_name(path: str) -> str:
    """`messages[2].loss_weight` -> `messages[].loss_weight`: one name for the same field of every message."""
    return _INDEX.sub("[]", path)


def desirability(value: Any) -> bool | None:
    """A KTO label: true or false, also as text ("true", "False" from a CSV cell); None for anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.strip().lower())
    return None
