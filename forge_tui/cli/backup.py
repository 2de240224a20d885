"""`forge-tui backup` and `forge-tui restore`: the database copied out while the app runs, and a
backup put back after it has been checked."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.common import (
    EXIT_CANCELLED,
    JsonOpt,
    PasswordStdin,
    UserOpt,
    echo,
    errors,
    fail,
    open_home,
    read_stdin_lines,
    state,
)
from forge_tui.core.errors import InvalidInput

if TYPE_CHECKING:
    from forge_tui.services.backup import DatabaseSummary

KEPT_AS = "forge.db.before-restore-TIME"


def backup(
    out: Annotated[Path, typer.Option("--out", "-o", help="The file to write (replaced whole, readable by you only).")],
    as_json: JsonOpt = False,
) -> None:
    """Copy the database while forge-tui runs, through SQLite's online backup: one consistent
    snapshot, still encrypted (each account's password or recovery key opens its part)."""
    from forge_tui.services.backup import backup as copy_database

    with errors():
        summary, seconds = copy_database(open_home(), out)
    if as_json:
        echo(json.dumps({**summary.to_json(), "seconds": round(seconds, 3)}, ensure_ascii=False))
    else:
        echo(f"Backed up {summary.described()} to {summary.path} in {seconds:.1f} s; it stays encrypted.")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by `forge-tui backup` (or a copy of forge.db).")],
    user: UserOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before replacing the database.")] = False,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    """Replace the database with a backup, once the backup is checked: SQLite's integrity check, a
    schema this version knows (upgraded), and an account of it that unlocks with the password. The
    database it replaces is kept beside it as forge.db.before-restore-TIME."""
    from forge_tui.services.config import resolve_home
    from forge_tui.services.restore import current, open_backup
    from forge_tui.services.restore import restore as replace_database

    with errors():
        home_dir = resolve_home(state.home_dir)
        with open_backup(home_dir, file) as found:
            summary = found.summary()
            found.unlock(user, _password(password_stdin, user, summary))
            if not yes:
                _confirm(summary, current(home_dir), home_dir)
            restored = replace_database(found)
    if as_json:
        echo(json.dumps(restored.to_json(), ensure_ascii=False))
        return
    echo(f"Restored {restored.restored.described()} from {file}.")
    if restored.kept is not None:
        echo(f"The database it replaced is kept as {restored.kept}.")
    echo("Close and start again any forge-tui that was open: it still shows the replaced database's state.")


def _password(password_stdin: bool, user: str | None, summary: DatabaseSummary) -> str:
    if password_stdin:
        return read_stdin_lines(1, "the password")[0]
    if not sys.stdin.isatty():
        raise InvalidInput("This needs a password of the backup: give it on standard input with --password-stdin.")
    who = user or (summary.accounts[0] if len(summary.accounts) == 1 else "the account")
    password: str = typer.prompt(f"Password of {who} in the backup", hide_input=True)
    return password


def _confirm(backup: DatabaseSummary, now: DatabaseSummary | None, home_dir: Path) -> None:
    if not sys.stdin.isatty():
        raise InvalidInput("Refusing to replace the database without --yes when nobody can answer the question.")
    echo(f"The backup holds {backup.described()}.")
    held = f"holds {now.described()}" if now else "cannot be read now"
    echo(f"It replaces the database in {home_dir}, which {held} and is kept as {KEPT_AS}.")
    if not typer.confirm("Replace the database with the backup?", default=False):
        fail("cancelled; nothing changed", EXIT_CANCELLED)
