"""Documents of one account as grounding for generation: add files (their text extracted and cut into
chunks), list them by set, read a document's chunks, cut it again with other sizes, remove it, and give a
set's passages to a generation job (`chunk=docs:SET`)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from forge_tui.core.bounded_text import clip
from forge_tui.core.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP, Chunk, check_sizes, chunk_text
from forge_tui.core.documents import DEFAULT_SET, DocumentInfo, Passage, check_set_name
from forge_tui.core.errors import NotFound
from forge_tui.i18n import _
from forge_tui.services.accounts import Unlocked
from forge_tui.services.document_files import read_document
from forge_tui.services.home import Home
from forge_tui.services.templates import add_passage_template
from forge_tui.store import documents as document_rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import DocumentRow
from forge_tui.store.vault import AccountKeys


class DocumentService:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    def add_file(
        self,
        path: Path,
        set_name: str = DEFAULT_SET,
        tokens: int = DEFAULT_CHUNK_TOKENS,
        overlap: int = DEFAULT_OVERLAP,
    ) -> DocumentInfo:
        """Reads, chunks and stores the file in the set; a file of the same name there is replaced.
        Nothing is written when the file cannot be read. The account gets the built-in template
        "Questions and answers from a passage" if it has none of that name."""
        set_name = check_set_name(set_name)
        check_sizes(tokens, overlap)
        found = read_document(path)
        chunks = chunk_text(found.text, tokens, overlap)
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            owner = self.unlocked.user.id
            document = (found.name, found.kind, found.text)
            row = document_rows.save(s, keys, owner, set_name, document, chunks, (tokens, overlap))
            add_passage_template(s, keys, owner)
            return document_rows.info(s, keys, row)

    def documents(self, set_name: str | None = None) -> list[DocumentInfo]:
        """By set, then name."""
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            wanted = check_set_name(set_name) if set_name is not None else None
            return document_rows.list_for_owner(s, keys, self.unlocked.user.id, wanted)

    def sets(self) -> dict[str, int]:
        """Each set's name and how many documents it holds, by name."""
        counts: dict[str, int] = {}
        for document in self.documents():
            counts[document.set_name] = counts.get(document.set_name, 0) + 1
        return counts

    def get(self, document_id: int) -> DocumentInfo:
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            return document_rows.info(s, keys, self._row(s, keys, document_id))

    def text(self, document_id: int) -> str:
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            return document_rows.open_text(keys, self._row(s, keys, document_id))

    def chunks(self, document_id: int) -> list[Chunk]:
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            self._row(s, keys, document_id)
            return document_rows.chunks_of(s, keys, document_id)

    def rechunk(self, document_id: int, tokens: int, overlap: int) -> DocumentInfo:
        """Cuts the document again with another budget and overlap."""
        check_sizes(tokens, overlap)
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = self._row(s, keys, document_id)
            chunks = chunk_text(document_rows.open_text(keys, row), tokens, overlap)
            row.chunk_tokens, row.chunk_overlap = tokens, overlap
            s.add(row)
            document_rows.replace_chunks(s, keys, document_id, chunks)
            return document_rows.info(s, keys, row)

    def remove(self, document_id: int) -> DocumentInfo:
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = self._row(s, keys, document_id)
            gone = document_rows.info(s, keys, row)
            s.delete(row)
            return gone

    def passages(self, set_name: str) -> list[Passage]:
        """Every chunk of every document in the set, in the set's order; NotFound for an empty set."""
        wanted = check_set_name(set_name)
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            documents = document_rows.list_for_owner(s, keys, self.unlocked.user.id, wanted)
            found = [
                Passage(
                    text=chunk.text,
                    set_name=wanted,
                    document=document.name,
                    position=chunk.position,
                    chunks=document.chunks,
                    line=chunk.line,
                    heading=chunk.heading,
                )
                for document in documents
                for chunk in document_rows.chunks_of(s, keys, document.id)
            ]
        if not found:
            raise NotFound(
                _("There is no document set named '{name}': add files with forge-tui docs add.").format(
                    name=clip(wanted)
                )
            )
        return found

    def _row(self, s: Session, keys: AccountKeys, document_id: int) -> DocumentRow:
        row = document_rows.get(s, keys, self.unlocked.user.id, document_id)
        if row is None:
            raise NotFound(_("There is no document {id}.").format(id=document_id))
        return row
