"""What every command shares: the data directory, error handling and exit codes, passwords on stdin."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from forge_tui.core.errors import ForgeError, InvalidInput

if TYPE_CHECKING:
    from forge_tui.core.models import UserInfo
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import Home
    from forge_tui.services.workspace import Workspace

EXIT_CODES_HELP = """\
Exit codes: 0 success · 1 error · 2 bad input or usage · 3 wrong password or recovery key ·
4 too many unlock attempts (wait and retry) · 5 not found · 6 model server unreachable or failing ·
7 database busy (another process kept writing; nothing was changed, retry) · 130 cancelled.

Data directory: --home DIR, else $FORGE_TUI_HOME, else the platform's user data directory.
"""

EXIT_CANCELLED = 130


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, epilog=EXIT_CODES_HELP, rich_markup_mode=None, no_args_is_help=True)


T = TypeVar("T")


class _State:
    home_dir: str | None = None


state = _State()


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"forge-tui: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turns the errors services raise into a message on stderr and a documented exit code."""
    try:
        yield
    except ForgeError as exc:
        fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        fail("cancelled", EXIT_CANCELLED)


def run(action: Callable[[], T]) -> T:
    with errors():
        return action()
    raise AssertionError("unreachable")  # pragma: no cover


def open_home() -> Home:
    from forge_tui.services.home import BUSY_NOTICE
    from forge_tui.services.home import open_home as open_

    return open_(state.home_dir, on_busy=lambda: typer.echo(f"forge-tui: {BUSY_NOTICE}", err=True))


def read_stdin_lines(count: int, what: str) -> list[str]:
    lines = []
    for _ in range(count):
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(f"--password-stdin expects {what} on standard input, one per line.")
        lines.append(line.rstrip("\r\n"))
    return lines


def pick_username(accounts: AccountService, username: str | None) -> str:
    if username:
        return username
    names = accounts.usernames()
    if not names:
        raise InvalidInput("There is no account yet: create one with `forge-tui user create`.")
    if len(names) > 1:
        raise InvalidInput(f"Several accounts exist ({', '.join(names)}); choose one with --user.")
    return names[0]


def account(home: Home, username: str | None) -> UserInfo:
    """The user a command acts for (no password needed: for plain columns only)."""
    from forge_tui.services.accounts import AccountService

    accounts = AccountService(home)
    return accounts.get(pick_username(accounts, username))


def unlock_workspace(home: Home, username: str | None, password_stdin: bool) -> Workspace:
    """Asks for the password (or reads it from stdin) and opens the user's workspace."""
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.workspace import Workspace

    accounts = AccountService(home)
    name = pick_username(accounts, username)
    accounts.get(name)
    if password_stdin:
        password = read_stdin_lines(1, "the password")[0]
    else:
        if not sys.stdin.isatty():
            raise InvalidInput("This needs the password: give it on standard input with --password-stdin.")
        password = typer.prompt(f"Password for {name}", hide_input=True)
    return Workspace.open(home, accounts.unlock(name, password))


UserOpt = Annotated[str | None, typer.Option("--user", "-u", help="Account name (default: the only account).")]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read passwords from standard input, one per line.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
