"""Accounts: creating users, unlocking with a rate limit shared by every process, passwords, recovery."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from sqlmodel import Session

from forge_tui.core.control_chars import refuse_control_chars
from forge_tui.core.errors import Conflict, ForgeError, NotFound
from forge_tui.core.models import DatasetInfo, UserInfo, check_password, check_username
from forge_tui.i18n import N_, _
from forge_tui.services.home import Home
from forge_tui.services.legacy_seal import seal_owned, seal_pending
from forge_tui.services.templates import add_starters
from forge_tui.store import custom_formats
from forge_tui.store import datasets as dataset_rows
from forge_tui.store import key_rotation as rotation_rows
from forge_tui.store import users as user_rows
from forge_tui.store.db import read_session, scrub, write_session
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import (
    AccountKeys,
    FieldCipher,
    KdfParams,
    WrongSecret,
    dataset_key,
    derive_password_key,
    key_check,
    new_data_key,
    new_recovery_key,
    new_salt,
    recovery_wrapping_key,
    unwrap_key,
    wrap_key,
)

FIRST_DATASET_NAME = "default"
_ATTEMPT_RETENTION_SECONDS = 24 * 3600


class AuthFailed(ForgeError):
    exit_code = 3


class AccountDamaged(ForgeError):
    """The account's stored key settings cannot be read, so no password can be checked."""


class TooManyAttempts(ForgeError):
    exit_code = 4

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(_("Too many attempts — wait {seconds} s").format(seconds=wait_seconds))
        self.wait_seconds = wait_seconds


def password_context(username: str) -> bytes:
    return f"forge-tui|data-key|password|{username}".encode()


def recovery_context(username: str) -> bytes:
    return f"forge-tui|data-key|recovery|{username}".encode()


def rotation_context(username: str) -> bytes:
    """What binds the new data key of a key rotation in progress, wrapped under the current one."""
    return f"forge-tui|data-key|rotation|{username}".encode()


@dataclass
class Unlocked:
    """A user whose data key is in memory. `lock()` drops the key."""

    user: UserInfo
    _data_key: bytes | None = field(repr=False)
    # The new data key of a key rotation in progress (services.key_rotation): the datasets already
    # moved to it open with it.
    _next_key: bytes | None = field(default=None, repr=False)

    @property
    def is_locked(self) -> bool:
        return self._data_key is None

    def lock(self) -> None:
        self._data_key = None
        self._next_key = None

    def take_key(self, other: Unlocked) -> None:
        """After a lock: takes the key `other` opened, so whatever holds this object works again."""
        if other.user.id != self.user.id:
            raise AuthFailed(
                _("Another account unlocked; this session belongs to '{username}'.").format(username=self.user.username)
            )
        self.user = other.user
        self._data_key = other.data_key()
        self._next_key = other._next_key

    def data_key(self) -> bytes:
        if self._data_key is None:
            raise AuthFailed(_("The session is locked; unlock it first."))
        return self._data_key

    def account_keys(self, current: bytes | None = None) -> AccountKeys:
        """The keys of the account's templates and custom formats (derived anew: nothing to drop on lock).
        `current` is the account's stored key_check: after a key rotation this session joined midway, it
        is the new key's, and the keys come from that. Raises Conflict when the session holds no key
        with that check (a rotation finished after it unlocked): whatever it sealed would not open."""
        if current is None:
            return AccountKeys.of(self.data_key())
        data_key = self.key_with(current)
        if data_key is None:
            raise Conflict(_("The account's key was rotated; unlock again."))
        return AccountKeys.of(data_key)

    def keys_in(self, session: Session) -> AccountKeys:
        """account_keys() for the account's key as stored now, read in `session`: in a write
        transaction, what is sealed with them opens after it commits (Conflict otherwise)."""
        found = session.connection().exec_driver_sql("SELECT key_check FROM user WHERE id = ?", (self.user.id,))
        row = found.first()
        if row is None:
            raise NotFound(_("The account '{username}' no longer exists.").format(username=self.user.username))
        return self.account_keys(bytes(row[0]))

    def key_with(self, check: bytes | None) -> bytes | None:
        """The data key this session holds whose key_check is `check` (None when it holds none)."""
        for data_key in (self.data_key(), self._next_key):
            if data_key is not None and key_check(data_key) == check:
                return data_key
        return None

    def cipher_for(self, dataset: Dataset) -> FieldCipher:
        data_key = self.data_key()
        if self._next_key is not None and dataset.key_check == key_check(self._next_key):
            data_key = self._next_key
        return FieldCipher(dataset_key(data_key, dataset.salt))

    def can_open(self, dataset: Dataset) -> bool:
        return dataset.key_check in self.key_checks()

    def key_checks(self) -> set[bytes]:
        """The fingerprints of the keys this session opens datasets with (two during a key rotation)."""
        checks = {key_check(self.data_key())}
        if self._next_key is not None:
            checks.add(key_check(self._next_key))
        return checks


@dataclass(frozen=True)
class CreatedUser:
    user: UserInfo
    recovery_key: str = field(repr=False)


