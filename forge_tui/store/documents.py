"""Documents of one account (document and chunk rows), sealed as rubrics are: a document's names and
kind (`meta`) and its text are sealed values bound to its row, each chunk a sealed value bound to
"document:position"; `set_tag` and `name_tag` (keyed hashes) find a set and a file in it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.chunking import Chunk
from forge_tui.core.documents import DocumentInfo
from forge_tui.core.json_text import compact
from forge_tui.store.tables import ChunkRow, DocumentRow
from forge_tui.store.vault import AccountKeys, SealBroken

TABLE = "document"
CHUNKS = "chunk"


def _name_key(set_name: str, name: str) -> str:
    return f"{set_name}\n{name}"


def _seal_document(keys: AccountKeys, row: DocumentRow, set_name: str, name: str, kind: str, text: str) -> None:
    assert row.id is not None  # the row id is bound into the sealed values
    cipher = keys.cipher(TABLE)
    row.set_tag = keys.tag(TABLE, set_name)
    row.name_tag = keys.tag(TABLE, _name_key(set_name, name))
    row.meta = cipher.seal("meta", str(row.id), compact({"set": set_name, "name": name, "kind": kind}))
    row.text = cipher.seal_text("text", str(row.id), text)
    row.key_check = keys.check


def _seal_chunk(keys: AccountKeys, document_id: int, chunk: Chunk) -> bytes:
    body = {
        "text": chunk.text,
        "heading": chunk.heading,
        "line": chunk.line,
        "start": chunk.start,
        "end": chunk.end,
        "tokens": chunk.tokens,
    }
    return keys.cipher(CHUNKS).seal("body", f"{document_id}:{chunk.position}", compact(body))


def _open_meta(keys: AccountKeys, row: DocumentRow) -> dict[str, str]:
    assert row.id is not None
    value = json.loads(keys.cipher(TABLE).open("meta", str(row.id), row.meta))
    return {"set": str(value["set"]), "name": str(value["name"]), "kind": str(value["kind"])}


def open_text(keys: AccountKeys, row: DocumentRow) -> str:
    """Raises SealBroken naming the row when it does not open."""
    assert row.id is not None
    return keys.cipher(TABLE).open_text("text", str(row.id), row.text)


def _open_chunk(keys: AccountKeys, row: ChunkRow) -> Chunk:
    value = json.loads(keys.cipher(CHUNKS).open("body", f"{row.document_id}:{row.position}", row.body))
    return Chunk(
        position=row.position,
        start=int(value["start"]),
        end=int(value["end"]),
        line=int(value["line"]),
        heading=str(value["heading"]),
        text=str(value["text"]),
        tokens=int(value["tokens"]),
    )


def _sealed_with(keys: AccountKeys, owner_id: int) -> SelectOfScalar[DocumentRow]:
    return select(DocumentRow).where(DocumentRow.owner_id == owner_id, DocumentRow.key_check == keys.check)


def info(session: Session, keys: AccountKeys, row: DocumentRow) -> DocumentInfo:
    """Raises SealBroken naming the row when its meta does not open."""
    assert row.id is not None
    meta = _open_meta(keys, row)
    count = session.exec(select(func.count()).select_from(ChunkRow).where(ChunkRow.document_id == row.id)).one()
    return DocumentInfo(
        id=row.id,
        set_name=meta["set"],
        name=meta["name"],
        kind=meta["kind"],
        chars=row.chars,
        chunks=int(count),
        chunk_tokens=row.chunk_tokens,
        overlap=row.chunk_overlap,
        created_at=row.created_at,
    )


def list_for_owner(
    session: Session, keys: AccountKeys, owner_id: int, set_name: str | None = None
) -> list[DocumentInfo]:
    """By set, then name; a row that does not open is left out (opening it by id says why)."""
    query = _sealed_with(keys, owner_id)
    if set_name is not None:
        query = query.where(DocumentRow.set_tag == keys.tag(TABLE, set_name))
    found = []
    for row in session.exec(query).all():
        try:
            found.append(info(session, keys, row))
        except SealBroken:
            continue
    return sorted(found, key=lambda d: (d.set_name, d.name, d.id))


def get(session: Session, keys: AccountKeys, owner_id: int, document_id: int) -> DocumentRow | None:
    return session.exec(_sealed_with(keys, owner_id).where(DocumentRow.id == document_id)).first()


def get_by_name(session: Session, keys: AccountKeys, owner_id: int, set_name: str, name: str) -> DocumentRow | None:
    query = _sealed_with(keys, owner_id).where(DocumentRow.name_tag == keys.tag(TABLE, _name_key(set_name, name)))
    return session.exec(query).first()


def chunks_of(session: Session, keys: AccountKeys, document_id: int) -> list[Chunk]:
    """In order; raises SealBroken naming the first chunk that does not open."""
    rows = session.exec(select(ChunkRow).where(ChunkRow.document_id == document_id).order_by(col(ChunkRow.position)))
    return [_open_chunk(keys, row) for row in rows]


def save(
    session: Session,
    keys: AccountKeys,
    owner_id: int,
    set_name: str,
    document: tuple[str, str, str],
    chunks: Sequence[Chunk],
    sizes: tuple[int, int],
) -> DocumentRow:
    """Seals `document` (name, kind, text) and its chunks into the row of that name in the set, or
    into a new row; `sizes` is the chunk budget and overlap they were cut with."""
    name, kind, text = document
    row = get_by_name(session, keys, owner_id, set_name, name)
    if row is None:
        row = DocumentRow(
            owner_id=owner_id, set_tag=b"", name_tag=b"", meta=b"", text=b"", key_check=keys.check,
            chunk_tokens=sizes[0], chunk_overlap=sizes[1],
        )  # fmt: skip
        session.add(row)
        session.flush()  # for the id
    assert row.id is not None
    _seal_document(keys, row, set_name, name, kind, text)
    row.chars = len(text)
    row.chunk_tokens, row.chunk_overlap = sizes
    session.add(row)
    replace_chunks(session, keys, row.id, chunks)
    return row


def replace_chunks(session: Session, keys: AccountKeys, document_id: int, chunks: Sequence[Chunk]) -> None:
    session.exec(delete(ChunkRow).where(col(ChunkRow.document_id) == document_id))  # type: ignore[call-overload]
    for chunk in chunks:
        session.add(
            ChunkRow(document_id=document_id, position=chunk.position, body=_seal_chunk(keys, document_id, chunk))
        )
    session.flush()


def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's documents and their chunks from `old` keys to `new` (in the caller's
    transaction); returns how many documents. One that does not open under `old` is left as it is."""
    moved = 0
    for row in session.exec(_sealed_with(old, owner_id)).all():
        assert row.id is not None
        try:
            meta = _open_meta(old, row)
            text = open_text(old, row)
            chunks = chunks_of(session, old, row.id)
        except SealBroken:
            continue
        _seal_document(new, row, meta["set"], meta["name"], meta["kind"], text)
        session.add(row)
        replace_chunks(session, new, row.id, chunks)
        moved += 1
    session.flush()
    return moved
