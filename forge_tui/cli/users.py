"""`forge-tui user …`: accounts and passwords."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from forge_tui.cli.common import (
    EXIT_CANCELLED,
    JsonOpt,
    PasswordStdin,
    UserOpt,
    ask_password,
    echo,
    errors,
    fail,
    open_home,
    pick_username,
    read_stdin_lines,
    sub_app,
)
from forge_tui.core.errors import InvalidInput

user_app = sub_app("Create accounts and manage passwords.")


def ask_new_password(password_stdin: bool, lines: list[str] | None = None) -> str:
    if password_stdin:
        assert lines is not None
        return lines.pop(0)
    value: str = typer.prompt("New password", hide_input=True, confirmation_prompt="Repeat the password")
    return value


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option("--username", "-u", prompt=True, help="Login name.")],
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown in the app.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account and print its recovery key (shown only once)."""
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        lines = read_stdin_lines(1, "the password") if password_stdin else None
        created = accounts.create_user(username, display_name, ask_new_password(password_stdin, lines))
    echo(f"Created account '{created.user.username}'.")
    echo("")
    echo(f"Recovery key: {created.recovery_key}")
    echo("Store it somewhere safe, away from this machine. It is shown only now, and it is the only way")
    echo("to open your datasets if you forget the password.")


@user_app.command("change-password")
def user_change_password(user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    """Change the password; the data stays readable (the data key is re-wrapped, not re-sealed).

    With --password-stdin: the current password on the first line, the new one on the second."""
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        username = pick_username(accounts, user)
        if password_stdin:
            old, new = read_stdin_lines(2, "the current and the new password")
        else:
            old = typer.prompt("Current password", hide_input=True)
            new = ask_new_password(False)
        accounts.change_password(username, old, new)
    echo(f"Password changed for '{username}'.")


@user_app.command("reset-password")
def user_reset_password(
    user: UserOpt = None,
    recovery_key: Annotated[
        str | None, typer.Option("--recovery-key", help="The key printed when the account was created.")
    ] = None,
    no_recovery_key: Annotated[
        bool, typer.Option("--no-recovery-key", help="The recovery key is lost: start a new key.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before going on without the key.")] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password for a forgotten one, with the recovery key.

    Without the recovery key, existing datasets cannot be opened again: they are kept, sealed,
    never deleted, and the account starts afresh with a new key."""
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        username = pick_username(accounts, user)
        accounts.get(username)
        if recovery_key is None and not no_recovery_key:
            if password_stdin or not sys.stdin.isatty():
                raise InvalidInput("Give --recovery-key KEY, or --no-recovery-key if it is lost.")
            recovery_key = (
                typer.prompt("Recovery key (leave empty if you have lost it)", default="", show_default=False).strip()
                or None
            )
        if recovery_key is not None and not accounts.check_recovery_key(username, recovery_key):
            from forge_tui.services.accounts import AuthFailed

            raise AuthFailed("That recovery key does not match this account.")
        if recovery_key is None:
            at_risk = accounts.datasets_at_risk(username)
            echo("Without the recovery key, the datasets sealed with the old key cannot be opened again:")
            for ds in at_risk:
                echo(f"  - {ds.name} ({ds.example_count} examples)")
            echo("They are kept, not deleted, and the account goes on with a new, empty dataset.")
            if not yes:
                if not sys.stdin.isatty():
                    raise InvalidInput("Refusing to go on without --yes when nobody can answer the question.")
                if not typer.confirm("Go on with a new key?", default=False):
                    fail("cancelled; nothing changed", EXIT_CANCELLED)
        lines = read_stdin_lines(1, "the new password") if password_stdin else None
        outcome = accounts.reset_password(username, ask_new_password(password_stdin, lines), recovery_key)
    echo(f"Password reset for '{username}'.")
    if outcome.sealed_datasets:
        echo(f"Still sealed with the old key: {', '.join(outcome.sealed_datasets)}.")
    echo(f"New recovery key: {outcome.recovery_key}")
    echo("Store it somewhere safe; the old recovery key no longer works.")


@user_app.command("rotate-key")
def user_rotate_key(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    """Give the account a new random data key: every dataset, template and custom format is sealed
    again under it, and a new recovery key replaces the old one. Use it when a recovery key or an
    old password may have leaked. Stopped midway, every dataset still opens: run it again to finish."""
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.backup import counted
    from forge_tui.services.key_rotation import RotationStep, rotate_key

    def progress(step: RotationStep) -> None:
        if step.stage == "resumed":
            echo("Finishing the key rotation that was cut off before.", err=True)
        elif step.stage == "switched":
            examples = f"{step.done} example{'' if step.done == 1 else 's'}"
            echo(f"Dataset '{step.dataset}': {examples} sealed with the new key.", err=True)

    with errors():
        home = open_home()
        username, password = ask_password(AccountService(home), user, password_stdin)
        outcome = rotate_key(home, username, password, progress)
    if as_json:
        summary = {
            "user": username,
            "resumed": outcome.resumed,
            "datasets": outcome.datasets,
            "examples": outcome.examples,
            "templates": outcome.templates,
            "formats": outcome.formats,
            "jobs": outcome.jobs,
            "damaged": outcome.damaged,
            "recovery_key": outcome.recovery_key,
        }
        echo(json.dumps(summary))
        return
    moved = (
        f"{counted(outcome.datasets, 'dataset')} ({counted(outcome.examples, 'example')}), "
        f"{counted(outcome.templates, 'template')} and {counted(outcome.formats, 'custom format')}"
    )
    echo(f"Key rotated for '{username}': {moved} sealed with the new key.")
    if outcome.damaged:
        damaged = counted(outcome.damaged, "damaged example")
        echo(f"{damaged} moved as far as they open (`datasets verify` names them).")
    echo(f"New recovery key: {outcome.recovery_key}")
    echo("Store it somewhere safe; the old recovery key no longer works. Backups made before still open")
    echo("with the old password and recovery key: delete them if those may have leaked.")
