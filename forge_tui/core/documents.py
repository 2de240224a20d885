"""Documents as grounding for generation (no I/O): a stored document's summary, the set names that
group them, and a passage as a generation job draws it (a chunk with where it came from)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

SET_NAME_MAX = 80
DEFAULT_SET = "default"
# `chunk=docs:SET` puts a passage in `chunk` and its document's name in this slot.
SOURCE_SLOT = "source"
# Characters the slot-source grammar gives a meaning to ("a=docs:SET; b=...", "file:PATH#COLUMN").
_RESERVED = ";|#="


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    set_name: str
    name: str  # the file's name
    kind: str  # text, markdown, html or pdf
    chars: int
    chunks: int
    chunk_tokens: int
    overlap: int
    created_at: datetime

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "set": self.set_name,
            "name": self.name,
            "kind": self.kind,
            "chars": self.chars,
            "chunks": self.chunks,
            "chunk_tokens": self.chunk_tokens,
            "overlap": self.overlap,
            "created_at": self.created_at.isoformat(),
        }


class Passage(BaseModel):
    """One chunk of a document set, as a generation job plans it and an example records it."""

    text: str
    set_name: str
    document: str  # the file's name
    position: int  # the chunk's 0-based place in its document
    chunks: int  # how many the document has
    line: int
    heading: str = ""

    def reference(self) -> dict[str, object]:
        """What an example keeps of the passage beside its slots (in its sealed parameters)."""
        return {"set": self.set_name, "document": self.document, "position": self.position, "line": self.line}


def check_set_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput(_("A document set needs a name."))
    if len(cleaned) > SET_NAME_MAX or any(ord(c) < 32 or c in _RESERVED for c in cleaned):
        raise InvalidInput(
            _("A document set's name is one line of at most {count} characters without ; | # or =.").format(
                count=SET_NAME_MAX
            )
        )
    return cleaned
