"""Template rows and the system-prompt history, sealed with the account's keys (vault.AccountKeys).

A template's name, prompts, slots and tools are one sealed JSON value bound to its row; the name
is also kept as a keyed hash (`name_tag`) so SQL can find a template by name and keep names unique
per owner without reading them. Each saved system prompt is sealed in its own row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from forge_tui.core.json_text import compact
from forge_tui.core.templates import TemplateInfo
from forge_tui.store.tables import SystemPromptHistory, Template, utcnow
from forge_tui.store.vault import AccountKeys, FieldCipher, SealBroken

TABLE = "template"
HISTORY_TABLE = "system_prompt_history"
HISTORY_KEEP = 10


def _body(info: TemplateInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "system_prompt": info.system_prompt,
        "user_prompt": info.user_prompt,
        "slots": [s.model_dump() for s in info.slots],
        "is_tool_calling": info.is_tool_calling,
        "tools": [t.model_dump() for t in info.tools],
    }


def _seal(keys: AccountKeys, row: Template, body: dict[str, Any]) -> None:
    assert row.id is not None  # the row id is bound into the sealed value
    row.name_tag = keys.tag(TABLE, body["name"])
    row.content = keys.cipher(TABLE).seal("content", str(row.id), compact(body))
    row.key_check = keys.check
    row.legacy = None


def seal_into(keys: AccountKeys, row: Template, info: TemplateInfo) -> None:
    """Seals everything of `info` but its id and archived flag into the (stored) row."""
    _seal(keys, row, _body(info))
    row.updated_at = utcnow()


def open_row(keys: AccountKeys, row: Template) -> TemplateInfo:
    """Raises SealBroken naming the row when its content does not open."""
    assert row.id is not None
    if row.content is None:
        raise SealBroken(TABLE, "content", str(row.id))
    body = json.loads(keys.cipher(TABLE).open("content", str(row.id), row.content))
    return TemplateInfo.model_validate({**body, "id": row.id, "archived": row.archived})


def insert(session: Session, keys: AccountKeys, owner_id: int, info: TemplateInfo) -> Template:
    row = Template(owner_id=owner_id)
    session.add(row)
    session.flush()  # for the id
    seal_into(keys, row, info)
    session.flush()
    assert row.id is not None
    if info.system_prompt:
        record_system_prompt(session, keys, row.id, info.system_prompt)
    return row


def _sealed_with(keys: AccountKeys, owner_id: int) -> SelectOfScalar[Template]:
    # Rows sealed under an older data key (a reset without the recovery key) stay stored, unlisted.
    return select(Template).where(Template.owner_id == owner_id, Template.key_check == keys.check)


def list_for_owner(
    session: Session, keys: AccountKeys, owner_id: int, include_archived: bool, search: str = ""
) -> list[TemplateInfo]:
    """Unarchived first, then by name; `search` matches within names, in any case. A row that does
    not open (altered on disk) is left out here; opening it by id says why."""
    query = _sealed_with(keys, owner_id)
    if not include_archived:
        query = query.where(col(Template.archived).is_(False))
    needle = search.strip().casefold()
    found: list[TemplateInfo] = []
    for row in session.exec(query).all():
        try:
            info = open_row(keys, row)
        except SealBroken:
            continue
        if needle in info.name.casefold():
            found.append(info)
    return sorted(found, key=lambda t: (t.archived, t.name.lower()))


def get_owned(session: Session, keys: AccountKeys, owner_id: int, template_id: int) -> Template | None:
    return session.exec(_sealed_with(keys, owner_id).where(Template.id == template_id)).first()


def get_by_name(session: Session, keys: AccountKeys, owner_id: int, name: str) -> Template | None:
    query = _sealed_with(keys, owner_id).where(Template.name_tag == keys.tag(TABLE, name))
    return session.exec(query).first()


def names(session: Session, keys: AccountKeys, owner_id: int) -> set[str]:
    return {t.name for t in list_for_owner(session, keys, owner_id, include_archived=True)}


# --- the system-prompt history --------------------------------------------------------------
def _open_entry(cipher: FieldCipher, entry: SystemPromptHistory) -> str | None:
    if entry.text is None:
        return None
    try:
        return cipher.open_text("text", str(entry.id), entry.text)
    except SealBroken:
        return None


def _entries(session: Session, template_id: int) -> list[SystemPromptHistory]:
    query = select(SystemPromptHistory).where(SystemPromptHistory.template_id == template_id)
    # Row ids grow with every insert (max + 1), so they order saves even within one clock tick.
    return list(session.exec(query.order_by(col(SystemPromptHistory.id).desc())).all())


def record_system_prompt(session: Session, keys: AccountKeys, template_id: int, text: str) -> None:
    """Adds `text` as the newest saved system prompt; an equal older entry moves to the top, and
    only the newest HISTORY_KEEP distinct texts are kept."""
    cipher = keys.cipher(HISTORY_TABLE)
    older = _entries(session, template_id)
    equal = [e.id for e in older if _open_entry(cipher, e) == text]
    kept = [e.id for e in older if e.id not in equal][: HISTORY_KEEP - 1]
    session.execute(
        delete(SystemPromptHistory).where(
            col(SystemPromptHistory.template_id) == template_id, col(SystemPromptHistory.id).not_in(kept)
        )
    )
    entry = SystemPromptHistory(template_id=template_id, saved_at=utcnow())
    session.add(entry)
    session.flush()  # for the id
    entry.text = cipher.seal_text("text", str(entry.id), text)
    session.flush()


def system_prompt_history(session: Session, keys: AccountKeys, template_id: int) -> list[tuple[str, datetime]]:
    """Newest first; an entry that does not open is left out."""
    cipher = keys.cipher(HISTORY_TABLE)
    opened = ((_open_entry(cipher, e), e.saved_at) for e in _entries(session, template_id))
    return [(text, saved_at) for text, saved_at in opened if text is not None][:HISTORY_KEEP]


# --- plaintext from before revision 0004 ----------------------------------------------------
def seal_legacy(session: Session, keys: AccountKeys, owner_id: int) -> int:
    """Seals the owner's templates and saved system prompts still held in plaintext; returns how
    many rows it sealed. The stored JSON is sealed as it is, unchecked, so nothing is lost."""
    sealed = 0
    taken = {row.name_tag for row in session.exec(_sealed_with(keys, owner_id)).all()}
    legacy = select(Template).where(Template.owner_id == owner_id, col(Template.legacy).is_not(None))
    for row in session.exec(legacy).all():
        assert row.legacy is not None
        body = json.loads(row.legacy)
        name = str(body.get("name", "")) or f"template {row.id}"
        wanted, number = name, 2
        while keys.tag(TABLE, name) in taken:  # a name already used under this key: keep both
            name, number = f"{wanted} ({number})", number + 1
        body["name"] = name
        _seal(keys, row, body)
        taken.add(row.name_tag)
        sealed += 1
    cipher = keys.cipher(HISTORY_TABLE)
    entries = session.exec(
        select(SystemPromptHistory)
        .join(Template, col(Template.id) == col(SystemPromptHistory.template_id))
        .where(Template.owner_id == owner_id, col(SystemPromptHistory.legacy_text).is_not(None))
    ).all()
    for entry in entries:
        assert entry.legacy_text is not None
        entry.text = cipher.seal_text("text", str(entry.id), entry.legacy_text)
        entry.legacy_text = None
        sealed += 1
    session.flush()
    return sealed


# --- key rotation -----------------------------------------------------------------------------
def reseal(session: Session, old: AccountKeys, new: AccountKeys, owner_id: int) -> int:
    """Moves the owner's templates and their saved system prompts from `old` keys to `new` (in the
    caller's transaction); returns how many templates. A value that does not open under `old` is
    left as it is."""
    moved = 0
    old_cipher, new_cipher = old.cipher(TABLE), new.cipher(TABLE)
    old_history, new_history = old.cipher(HISTORY_TABLE), new.cipher(HISTORY_TABLE)
    for row in session.exec(_sealed_with(old, owner_id)).all():
        assert row.id is not None
        if row.content is None:
            continue
        try:
            plain = old_cipher.open("content", str(row.id), row.content)
        except SealBroken:
            continue
        row.name_tag = new.tag(TABLE, str(json.loads(plain).get("name", "")))
        row.content = new_cipher.seal("content", str(row.id), plain)
        row.key_check = new.check
        for entry in _entries(session, row.id):
            text = _open_entry(old_history, entry)
            if text is not None:
                entry.text = new_history.seal_text("text", str(entry.id), text)
        moved += 1
    session.flush()
    return moved