@dataclass(frozen=True)
class ResetOutcome:
    recovery_key: str = field(repr=False)
    # Datasets sealed by the old key that stay sealed (a reset without the recovery key).
    sealed_datasets: list[str]


class AccountService:
    def __init__(self, home: Home) -> None:
        self.home = home

    # --- reading ---------------------------------------------------------------
    def usernames(self) -> list[str]:
        with read_session(self.home.engine) as s:
            return user_rows.usernames(s)

    def has_users(self) -> bool:
        return bool(self.usernames())

    def get(self, username: str) -> UserInfo:
        with read_session(self.home.engine) as s:
            return user_rows.to_info(self._require(s, username))

    def default_username(self) -> str | None:
        names = self.usernames()
        return names[0] if len(names) == 1 else None

    # --- creating --------------------------------------------------------------
    def create_user(self, username: str, display_name: str, password: str) -> CreatedUser:
        username = check_username(username)
        refuse_control_chars(display_name, N_("A display name"))
        check_password(password)
        params = self.home.kdf_params
        data_key = new_data_key()
        kdf_salt = new_salt()
        recovery_salt = new_salt()
        recovery_key = new_recovery_key()
        user = User(
            username=username,
            display_name=display_name.strip() or username,
            kdf_salt=kdf_salt,
            kdf_params=params.to_dict(),
            wrapped_key=wrap_key(derive_password_key(password, kdf_salt, params), data_key, password_context(username)),
            recovery_salt=recovery_salt,
            wrapped_recovery_key=wrap_key(
                recovery_wrapping_key(recovery_key, recovery_salt), data_key, recovery_context(username)
            ),
            key_check=key_check(data_key),
        )
        with write_session(self.home.engine) as s:
            if user_rows.get_by_name(s, username) is not None:
                raise Conflict(_("There is already an account named '{username}'.").format(username=username))
            s.add(user)
            s.flush()
            assert user.id is not None
            first = Dataset(owner_id=user.id, name=FIRST_DATASET_NAME, salt=new_salt(), key_check=key_check(data_key))
            s.add(first)
            s.flush()
            user.current_dataset_id = first.id
            keys = AccountKeys.of(data_key)
            add_starters(s, keys, user.id)
            # Formats kept from a database upgraded before it had any account.
            adopted = custom_formats.seal_legacy(s, keys, user.id)
            info = user_rows.to_info(user)
        if adopted:
            scrub(self.home.engine)
        return CreatedUser(user=info, recovery_key=recovery_key)

    # --- unlocking -------------------------------------------------------------
    def unlock(self, username: str, password: str) -> Unlocked:
        """Opens the data key. Every attempt counts towards the per-minute limit, across processes."""
        username = username.strip().lower()
        attempt_id = self._reserve_attempt(username)
        with read_session(self.home.engine) as s:
            user = user_rows.get_by_name(s, username)
        if user is None:
            raise AuthFailed(_("No account named '{username}'.").format(username=username))
        try:
            data_key = self._open_with_password(user, password)
        except WrongSecret:
            raise AuthFailed(_("Wrong password.")) from None
        with write_session(self.home.engine) as s:
            user_rows.mark_attempt_ok(s, attempt_id)
        if user.seal_pending:
            seal_pending(self.home.engine, username, data_key)
        return Unlocked(user=user_rows.to_info(user), _data_key=data_key, _next_key=self._next_key(user, data_key))

    def _next_key(self, user: User, data_key: bytes) -> bytes | None:
        """The new key of a key rotation of `user` in progress, else None."""
        assert user.id is not None
        with read_session(self.home.engine) as s:
            plan = rotation_rows.plan_of(s, user.id)
        if plan is None:
            return None
        try:
            return unwrap_key(data_key, plan.wrapped_key, rotation_context(user.username))
        except WrongSecret:
            return None  # the plan of a key this account no longer has: the next rotation replaces it

    def wait_seconds(self, username: str) -> int:
        """How long `username` must wait before the next attempt is allowed (0 when it may try now)."""
        sec = self.home.config.security
        now = time.time()
        with read_session(self.home.engine) as s:
            failures = user_rows.recent_failures(s, username, now - sec.attempt_window_seconds)
        return self._wait_for(failures, now)

    def _wait_for(self, failures: list[float], now: float) -> int:
        sec = self.home.config.security
        if len(failures) < sec.max_unlock_attempts:
            return 0
        # The attempt that must age out of the window before another is allowed.
        blocking = failures[len(failures) - sec.max_unlock_attempts]
        return max(1, math.ceil(blocking + sec.attempt_window_seconds - now))

    def _reserve_attempt(self, username: str) -> int:
        # The attempt is written as failed before the password is checked, inside one write
        # transaction with the count, so concurrent processes cannot both slip under the limit.
        sec = self.home.config.security
        now = time.time()
        with write_session(self.home.engine) as s:
            failures = user_rows.recent_failures(s, username, now - sec.attempt_window_seconds)
            wait = self._wait_for(failures, now)
            if wait:
                raise TooManyAttempts(wait)
            attempt = user_rows.record_attempt(s, username, now, ok=False)
            user_rows.prune_attempts(s, now - _ATTEMPT_RETENTION_SECONDS)
            assert attempt.id is not None
            return attempt.id

    def _open_with_password(self, user: User, password: str) -> bytes:
        try:
            params = KdfParams.from_dict(user.kdf_params)
            kek = derive_password_key(password, user.kdf_salt, params)
        except (KeyError, TypeError, ValueError):
            # Edited or damaged in the file: Argon2id refuses the parameters, or they are missing.
            raise AccountDamaged(
                _(
                    "The stored key settings of account '{username}' are damaged, so no password can open it; "
                    "reset the password with `forge-tui user reset-password` and the recovery key."
                ).format(username=user.username)
            ) from None
        return unwrap_key(kek, user.wrapped_key, password_context(user.username))

    # --- passwords -------------------------------------------------------------
    def change_password(self, username: str, old_password: str, new_password: str) -> None:
        """Re-wraps the data key under the new password; no content is re-sealed."""
        check_password(new_password)
        unlocked = self.unlock(username, old_password)
        self._store_password_wrap(unlocked.user.username, unlocked.data_key(), new_password)

    def _store_password_wrap(self, username: str, data_key: bytes, password: str) -> None:
        params = self.home.kdf_params
        salt = new_salt()
        wrapped = wrap_key(derive_password_key(password, salt, params), data_key, password_context(username))
        with write_session(self.home.engine) as s:
            user = self._require(s, username)
            user.kdf_salt = salt
            user.kdf_params = params.to_dict()
            user.wrapped_key = wrapped

    def check_recovery_key(self, username: str, recovery_key: str) -> bool:
        with read_session(self.home.engine) as s:
            user = self._require(s, username)
        try:
            self._open_with_recovery(user, recovery_key)
        except WrongSecret:
            return False
        return True

    def _open_with_recovery(self, user: User, recovery_key: str) -> bytes:
        kek = recovery_wrapping_key(recovery_key, user.recovery_salt)
        return unwrap_key(kek, user.wrapped_recovery_key, recovery_context(user.username))

    def datasets_at_risk(self, username: str) -> list[DatasetInfo]:
        """Datasets sealed by the user's current data key: unreadable after a reset without recovery key."""
        with read_session(self.home.engine) as s:
            user = self._require(s, username)
            assert user.id is not None
            rows = dataset_rows.list_for_owner(s, user.id, include_archived=True)
            readable = rotation_rows.readable_checks(s, user)
            return [dataset_rows.to_info(ds, n, readable=True) for ds, n in rows if ds.key_check in readable]

    def reset_password(self, username: str, new_password: str, recovery_key: str | None) -> ResetOutcome:
        """With the recovery key the data is kept readable. Without it a new data key is made: the
        old datasets are kept, still sealed, and reported; nothing is deleted."""
        check_password(new_password)
        username = username.strip().lower()
        with read_session(self.home.engine) as s:
            user = self._require(s, username)
        if recovery_key is not None:
            try:
                data_key = self._open_with_recovery(user, recovery_key)
            except WrongSecret:
                raise AuthFailed(_("That recovery key does not match this account.")) from None
            sealed: list[str] = []
        else:
            sealed = [d.name for d in self.datasets_at_risk(username)]
            data_key = new_data_key()
        fresh_recovery = new_recovery_key()
        recovery_salt = new_salt()
        self._store_password_wrap(username, data_key, new_password)
        with write_session(self.home.engine) as s:
            row = self._require(s, username)
            row.recovery_salt = recovery_salt
            row.wrapped_recovery_key = wrap_key(
                recovery_wrapping_key(fresh_recovery, recovery_salt), data_key, recovery_context(username)
            )
            row.key_check = key_check(data_key)
            sealed_now = seal_owned(s, row, data_key) if row.seal_pending else 0
            if sealed:
                # Nothing the user owns opens with the new key: give them a fresh place to work.
                assert row.id is not None
                fresh = Dataset(
                    owner_id=row.id,
                    name=self._free_dataset_name(s, row.id, f"{FIRST_DATASET_NAME} (after reset)"),
                    salt=new_salt(),
                    key_check=row.key_check,
                )
                s.add(fresh)
                s.flush()
                row.current_dataset_id = fresh.id
            if recovery_key is None:
                # Templates and custom formats stay sealed with the old key: start again from the starters.
                assert row.id is not None
                add_starters(s, AccountKeys.of(data_key), row.id)
                # A key rotation in progress had its new key wrapped under the lost one.
                rotation_rows.drop_plan(s, row.id)
        if sealed_now:
            scrub(self.home.engine)
        return ResetOutcome(recovery_key=fresh_recovery, sealed_datasets=sealed)

    @staticmethod
    def _free_dataset_name(session: Session, owner_id: int, wanted: str) -> str:
        name, n = wanted, 1
        while dataset_rows.get_by_name(session, owner_id, name) is not None:
            n += 1
            name = f"{wanted} {n}"
        return name

    @staticmethod
    def _require(session: Session, username: str) -> User:
        user = user_rows.get_by_name(session, username.strip().lower())
        if user is None:
            raise NotFound(_("No account named '{username}'.").format(username=username))
        return user
