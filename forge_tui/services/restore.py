"""`forge-tui restore`: a backup checked in full before it replaces the database; the database it
replaces is kept beside it.

The backup is copied into a private folder in the data directory and checked there: a SQLite file,
`PRAGMA integrity_check` clean, a schema this version knows (then upgraded to the current one), an
account that unlocks with the password given. Only then is the database replaced (store.db_copy):
through SQLite in one write transaction, the old one copied aside first as
`forge.db.before-restore-<time>`. A live file too damaged for SQLite is moved aside with its -wal
instead, and the -shm removed. A restore refused, failed or cut off leaves the database as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.i18n import _
from forge_tui.services import readable_files
from forge_tui.services.accounts import AccountService, AuthFailed
from forge_tui.services.backup import DatabaseSummary
from forge_tui.services.config import DB_FILE, load_config
from forge_tui.services.home import Home
from forge_tui.store import db_copy, db_file
from forge_tui.store.db import WriteWait, head_revision, known_revisions, make_engine, migrate
from forge_tui.store.private_files import PRIVATE_FILE, make_private_database, make_private_dir

_FOLDER_PREFIX = ".restore-"


@dataclass
class Backup:
    """A checked copy of a backup, upgraded to the current schema, waiting in a private folder of the
    data directory; close() removes it (a with block does)."""

    source: Path
    home_dir: Path
    folder: Path
    from_revision: str
    unlocked: str | None = None  # the account that unlocked it

    @property
    def db_path(self) -> Path:
        return self.folder / DB_FILE

    def summary(self) -> DatabaseSummary:
        return DatabaseSummary.of(self.db_path)

    def unlock(self, username: str | None, password: str) -> str:
        """Checks that the account (the only one when `username` is None) unlocks with `password`;
        returns its name. Raises AuthFailed for a wrong password."""
        accounts = self.summary().accounts
        if username is None:
            if len(accounts) != 1:
                raise InvalidInput(
                    _("The backup holds {count} accounts ({names}); choose the one to unlock it with --user.").format(
                        count=len(accounts), names=", ".join(accounts) or _("none")
                    )
                )
            username = accounts[0]
        name = username.strip().lower()
        if name not in accounts:
            raise InvalidInput(
                _("The backup has no account named '{username}' (it has: {names}).").format(
                    username=username, names=", ".join(accounts)
                )
            )
        config = load_config(self.home_dir)
        engine = make_engine(self.db_path, WriteWait(seconds=config.database.busy_wait_seconds))
        try:
            AccountService(Home(path=self.folder, config=config, engine=engine)).unlock(name, password)
        except AuthFailed:
            raise AuthFailed(
                _("Wrong password for '{name}' in the backup; nothing was changed.").format(name=name)
            ) from None
        finally:
            engine.dispose()
        db_copy.to_single_file(self.db_path)
        self.unlocked = name
        return name

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Backup:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def open_backup(home_dir: Path, source: Path) -> Backup:
    """Copies the backup at `source` into the data directory and checks it (not the password yet:
    Backup.unlock). Raises InvalidInput, in a sentence, for a file that is not a sound forge-tui
    database of a schema this version knows; nothing is changed then."""
    source = source.expanduser()
    readable_files.check(source)
    live = home_dir / DB_FILE
    if live.exists() and source.resolve() == live.resolve():
        raise InvalidInput(_("{source} is the database itself; give the backup file to restore.").format(source=source))
    try:
        problem = db_file.problem(source)
    except OSError as exc:
        raise ForgeError(_("Cannot read {path}: {reason}.").format(path=source, reason=exc.strerror or exc)) from None
    if problem is not None:
        raise InvalidInput(
            _("{source} {problem}, so it is no forge-tui backup; nothing was changed.").format(
                source=source, problem=problem
            )
        )
    make_private_dir(home_dir)
    _remove_abandoned(home_dir)
    folder = Path(tempfile.mkdtemp(dir=home_dir, prefix=f"{_FOLDER_PREFIX}{os.getpid()}-"))
    try:
        revision = _copy_and_check(source, folder / DB_FILE)
        engine = make_engine(folder / DB_FILE)
        try:
            migrate(engine)
        finally:
            engine.dispose()
        db_copy.to_single_file(folder / DB_FILE)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Backup(source=source, home_dir=home_dir, folder=folder, from_revision=revision)


def _copy_and_check(source: Path, copy: Path) -> str:
    """Copies the backup (and its -wal, if it has one) to `copy` and checks it; returns its schema
    revision."""
    for suffix in ("", "-wal"):
        original = source.with_name(source.name + suffix)
        if suffix and not original.exists():
            continue
        target = copy.with_name(copy.name + suffix)
        os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
        try:
            shutil.copyfile(original, target)
        except OSError as exc:
            raise ForgeError(
                _("Cannot copy {path}: {reason}.").format(path=original, reason=exc.strerror or exc)
            ) from None
    try:
        problem = db_copy.integrity_problem(copy)
        revision = db_copy.contents(copy).revision
    except sqlite3.DatabaseError as exc:
        problem, revision = db_file.sqlite_message(exc), None
    if problem is not None:
        raise InvalidInput(
            _("{source} is damaged (SQLite: {problem}); nothing was changed.").format(source=source, problem=problem)
        )
    if revision is None:
        raise InvalidInput(
            _("{source} is a SQLite database that forge-tui did not write; nothing was changed.").format(source=source)
        )
    if revision not in known_revisions():
        raise InvalidInput(
            _(
                "{source} was written by a newer forge-tui (schema {revision}; this one reads up to "
                "{newest}): restore it with that version. Nothing was changed."
            ).format(source=source, revision=revision, newest=head_revision())
        )
    return revision


def _remove_abandoned(home_dir: Path) -> None:
    """Removes the folders of restores whose process no longer runs (killed midway)."""
    for entry in home_dir.glob(f"{_FOLDER_PREFIX}*-*"):
        pid = entry.name.removeprefix(_FOLDER_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


@dataclass(frozen=True)
class Restored:
    restored: DatabaseSummary
    kept: Path | None  # the database it replaced (None when there was none)
    from_revision: str

    def to_json(self) -> dict[str, Any]:
        return {
            **self.restored.to_json(),
            "kept": str(self.kept) if self.kept else None,
            "backup_schema": self.from_revision,
        }


def current(home_dir: Path) -> DatabaseSummary | None:
    """The database now in `home_dir`, or None when there is none or SQLite cannot read it."""
    live = home_dir / DB_FILE
    try:
        return None if db_file.problem(live) else DatabaseSummary.of(live)
    except (OSError, sqlite3.DatabaseError):
        return None


def restore(backup: Backup) -> Restored:
    """Replaces the database with the checked, unlocked backup; keeps the old one beside it.
    Raises DatabaseBusy (nothing changed) when other processes keep writing for longer than
    [database] busy_wait_seconds."""
    assert backup.unlocked is not None, "unlock the backup first"
    wait_s = load_config(backup.home_dir).database.busy_wait_seconds
    live = backup.home_dir / DB_FILE
    keep = _free_name(backup.home_dir, f"{DB_FILE}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
    kept: Path | None = keep
    if not _sound(live) or not _through_sqlite(backup, live, keep, wait_s):
        kept = keep if db_copy.replace_file(backup.db_path, live, keep) else None
    make_private_database(live)
    return Restored(DatabaseSummary.of(live), kept, backup.from_revision)


def _sound(live: Path) -> bool:
    """Whether the live database is there and looks whole, so that SQLite can write into it."""
    try:
        return live.exists() and db_file.problem(live) is None
    except OSError:
        return False


def _through_sqlite(backup: Backup, live: Path, keep: Path, wait_s: float) -> bool:
    """Restores into the live database through SQLite; False when SQLite finds it damaged (nothing
    was changed)."""
    try:
        size = db_copy.page_size(live)
        if db_copy.page_size(backup.db_path) != size:
            db_copy.set_page_size(backup.db_path, size)
        db_copy.restore_into(backup.db_path, live, keep, WriteWait(seconds=wait_s))
    except sqlite3.DatabaseError as exc:
        if db_file.is_damage(exc):
            return False
        raise ForgeError(
            _("Cannot restore into {path} (SQLite: {problem}); nothing was changed.").format(
                path=live, problem=db_file.sqlite_message(exc)
            )
        ) from None
    return True


def _free_name(folder: Path, wanted: str) -> Path:
    path, number = folder / wanted, 2
    while path.exists() or path.with_name(f"{path.name}-wal").exists():
        path, number = folder / f"{wanted}-{number}", number + 1
    return path
