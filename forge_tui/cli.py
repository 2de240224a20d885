"""The `forge-tui` command: the TUI by default, and subcommands that share its services."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from forge_tui import __version__
from forge_tui.core.errors import ForgeError, InvalidInput

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.core.chat import ModelInfo
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.backends import DoctorReport
    from forge_tui.services.datasets import DatasetService
    from forge_tui.services.home import Home

EXIT_CODES_HELP = """\
Exit codes: 0 success · 1 error · 2 bad input or usage · 3 wrong password or recovery key ·
4 too many unlock attempts (wait and retry) · 5 not found · 6 model server unreachable or failing ·
130 cancelled.

Data directory: --home DIR, else $FORGE_TUI_HOME, else the platform's user data directory.
"""

EXIT_CANCELLED = 130

app = typer.Typer(
    name="forge-tui",
    help="Build LLM fine-tuning datasets with local models, from the terminal.",
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
user_app = typer.Typer(help="Create accounts and manage passwords.", epilog=EXIT_CODES_HELP, rich_markup_mode=None)
datasets_app = typer.Typer(help="List and manage datasets.", epilog=EXIT_CODES_HELP, rich_markup_mode=None)
app.add_typer(user_app, name="user")
app.add_typer(datasets_app, name="datasets")

T = TypeVar("T")


class _State:
    home_dir: str | None = None


_state = _State()


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"forge-tui: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def _errors() -> Iterator[None]:
    """Turns the errors services raise into a message on stderr and a documented exit code."""
    try:
        yield
    except ForgeError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("cancelled", EXIT_CANCELLED)


def _open_home() -> Home:
    from forge_tui.services.home import open_home

    return open_home(_state.home_dir)


def _read_stdin_lines(count: int, what: str) -> list[str]:
    lines = []
    for _ in range(count):
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(f"--password-stdin expects {what} on standard input, one per line.")
        lines.append(line.rstrip("\r\n"))
    return lines


def _ask_new_password(password_stdin: bool, lines: list[str] | None = None) -> str:
    if password_stdin:
        assert lines is not None
        return lines.pop(0)
    value: str = typer.prompt("New password", hide_input=True, confirmation_prompt="Repeat the password")
    return value


def _pick_username(accounts: AccountService, username: str | None) -> str:
    if username:
        return username
    names = accounts.usernames()
    if not names:
        raise InvalidInput("There is no account yet: create one with `forge-tui user create`.")
    if len(names) > 1:
        raise InvalidInput(f"Several accounts exist ({', '.join(names)}); choose one with --user.")
    return names[0]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forge-tui {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option(
            "--home",
            metavar="DIR",
            show_default=False,
            help="Data directory (default: $FORGE_TUI_HOME, else the user data dir).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Start the TUI when no command is given."""
    _state.home_dir = home
    if ctx.invoked_subcommand is not None:
        return
    with _errors():
        home_obj = _open_home()
    from forge_tui.ui.app import ForgeApp

    ForgeApp(home_obj).run()


# --- user ---------------------------------------------------------------------------------

