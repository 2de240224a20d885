"""Datasets of one user: list, create, rename, archive, and which one is current."""

from __future__ import annotations

from sqlmodel import Session

from forge_tui.core.errors import Conflict, NotFound
from forge_tui.core.models import DatasetInfo, UserInfo, check_dataset_name
from forge_tui.i18n import _
from forge_tui.services.home import Home
from forge_tui.store import datasets as rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.key_rotation import readable_checks
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import new_salt


class DatasetService:
    """Dataset names and descriptions are plain columns, so this needs the user but not the key."""

    def __init__(self, home: Home, user: UserInfo) -> None:
        self.home = home
        self.user = user

    def list(self, include_archived: bool = False) -> list[DatasetInfo]:
        with read_session(self.home.engine) as s:
            readable = readable_checks(s, self._owner(s))
            return [
                rows.to_info(ds, n, readable=ds.key_check in readable)
                for ds, n in rows.list_for_owner(s, self.user.id, include_archived)
            ]

    def get(self, name_or_id: str | int) -> DatasetInfo:
        with read_session(self.home.engine) as s:
            ds = self._find(s, name_or_id)
            assert ds.id is not None
            readable = ds.key_check in readable_checks(s, self._owner(s))
            return rows.to_info(ds, rows.count_examples(s, ds.id), readable)

    def create(self, name: str, description: str = "") -> DatasetInfo:
        name = check_dataset_name(name)
        with write_session(self.home.engine) as s:
            if rows.get_by_name(s, self.user.id, name) is not None:
                raise Conflict(_("There is already a dataset named '{name}'.").format(name=name))
            ds = Dataset(
                owner_id=self.user.id,
                name=name,
                description=description.strip(),
                salt=new_salt(),
                key_check=self._owner(s).key_check,
            )
            s.add(ds)
            s.flush()
            return rows.to_info(ds, 0, readable=True)

    def rename(self, name_or_id: str | int, new_name: str) -> DatasetInfo:
        new_name = check_dataset_name(new_name)
        with write_session(self.home.engine) as s:
            ds = self._find(s, name_or_id)
            clash = rows.get_by_name(s, self.user.id, new_name)
            if clash is not None and clash.id != ds.id:
                raise Conflict(_("There is already a dataset named '{name}'.").format(name=new_name))
            ds.name = new_name
            s.flush()
        return self.get(new_name)

    def set_archived(self, name_or_id: str | int, archived: bool) -> DatasetInfo:
        with write_session(self.home.engine) as s:
            ds = self._find(s, name_or_id)
            ds.archived = archived
            owner = self._owner(s)
            if archived and owner.current_dataset_id == ds.id:
                owner.current_dataset_id = None
            dataset_id = ds.id
        assert dataset_id is not None
        return self.get(dataset_id)

    def current(self) -> DatasetInfo | None:
        """The dataset the user last switched to, else the first one that is not archived."""
        with read_session(self.home.engine) as s:
            owner = self._owner(s)
            if owner.current_dataset_id is not None:
                ds = rows.get_owned(s, self.user.id, owner.current_dataset_id)
                if ds is not None and not ds.archived:
                    assert ds.id is not None
                    readable = ds.key_check in readable_checks(s, owner)
                    return rows.to_info(ds, rows.count_examples(s, ds.id), readable)
        active = self.list()
        return active[0] if active else None

    def switch(self, name_or_id: str | int) -> DatasetInfo:
        with write_session(self.home.engine) as s:
            ds = self._find(s, name_or_id)
            if ds.archived:
                raise Conflict(_("'{name}' is archived; unarchive it before switching to it.").format(name=ds.name))
            self._owner(s).current_dataset_id = ds.id
            dataset_id = ds.id
        assert dataset_id is not None
        return self.get(dataset_id)

    def _owner(self, session: Session) -> User:
        owner = session.get(User, self.user.id)
        if owner is None:
            raise NotFound(_("The account '{username}' no longer exists.").format(username=self.user.username))
        return owner

    def _find(self, session: Session, name_or_id: str | int) -> Dataset:
        ds = (
            rows.get_owned(session, self.user.id, name_or_id)
            if isinstance(name_or_id, int)
            # Not check_dataset_name: a name stored before names refused control characters is still found.
            else rows.get_by_name(session, self.user.id, " ".join(name_or_id.split()))
        )
        if ds is None:
            raise NotFound(_("No dataset named '{name}'.").format(name=name_or_id))
        return ds
