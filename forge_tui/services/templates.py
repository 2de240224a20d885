"""Prompt templates of one user: list, create, edit, archive, the system-prompt history, and files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session

from forge_tui.core import template_files
from forge_tui.core.errors import Conflict, ForgeError, NotFound
from forge_tui.core.models import UserInfo
from forge_tui.core.starters import passage_template, starter_templates
from forge_tui.core.templates import TemplateInfo, check_template_name
from forge_tui.i18n import _
from forge_tui.services import files, readable_files
from forge_tui.services.home import Home
from forge_tui.store import templates as rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import Template
from forge_tui.store.vault import AccountKeys

if TYPE_CHECKING:
    from forge_tui.services.accounts import Unlocked


def add_starters(session: Session, keys: AccountKeys, owner_id: int) -> None:
    """The built-in starter templates, for a new account (names already taken are skipped)."""
    taken = rows.names(session, keys, owner_id)
    for starter in starter_templates():
        if starter.name not in taken:
            rows.insert(session, keys, owner_id, starter)


def add_passage_template(session: Session, keys: AccountKeys, owner_id: int) -> None:
    """The built-in grounded Q&A template, unless the account has one of that name (kept as edited)."""
    template = passage_template()
    if template.name not in rows.names(session, keys, owner_id):
        rows.insert(session, keys, owner_id, template)


# Saved system prompts, newest first: (text, saved at).
History = list[tuple[str, datetime]]


class TemplateService:
    """Templates are sealed with the account's keys, so this needs the unlocked account; after a
    lock every call raises AuthFailed until the same Unlocked takes its key back."""

    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    @property
    def user(self) -> UserInfo:
        return self.unlocked.user

    # --- reading ----------------------------------------------------------------------
    def list(self, include_archived: bool = False, search: str = "") -> list[TemplateInfo]:
        with read_session(self.home.engine) as s:
            return rows.list_for_owner(s, self.unlocked.keys_in(s), self.user.id, include_archived, search)

    def get(self, name_or_id: str | int) -> TemplateInfo:
        with read_session(self.home.engine) as s:
            return self._open(s, self._find(s, name_or_id))

    def system_prompt_history(self, template_id: int) -> History:
        """The last 10 distinct saved system prompts, newest first."""
        with read_session(self.home.engine) as s:
            self._find(s, template_id)
            return rows.system_prompt_history(s, self.unlocked.keys_in(s), template_id)

    # --- writing ----------------------------------------------------------------------
    def create(self, name: str, system_prompt: str = "", user_prompt: str = "") -> TemplateInfo:
        return self.add(TemplateInfo(name=name, system_prompt=system_prompt, user_prompt=user_prompt))

    def add(self, info: TemplateInfo) -> TemplateInfo:
        """Stores a whole new template (from a file, a copy, or the screen)."""
        info = info.model_copy(update={"name": check_template_name(info.name)}).check()
        with write_session(self.home.engine) as s:
            self._refuse_taken(s, info.name)
            return self._open(s, rows.insert(s, self.unlocked.keys_in(s), self.user.id, info))

    def save(self, info: TemplateInfo) -> TemplateInfo:
        """Saves the user prompt, slots and tools. The system prompt has its own save
        (`save_system_prompt`), so an unsaved system prompt is never stored by accident."""
        if info.id is None:
            raise NotFound(_("This template was never stored; create it first."))
        info.check()
        with write_session(self.home.engine) as s:
            row = self._find(s, info.id)
            stored = self._open(s, row)
            # Name and system prompt have their own saves: keep the stored ones.
            body = info.model_copy(update={"name": stored.name, "system_prompt": stored.system_prompt})
            rows.seal_into(self.unlocked.keys_in(s), row, body)
            s.flush()
            return self._open(s, row)

    def save_system_prompt(self, template_id: int, text: str) -> TemplateInfo:
        probe = TemplateInfo(name="-", system_prompt=text)
        probe.check()
        with write_session(self.home.engine) as s:
            row = self._find(s, template_id)
            keys = self.unlocked.keys_in(s)
            rows.seal_into(keys, row, self._open(s, row).model_copy(update={"system_prompt": text}))
            rows.record_system_prompt(s, keys, template_id, text)
            s.flush()
            return self._open(s, row)

    def rename(self, template_id: int, new_name: str) -> TemplateInfo:
        new_name = check_template_name(new_name)
        with write_session(self.home.engine) as s:
            row = self._find(s, template_id)
            stored = self._open(s, row)
            if new_name != stored.name:
                self._refuse_taken(s, new_name)
            rows.seal_into(self.unlocked.keys_in(s), row, stored.model_copy(update={"name": new_name}))
            s.flush()
            return self._open(s, row)

    def duplicate(self, template_id: int) -> TemplateInfo:
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            original = self._open(s, self._find(s, template_id))
            taken = rows.names(s, keys, self.user.id)
            name = f"{original.name} (copy)"
            number = 2
            while name in taken:
                name = f"{original.name} (copy {number})"
                number += 1
            return self._open(s, rows.insert(s, keys, self.user.id, original.model_copy(update={"name": name})))

    def set_archived(self, template_id: int, archived: bool) -> TemplateInfo:
        with write_session(self.home.engine) as s:
            row = self._find(s, template_id)
            row.archived = archived
            s.flush()
            return self._open(s, row)

    # --- files ------------------------------------------------------------------------
    def import_file(self, path: Path, name: str | None = None) -> TemplateInfo:
        """Adds the template in a .toml or .json file; `name` overrides the one in the file."""
        text = readable_files.read_text(path)
        try:
            info = template_files.parse(text, template_files.file_type_of(path.name, text))
        except ForgeError as exc:
            raise type(exc)(f"{path.name}: {exc}") from None
        if name:
            info = info.model_copy(update={"name": name})
        return self.add(info)

    def export_text(self, name_or_id: str | int, file_type: str) -> str:
        return template_files.dump(self.get(name_or_id), file_type)

    def export_file(self, name_or_id: str | int, path: Path) -> Path:
        """Writes the template to `path` (.toml or .json by its extension), replacing it whole."""
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in template_files.FILE_TYPES:
            raise ForgeError(_("Export to a .toml or .json file, not '{name}'.").format(name=path.name))
        return files.write_text(path, self.export_text(name_or_id, suffix))

    # --- helpers ----------------------------------------------------------------------
    def _open(self, session: Session, row: Template) -> TemplateInfo:
        return rows.open_row(self.unlocked.keys_in(session), row)

    def _find(self, session: Session, name_or_id: str | int) -> Template:
        """The template; every write transaction finds one or adds one first, so it checks (through
        keys_in) that the session holds the account's key."""
        keys = self.unlocked.keys_in(session)
        row = (
            rows.get_owned(session, keys, self.user.id, name_or_id)
            if isinstance(name_or_id, int)
            else rows.get_by_name(session, keys, self.user.id, " ".join(name_or_id.split()))
        )
        if row is None:
            raise NotFound(_("No template named '{name}'.").format(name=name_or_id))
        return row

    def _refuse_taken(self, session: Session, name: str) -> None:
        if rows.get_by_name(session, self.unlocked.keys_in(session), self.user.id, name) is not None:
            raise Conflict(_("There is already a template named '{name}'.").format(name=name))
