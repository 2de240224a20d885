"""Sealing what a database from before revision 0004 held in plaintext: templates, their saved
system prompts, custom export formats and example parameters.

The migration cannot seal (it has no key), so it moved that plaintext aside and marked every account
`seal_pending`. The account's next unlock (or the creation of the first account, for formats
nobody owned) calls `seal_pending` here: one transaction seals it all and clears the plaintext, then
the file is rewritten so no copy is left in free pages or in the WAL.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from forge_tui.store import custom_formats, templates
from forge_tui.store import examples as example_rows
from forge_tui.store.db import scrub, write_session
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import AccountKeys, FieldCipher, dataset_key


def seal_owned(session: Session, user: User, data_key: bytes) -> int:
    """Seals the user's plaintext leftovers in `session`; returns how many rows were sealed."""
    assert user.id is not None
    keys = AccountKeys.of(data_key)
    sealed = templates.seal_legacy(session, keys, user.id)
    sealed += custom_formats.seal_legacy(session, keys, user.id)
    for ds in session.exec(select(Dataset).where(Dataset.owner_id == user.id)).all():
        assert ds.id is not None
        readable = ds.key_check == keys.check
        cipher = FieldCipher(dataset_key(data_key, ds.salt)) if readable else None
        sealed += example_rows.seal_legacy_params(session, cipher, ds.id)
    user.seal_pending = False
    session.add(user)
    return sealed


def seal_pending(engine: Engine, username: str, data_key: bytes) -> None:
    """Seals the account's leftovers when the migration marked it; a no-op otherwise."""
    with write_session(engine) as s:
        user = s.exec(select(User).where(User.username == username)).first()
        if user is None or not user.seal_pending:
            return
        sealed = seal_owned(s, user, data_key)
    if sealed:
        scrub(engine)
