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
    command_help,
    echo,
    errors,
    fail,
    open_home,
    read_stdin_lines,
    state,
)
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.backup import DatabaseSummary

KEPT_AS = "forge.db.before-restore-TIME"


@command_help(
    _(
        "Copy the database while forge-tui runs, through SQLite's online backup: one consistent "
        "snapshot, still encrypted (each account's password or recovery key opens its part)."
    )
)
def backup(
    out: Annotated[
        Path, typer.Option("--out", "-o", help=_("The file to write (replaced whole, readable by you only)."))
    ],
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.backup import backup as copy_database

    with errors():
        summary, seconds = copy_database(open_home(), out)
    if as_json:
        echo(json.dumps({**summary.to_json(), "seconds": round(seconds, 3)}, ensure_ascii=False))
    else:
        echo(
            _("Backed up {what} to {path} in {seconds} s; it stays encrypted.").format(
                what=summary.described(), path=summary.path, seconds=f"{seconds:.1f}"
            )
        )


@command_help(
    _(
        "Replace the database with a backup, once the backup is checked: SQLite's integrity "
        "check, a schema this version knows (upgraded), and an account of it that unlocks with "
        "the password. The database it replaces is kept beside it as "
        "forge.db.before-restore-TIME."
    )
)
def restore(
    file: Annotated[Path, typer.Argument(help=_("A backup written by `forge-tui backup` (or a copy of forge.db)."))],
    user: UserOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before replacing the database."))] = False,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
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
    echo(_("Restored {what} from {path}.").format(what=restored.restored.described(), path=file))
    if restored.kept is not None:
        echo(_("The database it replaced is kept as {path}.").format(path=restored.kept))
    echo(_("Close and start again any forge-tui that was open: it still shows the replaced database's state."))


def _password(password_stdin: bool, user: str | None, summary: DatabaseSummary) -> str:
    if password_stdin:
        return read_stdin_lines(1, _("the password"))[0]
    if not sys.stdin.isatty():
        raise InvalidInput(_("This needs a password of the backup: give it on standard input with --password-stdin."))
    who = user or (summary.accounts[0] if len(summary.accounts) == 1 else None)
    prompt = (
        _("Password of {name} in the backup").format(name=who) if who else _("Password of the account in the backup")
    )
    password: str = typer.prompt(prompt, hide_input=True)
    return password


def _confirm(backup: DatabaseSummary, now: DatabaseSummary | None, home_dir: Path) -> None:
    if not sys.stdin.isatty():
        raise InvalidInput(_("Refusing to replace the database without --yes when nobody can answer the question."))
    echo(_("The backup holds {what}.").format(what=backup.described()))
    if now:
        replaces = _("It replaces the database in {folder}, which holds {what} and is kept as {kept}.")
        echo(replaces.format(folder=home_dir, what=now.described(), kept=KEPT_AS))
    else:
        replaces = _("It replaces the database in {folder}, which cannot be read now and is kept as {kept}.")
        echo(replaces.format(folder=home_dir, kept=KEPT_AS))
    if not typer.confirm(_("Replace the database with the backup?"), default=False):
        fail(_("cancelled; nothing changed"), EXIT_CANCELLED)