UserOpt = Annotated[str | None, typer.Option("--user", "-u", help="Account name (default: the only account).")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read passwords from standard input, one per line.")
]


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Option("--username", "-u", prompt=True, help="Login name.")],
    display_name: Annotated[str, typer.Option("--display-name", help="Name shown in the app.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create an account and print its recovery key (shown only once)."""
    from forge_tui.services.accounts import AccountService

    with _errors():
        accounts = AccountService(_open_home())
        lines = _read_stdin_lines(1, "the password") if password_stdin else None
        created = accounts.create_user(username, display_name, _ask_new_password(password_stdin, lines))
    typer.echo(f"Created account '{created.user.username}'.")
    typer.echo("")
    typer.echo(f"Recovery key: {created.recovery_key}")
    typer.echo("Store it somewhere safe, away from this machine. It is shown only now, and it is the only way")
    typer.echo("to open your datasets if you forget the password.")


@user_app.command("change-password")
def user_change_password(user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    """Change the password; the data stays readable (the data key is re-wrapped, not re-sealed).

    With --password-stdin: the current password on the first line, the new one on the second."""
    from forge_tui.services.accounts import AccountService

    with _errors():
        accounts = AccountService(_open_home())
        username = _pick_username(accounts, user)
        if password_stdin:
            old, new = _read_stdin_lines(2, "the current and the new password")
        else:
            old = typer.prompt("Current password", hide_input=True)
            new = _ask_new_password(False)
        accounts.change_password(username, old, new)
    typer.echo(f"Password changed for '{username}'.")


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

    with _errors():
        accounts = AccountService(_open_home())
        username = _pick_username(accounts, user)
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
            typer.echo("Without the recovery key, the datasets sealed with the old key cannot be opened again:")
            for ds in at_risk:
                typer.echo(f"  - {ds.name} ({ds.example_count} examples)")
            typer.echo("They are kept, not deleted, and the account goes on with a new, empty dataset.")
            if not yes:
                if not sys.stdin.isatty():
                    raise InvalidInput("Refusing to go on without --yes when nobody can answer the question.")
                if not typer.confirm("Go on with a new key?", default=False):
                    _fail("cancelled; nothing changed", EXIT_CANCELLED)
        lines = _read_stdin_lines(1, "the new password") if password_stdin else None
        outcome = accounts.reset_password(username, _ask_new_password(password_stdin, lines), recovery_key)
    typer.echo(f"Password reset for '{username}'.")
    if outcome.sealed_datasets:
        typer.echo(f"Still sealed with the old key: {', '.join(outcome.sealed_datasets)}.")
    typer.echo(f"New recovery key: {outcome.recovery_key}")
    typer.echo("Store it somewhere safe; the old recovery key no longer works.")


# --- datasets -----------------------------------------------------------------------------


def _datasets_for(user: str | None) -> DatasetService:
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.datasets import DatasetService

    home = _open_home()
    accounts = AccountService(home)
    return DatasetService(home, accounts.get(_pick_username(accounts, user)))


def _run(action: Callable[[], T]) -> T:
    with _errors():
        return action()
    raise AssertionError("unreachable")  # pragma: no cover


@datasets_app.command("list")
def datasets_list(
    user: UserOpt = None,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived datasets.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List datasets with their example counts."""
    found = _run(lambda: _datasets_for(user).list(include_archived=archived))
    if as_json:
        typer.echo(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        typer.echo("No datasets.")
        return
    current = _run(lambda: _datasets_for(user).current())
    width = max(len(d.name) for d in found)
    for d in found:
        flags = [f for f, on in (("archived", d.archived), ("sealed with an old key", not d.readable)) if on]
        extra = f"  ({', '.join(flags)})" if flags else ""
        mark = "*" if current is not None and d.id == current.id else " "
        typer.echo(f"{mark} {d.name:<{width}}  {d.example_count:>7} examples{extra}")


@datasets_app.command("create")
def datasets_create(
    name: str,
    user: UserOpt = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Create a dataset."""
    created = _run(lambda: _datasets_for(user).create(name, description))
    typer.echo(f"Created dataset '{created.name}'.")


@datasets_app.command("rename")
def datasets_rename(name: str, new_name: str, user: UserOpt = None) -> None:
    """Rename a dataset."""
    renamed = _run(lambda: _datasets_for(user).rename(name, new_name))
    typer.echo(f"Renamed '{name}' to '{renamed.name}'.")


@datasets_app.command("archive")
def datasets_archive(
    name: str,
    user: UserOpt = None,
    undo: Annotated[bool, typer.Option("--undo", help="Unarchive instead.")] = False,
) -> None:
    """Archive a dataset (hidden from lists, nothing deleted); --undo brings it back."""
    ds = _run(lambda: _datasets_for(user).set_archived(name, not undo))
    typer.echo(f"{'Unarchived' if undo else 'Archived'} '{ds.name}'.")


@datasets_app.command("unarchive")
def datasets_unarchive(name: str, user: UserOpt = None) -> None:
    """Bring an archived dataset back."""
    ds = _run(lambda: _datasets_for(user).set_archived(name, False))
    typer.echo(f"Unarchived '{ds.name}'.")


@datasets_app.command("verify")
def datasets_verify(name: str, user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    """Open every sealed field of a dataset and report rows that fail (exit 1 when any does)."""
    from forge_tui.services.accounts import AccountService

    with _errors():
        home = _open_home()
        accounts = AccountService(home)
        username = _pick_username(accounts, user)
        password = (
            _read_stdin_lines(1, "the password")[0] if password_stdin else typer.prompt("Password", hide_input=True)
        )
        unlocked = accounts.unlock(username, password)
        from forge_tui.services.workspace import Workspace

        workspace = Workspace.open(home, unlocked)
        report = workspace.verify(workspace.datasets.get(name))
    for item in report.broken:
        typer.echo(item.reason, err=True)
    broken = report.broken
    typer.echo(f"{report.dataset}: {report.total} examples, {report.total - len(broken)} open, {len(broken)} broken.")
    if broken:
        raise typer.Exit(1)


# --- model server ---------------------------------------------------------------------------

KindOpt = Annotated[
    str | None, typer.Option("--kind", help="ollama or openai (default: the account's Settings, else ollama).")
]
UrlOpt = Annotated[str | None, typer.Option("--url", help="Base URL of the model server (overrides Settings).")]


def _backend_settings(user: str | None, kind: str | None, url: str | None) -> tuple[Home, BackendSettings]:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.settings import SettingsService

    home = _open_home()
    accounts = AccountService(home)
    names = accounts.usernames()
    settings = BackendSettings()
    if user or len(names) == 1:
        settings = SettingsService(home, accounts.get(user or names[0])).backend()
    updates: dict[str, object] = {}
    if kind:
        if kind not in ("ollama", "openai"):
            raise InvalidInput("--kind is 'ollama' or 'openai'.")
        if kind != settings.kind:
            updates["base_url"] = None
        updates["kind"] = kind
    if url:
        updates["base_url"] = url
    return home, settings.model_copy(update=updates)


@app.command("doctor")
def doctor(
    user: UserOpt = None,
    kind: KindOpt = None,
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the model server, the models it has, the data directory and the database schema.

    Exits 6 when the model server cannot be reached."""
    import asyncio

    from forge_tui.services.backends import BackendService
    from forge_tui.services.db_info import schema_status

    with _errors():
        home, settings = _backend_settings(user, kind, url)

        async def run() -> tuple[str, DoctorReport]:
            async with BackendService(settings) as service:
                return service.label, await service.doctor()

        label, report = asyncio.run(run())
        current, head = schema_status(home)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "backend": {
                        "kind": settings.kind,
                        "url": report.health.base_url,
                        "reachable": report.health.ok,
                        "version": report.health.version,
                        "message": report.health.message,
                    },
                    "models": [m.name for m in report.models],
                    "data_dir": str(home.path),
                    "schema": {"current": current, "head": head},
                },
                indent=2,
            )
        )
    else:
        state = "ok" if report.health.ok else "NOT REACHABLE"
        typer.echo(f"backend      {label}: {state}")
        if report.health.version:
            typer.echo(f"version      {report.health.version}")
        if not report.health.ok:
            typer.echo(f"             {report.health.message}")
        elif report.models_error:
            typer.echo(f"models       could not list: {report.models_error}")
        else:
            names = ", ".join(m.name for m in report.models) or "none — pull one first"
            typer.echo(f"models       {len(report.models)}: {names}")
        typer.echo(f"data dir     {home.path}")
        typer.echo(f"schema       {current} (head {head})" + ("" if current == head else " — out of date"))
        for name, model in (("generation", settings.generation_model), ("paraphrase", settings.paraphrase_model)):
            if model:
                present = any(m.name == model for m in report.models)
                note = "" if present or not report.health.ok else " — not on the server"
                typer.echo(f"{name:<12} {model}{note}")
    if not report.health.ok:
        raise typer.Exit(6)


@app.command("models")
def models(
    user: UserOpt = None,
    kind: KindOpt = None,
    url: UrlOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the models the server has, with size, parameter count and quantisation."""
    import asyncio

    from forge_tui.services.backends import BackendService

    with _errors():
        _, settings = _backend_settings(user, kind, url)

        async def run() -> list[ModelInfo]:
            async with BackendService(settings) as service:
                return await service.models()

        found = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2))
        return
    if not found:
        typer.echo("The server has no models. With Ollama: `ollama pull llama3.2`.")
        return
    rows = [("NAME", "SIZE", "PARAMS", "QUANT", "FAMILY")] + [
        (m.name, m.size_text, m.parameter_size or "—", m.quantization or "—", m.family or "—") for m in found
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        typer.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())


def main() -> None:
    app()
