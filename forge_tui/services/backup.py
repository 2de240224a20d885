"""`forge-tui backup`: a consistent copy of the database while forge-tui runs. The copy is the
database file as it is, so it stays encrypted: opening its content takes an account's password."""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.i18n import _, ngettext
from forge_tui.services import files
from forge_tui.services.home import Home, database_damage
from forge_tui.store import db_copy
from forge_tui.store.db_file import sqlite_message
from forge_tui.store.private_files import database_family


@dataclass(frozen=True)
class DatabaseSummary:
    """A database file and what it holds, read without any key."""

    path: Path
    size: int
    revision: str | None
    accounts: list[str]
    datasets: int
    examples: int

    @classmethod
    def of(cls, path: Path) -> DatabaseSummary:
        found = db_copy.contents(path)
        return cls(path, path.stat().st_size, found.revision, found.accounts, found.datasets, found.examples)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "bytes": self.size,
            "schema": self.revision,
            "accounts": self.accounts,
            "datasets": self.datasets,
            "examples": self.examples,
        }

    def described(self) -> str:
        who = ", ".join(self.accounts) or _("no account")
        examples = ngettext("{count} example", "{count} examples", self.examples).format(count=self.examples)
        datasets = ngettext("{count} dataset", "{count} datasets", self.datasets).format(count=self.datasets)
        return _("{examples} in {datasets} ({accounts}; {size:.1f} MB)").format(
            examples=examples, datasets=datasets, accounts=who, size=self.size / 1e6
        )


def counted(number: int, noun: str) -> str:
    """'1 dataset', '3 datasets'."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def backup(home: Home, out: Path) -> tuple[DatabaseSummary, float]:
    """Writes a copy of the database to `out` (replacing it whole, readable by this account only);
    returns what the copy holds and how many seconds it took."""
    target = out.expanduser().resolve()
    if target.is_dir():
        raise InvalidInput(
            _("{target} is a directory; give the file to write, such as {example}.").format(
                target=target, example=target / "forge-backup.db"
            )
        )
    if target in {p.resolve() for p in database_family(home.db_path)} or target == home.db_path.resolve():
        raise InvalidInput(
            _("{target} is the database itself; write the backup to another file.").format(target=target)
        )
    started = time.monotonic()
    with files.scratch_beside(target) as scratch:
        try:
            db_copy.snapshot(home.db_path, scratch)
            problem = db_copy.integrity_problem(scratch)
        except sqlite3.DatabaseError as exc:
            raise database_damage(home.db_path, exc) or ForgeError(
                _("Cannot back up {db_path} (SQLite: {problem}); nothing was written.").format(
                    db_path=home.db_path, problem=sqlite_message(exc)
                )
            ) from None
        if problem is not None:
            raise ForgeError(
                _(
                    "The copy of {db_path} fails SQLite's integrity check ({problem}): the database "
                    "itself is damaged, so nothing was written."
                ).format(db_path=home.db_path, problem=problem)
            )
        os.replace(scratch, target)
    return DatabaseSummary.of(target), time.monotonic() - started
