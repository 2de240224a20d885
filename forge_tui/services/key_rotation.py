"""Key rotation: an account gets a new random data key, everything sealed with the old one is
sealed again under it, and a new recovery key replaces the old one.

For when a recovery key or an old password may have leaked: whoever has the old data key can open
nothing written from then on, nor the database as it is after the rotation.

Resumable. The first step stores the plan (the new key, wrapped under the current one); then each
dataset moves to the new key whole (store.key_rotation: re-sealed in short transactions beside the
rows, switched in one); last, one transaction re-seals the templates, their saved system prompts,
the custom formats, the rubrics, the saved configurations, the documents with their chunks and the jobs'
plans, makes the new key the account's (wrapped under the password and a new recovery key) and drops
the plan. A run cut off anywhere leaves each dataset under the old key or the new one, and the unlocked account opens
both (services.accounts.Unlocked); the next run finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from forge_tui.core.errors import Conflict, DatabaseBusy, NotFound
from forge_tui.i18n import _
from forge_tui.services.accounts import AccountService, password_context, recovery_context, rotation_context
from forge_tui.services.home import Home
from forge_tui.store import batch_answers as batch_answer_rows
from forge_tui.store import custom_formats as format_rows
from forge_tui.store import documents as document_rows
from forge_tui.store import job_configs as config_rows
from forge_tui.store import jobs as job_rows
from forge_tui.store import judgements as judgement_rows
from forge_tui.store import key_rotation as rotation_rows
from forge_tui.store import rubrics as rubric_rows
from forge_tui.store import templates as template_rows
from forge_tui.store.db import checkpoint, read_session, write_session
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import (
    AccountKeys,
    FieldCipher,
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

RESEAL_BATCH = 500  # rows re-sealed per write transaction: some tens of milliseconds
# Datasets made under the old key while a run goes on (by another process) are moved in a further
# round; a run gives up after this many.
_ROUNDS = 5


@dataclass(frozen=True)
class RotationStep:
    """Where a rotation is: `stage` is "planned" or "resumed" (the plan is stored), "resealing"
    (`done` of about `total` examples of `dataset` re-sealed), "switched" (`dataset` is under the
    new key), or "finishing" (every dataset is; the account's own content and key are next)."""

    stage: str
    dataset: str = ""
    done: int = 0
    total: int = 0


Progress = Callable[[RotationStep], None]


@dataclass(frozen=True)
class RotationOutcome:
    recovery_key: str = field(repr=False)
    resumed: bool  # a run cut off before was finished
    datasets: int  # moved by this run
    examples: int
    templates: int
    formats: int
    damaged: int  # rows that did not open whole: each field that opened was moved, the rest left as it was
    jobs: int = 0  # their plans (name, spec, every item's inputs) re-sealed with the templates


@dataclass(frozen=True)
class _Keys:
    old: bytes = field(repr=False)
    new: bytes = field(repr=False)

    def ciphers(self, salt: bytes) -> tuple[FieldCipher, FieldCipher]:
        return FieldCipher(dataset_key(self.old, salt)), FieldCipher(dataset_key(self.new, salt))


def rotate_key(
    home: Home, username: str, password: str, progress: Progress | None = None, batch: int = RESEAL_BATCH
) -> RotationOutcome:
    """Rotates the account's data key, or finishes a rotation cut off before. Raises AuthFailed for a
    wrong password (the attempt counts towards the unlock limit)."""
    report = progress or (lambda _step: None)
    unlocked = AccountService(home).unlock(username, password)
    user_id, name = unlocked.user.id, unlocked.user.username
    keys, resumed, password_salt = _plan(home.engine, user_id, name, unlocked.data_key())
    old_check, new_check = key_check(keys.old), key_check(keys.new)
    report(RotationStep("resumed" if resumed else "planned"))
    # Derived before the last transaction: Argon2id takes about 0.4 s, too long to hold the write lock.
    kdf_salt, recovery_salt, recovery_key = new_salt(), new_salt(), new_recovery_key()
    wrapped = wrap_key(derive_password_key(password, kdf_salt, home.kdf_params), keys.new, password_context(name))
    wrapped_recovery = wrap_key(recovery_wrapping_key(recovery_key, recovery_salt), keys.new, recovery_context(name))
    moved = examples = damaged = 0
    for _round in range(_ROUNDS):
        for dataset in _under(home.engine, user_id, old_check):
            rows, broken = _move(home.engine, dataset, keys, old_check, new_check, batch, report)
            moved, examples, damaged = moved + (rows is not None), examples + (rows or 0), damaged + broken
        report(RotationStep("finishing"))
        with write_session(home.engine) as s:
            if _under(s, user_id, old_check):
                continue  # made meanwhile by another process: move it too
            user = s.get(User, user_id)
            plan = rotation_rows.plan_of(s, user_id)
            if user is None:
                raise NotFound(_("The account '{username}' no longer exists.").format(username=name))
            if plan is None or plan.new_check != new_check:
                raise Conflict(
                    _(
                        "Another forge-tui finished this key rotation of '{name}' meanwhile; keep the "
                        "recovery key that one printed."
                    ).format(name=name)
                )
            if user.kdf_salt != password_salt:
                raise Conflict(
                    _(
                        "The password of '{name}' was changed while its key was rotated; every dataset opens, "
                        "and `forge-tui user rotate-key` with the new password finishes the rotation."
                    ).format(name=name)
                )
            old_keys, new_keys = AccountKeys.of(keys.old), AccountKeys.of(keys.new)
            templates = template_rows.reseal(s, old_keys, new_keys, user_id)
            formats = format_rows.reseal(s, old_keys, new_keys, user_id)
            batch_answer_rows.reseal(s, old_keys, new_keys, user_id)  # finds the jobs by the old key
            judgement_rows.reseal(s, old_keys, new_keys, user_id)
            rubric_rows.reseal(s, old_keys, new_keys, user_id)
            config_rows.reseal(s, old_keys, new_keys, user_id)
            document_rows.reseal(s, old_keys, new_keys, user_id)
            jobs = job_rows.reseal(s, old_keys, new_keys, user_id)
            user.kdf_salt = kdf_salt
            user.kdf_params = home.kdf_params.to_dict()
            user.wrapped_key = wrapped
            user.recovery_salt = recovery_salt
            user.wrapped_recovery_key = wrapped_recovery
            user.key_check = new_check
            rotation_rows.drop_plan(s, user_id)
        break
    else:
        raise DatabaseBusy(
            _(
                "New datasets kept appearing under the old key while the key was rotated; the "
                "rotation is kept half-way (every dataset opens) and the next `forge-tui user "
                "rotate-key` finishes it."
            )
        )
    # Replaced values are zeroed in the file (secure_delete); empty the WAL of their old images too.
    checkpoint(home.engine)
    return RotationOutcome(
        recovery_key=recovery_key,
        resumed=resumed,
        datasets=moved,
        examples=examples,
        templates=templates,
        formats=formats,
        damaged=damaged,
        jobs=jobs,
    )


def _plan(engine: Engine, user_id: int, username: str, data_key: bytes) -> tuple[_Keys, bool, bytes]:
    """The new key of the rotation in progress, or of a new one stored now; whether it was in
    progress; and the salt of the password as it is now (a change of password meanwhile changes it)."""
    context = rotation_context(username)
    with write_session(engine) as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound(_("The account '{username}' no longer exists.").format(username=username))
        plan = rotation_rows.plan_of(s, user_id)
        if plan is not None:
            try:
                return _Keys(data_key, unwrap_key(data_key, plan.wrapped_key, context)), True, user.kdf_salt
            except WrongSecret:  # a plan under a key the account no longer has: start afresh
                rotation_rows.drop_plan(s, user_id)
        fresh = new_data_key()
        plan = rotation_rows.start_plan(
            s, user_id, wrap_key(data_key, fresh, context), key_check(data_key), key_check(fresh)
        )
        return _Keys(data_key, unwrap_key(data_key, plan.wrapped_key, context)), False, user.kdf_salt


def _under(source: Engine | Session, user_id: int, check: bytes) -> list[Dataset]:
    """The user's datasets sealed with the key `check` names, in id order."""
    query = select(Dataset).where(Dataset.owner_id == user_id, Dataset.key_check == check).order_by(col(Dataset.id))
    if isinstance(source, Session):
        return list(source.exec(query).all())
    with read_session(source) as s:
        return list(s.exec(query).all())


def _move(
    engine: Engine, dataset: Dataset, keys: _Keys, old_check: bytes, new_check: bytes, batch: int, report: Progress
) -> tuple[int | None, int]:
    """Moves one dataset to the new key: (its rows, or None when another run moved it first; rows
    that did not open whole)."""
    assert dataset.id is not None
    old, new = keys.ciphers(dataset.salt)
    with read_session(engine) as s:
        total = rotation_rows.row_count(s, dataset.id)
    done = damaged = 0
    after = ""
    while True:
        with write_session(engine) as s:
            step = rotation_rows.shadow_batch(s, old, new, dataset.id, after, batch)
        if not step.looked_at:
            break
        done, damaged, after = done + step.looked_at, damaged + step.damaged, step.last_id
        report(RotationStep("resealing", dataset.name, done, max(done, total)))
    with write_session(engine) as s:
        switched = rotation_rows.switch_dataset(s, old, new, dataset.id, old_check, new_check)
    if switched is None:
        return None, 0
    report(RotationStep("switched", dataset.name, switched.rows, switched.rows))
    return switched.rows, damaged + switched.damaged
