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
    command_help,
    echo,
    errors,
    fail,
    open_home,
    pick_username,
    read_stdin_lines,
    sub_app,
)
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _, ngettext

user_app = sub_app(_("Create accounts and manage passwords."))


def ask_new_password(password_stdin: bool, lines: list[str] | None = None) -> str:
    if password_stdin:
        assert lines is not None
        return lines.pop(0)
    value: str = typer.prompt(_("New password"), hide_input=True, confirmation_prompt=_("Repeat the password"))
    return value


@user_app.command("create")
@command_help(_("Create an account and print its recovery key (shown only once)."))
def user_create(
    username: Annotated[str, typer.Option("--username", "-u", prompt=True, help=_("Login name."))],
    display_name: Annotated[str, typer.Option("--display-name", help=_("Name shown in the app."))] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        lines = read_stdin_lines(1, _("the password")) if password_stdin else None
        created = accounts.create_user(username, display_name, ask_new_password(password_stdin, lines))
    echo(_("Created account '{name}'.").format(name=created.user.username))
    echo("")
    echo(_("Recovery key: {key}").format(key=created.recovery_key))
    echo(
        _(
            "Store it somewhere safe, away from this machine. It is shown only now, and it is the only way\n"
            "to open your datasets if you forget the password."
        )
    )


@user_app.command("change-password")
@command_help(
    _(
        "Change the password; the data stays readable (the data key is re-wrapped, not "
        "re-sealed).\n\n"
        "With --password-stdin: the current password on the first line, the new one on the "
        "second."
    )
)
def user_change_password(user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        username = pick_username(accounts, user)
        if password_stdin:
            old, new = read_stdin_lines(2, _("the current and the new password"))
        else:
            old = typer.prompt(_("Current password"), hide_input=True)
            new = ask_new_password(False)
        accounts.change_password(username, old, new)
    echo(_("Password changed for '{name}'.").format(name=username))


@user_app.command("reset-password")
@command_help(
    _(
        "Set a new password for a forgotten one, with the recovery key.\n\n"
        "Without the recovery key, existing datasets cannot be opened again: they are kept, "
        "sealed, never deleted, and the account starts afresh with a new key."
    )
)
def user_reset_password(
    user: UserOpt = None,
    recovery_key: Annotated[
        str | None, typer.Option("--recovery-key", help=_("The key printed when the account was created."))
    ] = None,
    no_recovery_key: Annotated[
        bool, typer.Option("--no-recovery-key", help=_("The recovery key is lost: start a new key."))
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before going on without the key."))] = False,
    password_stdin: PasswordStdin = False,
) -> None:
    from forge_tui.services.accounts import AccountService

    with errors():
        accounts = AccountService(open_home())
        username = pick_username(accounts, user)
        accounts.get(username)
        if recovery_key is None and not no_recovery_key:
            if password_stdin or not sys.stdin.isatty():
                raise InvalidInput(_("Give --recovery-key KEY, or --no-recovery-key if it is lost."))
            recovery_key = (
                typer.prompt(
                    _("Recovery key (leave empty if you have lost it)"), default="", show_default=False
                ).strip()
                or None
            )
        if recovery_key is not None and not accounts.check_recovery_key(username, recovery_key):
            from forge_tui.services.accounts import AuthFailed

            raise AuthFailed(_("That recovery key does not match this account."))
        if recovery_key is None:
            at_risk = accounts.datasets_at_risk(username)
            echo(_("Without the recovery key, the datasets sealed with the old key cannot be opened again:"))
            for ds in at_risk:
                echo("  - " + _("{name} ({count} examples)").format(name=ds.name, count=ds.example_count))
            echo(_("They are kept, not deleted, and the account goes on with a new, empty dataset."))
            if not yes:
                if not sys.stdin.isatty():
                    raise InvalidInput(_("Refusing to go on without --yes when nobody can answer the question."))
                if not typer.confirm(_("Go on with a new key?"), default=False):
                    fail(_("cancelled; nothing changed"), EXIT_CANCELLED)
        lines = read_stdin_lines(1, _("the new password")) if password_stdin else None
        outcome = accounts.reset_password(username, ask_new_password(password_stdin, lines), recovery_key)
    echo(_("Password reset for '{name}'.").format(name=username))
    if outcome.sealed_datasets:
        echo(_("Still sealed with the old key: {names}.").format(names=", ".join(outcome.sealed_datasets)))
    echo(_("New recovery key: {key}").format(key=outcome.recovery_key))
    echo(_("Store it somewhere safe; the old recovery key no longer works."))


@user_app.command("rotate-key")
@command_help(
    _(
        "Give the account a new random data key: every dataset, template and custom format is "
        "sealed again under it, and a new recovery key replaces the old one. Use it when a "
        "recovery key or an old password may have leaked. Stopped midway, every dataset still "
        "opens: run it again to finish."
    )
)
def user_rotate_key(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.key_rotation import RotationStep, rotate_key

    def progress(step: RotationStep) -> None:
        if step.stage == "resumed":
            echo(_("Finishing the key rotation that was cut off before."), err=True)
        elif step.stage == "switched":
            sealed = ngettext(
                "Dataset '{dataset}': {count} example sealed with the new key.",
                "Dataset '{dataset}': {count} examples sealed with the new key.",
                step.done,
            )
            echo(sealed.format(dataset=step.dataset, count=step.done), err=True)

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
    moved = _("{datasets} ({examples}), {templates} and {formats}").format(
        datasets=ngettext("{count} dataset", "{count} datasets", outcome.datasets).format(count=outcome.datasets),
        examples=ngettext("{count} example", "{count} examples", outcome.examples).format(count=outcome.examples),
        templates=ngettext("{count} template", "{count} templates", outcome.templates).format(count=outcome.templates),
        formats=ngettext("{count} custom format", "{count} custom formats", outcome.formats).format(
            count=outcome.formats
        ),
    )
    echo(_("Key rotated for '{name}': {moved} sealed with the new key.").format(name=username, moved=moved))
    if outcome.damaged:
        damaged = ngettext(
            "{count} damaged example moved as far as it opens (`datasets verify` names it).",
            "{count} damaged examples moved as far as they open (`datasets verify` names them).",
            outcome.damaged,
        )
        echo(damaged.format(count=outcome.damaged))
    echo(_("New recovery key: {key}").format(key=outcome.recovery_key))
    echo(
        _(
            "Store it somewhere safe; the old recovery key no longer works. Backups made before still open\n"
            "with the old password and recovery key: delete them if those may have leaked."
        )
    )
