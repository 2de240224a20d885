"""What every command shares: the data directory, error handling and exit codes, passwords on stdin."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.cells import cell_len
from rich.text import Text
from typer.core import TyperGroup

from forge_tui.core.control_chars import escape_controls
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.i18n import _
from forge_tui.services.files import remove_temporaries

if TYPE_CHECKING:
    from typer._click import Context, HelpFormatter  # the click that typer bundles

    from forge_tui.core.models import UserInfo
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import Home
    from forge_tui.services.workspace import Workspace

# Translated when imported: forge_tui.cli.main() sets the language before the command modules load.
EXIT_CODES_HELP = (
    _(
        "Exit codes: 0 success · 1 error · 2 bad input or usage · 3 wrong password or recovery key · "
        "4 too many unlock attempts (wait and retry) · 5 not found · 6 model server unreachable or failing · "
        "7 database busy (another process kept writing; nothing was changed, retry) · "
        "129 stopped by SIGHUP · 130 cancelled (Ctrl-C, SIGINT) · 143 stopped by SIGTERM. A stopped export "
        "leaves no file behind, whole or partial."
    )
    + "\n\n"
    + _("Data directory: --home DIR, else $FORGE_TUI_HOME, else the platform's user data directory.")
)

EXIT_CANCELLED = 130
_ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name))


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwinds like Ctrl-C's KeyboardInterrupt, so every cleanup runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    received: int | None = None  # the ending signal that arrived during this command


_signals = _Signals()


def _on_ending_signal(signum: int, _frame: FrameType | None) -> None:
    # The temporary files go first, here: the exception below can land where Python only prints it
    # (a fork hook, a finalizer); then the export stops at its next step (services.files.stopping)
    # and errors() still ends with this signal's exit code.
    _signals.received = signum
    remove_temporaries()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _quiet_unraisable(previous: Callable[[Any], object]) -> Callable[[Any], object]:
    """The stop raised by _on_ending_signal can land in a finalizer or an import lock's callback,
    where Python prints "Exception ignored" with a traceback; the stop has been recorded and still
    ends the command, so that print is dropped. Anything else is printed as before."""

    def hook(unraisable: Any) -> object:
        if _signals.received is not None and isinstance(unraisable.exc_value, KeyboardInterrupt | Terminated):
            return None
        return previous(unraisable)

    return hook


def handle_ending_signals() -> Callable[[], None]:
    """Makes SIGTERM and SIGHUP end a command the way Ctrl-C does (temporary files removed, worker
    processes stopped, exit code 128 + the signal's number); returns what puts the old handlers back."""
    _signals.received = None
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {ending: signal.signal(ending, _on_ending_signal) for ending in _ENDING_SIGNALS}
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _quiet_unraisable(previous_hook)

    def restore() -> None:
        for ending, handler in previous.items():
            signal.signal(ending, handler)
        sys.unraisablehook = previous_hook

    return restore


def _fail_on_signal(signum: int) -> NoReturn:
    if signum == signal.SIGINT:
        fail(_("cancelled"), EXIT_CANCELLED)
    fail(_("stopped by {signal}").format(signal=signal.Signals(signum).name), 128 + signum)


class _CommandGroup(TyperGroup):
    """A command group whose list shows each command's first sentence, cut to the terminal's cells, where
    its help is in a wide script: click shortens a help at the first space within the width it counts in
    characters, and Chinese has no spaces (a help in English is left to click)."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        names = self.list_commands(ctx)
        room = formatter.width - 6 - max((cell_len(name) for name in names), default=0)
        for name in names:
            command = self.get_command(ctx, name)
            if command is not None and command.help and _wide(command.help) and not command.short_help:
                summary = Text(first_sentence(command.help))
                summary.truncate(room, overflow="ellipsis")
                command.short_help = summary.plain
        super().format_commands(ctx, formatter)


def _wide(text: str) -> bool:
    return any(cell_len(character) > 1 for character in text)


def first_sentence(text: str) -> str:
    """The text up to its first full stop (。), or its first paragraph."""
    paragraph = text.strip().split("\n\n", 1)[0]
    stop = paragraph.find("。")
    return paragraph[: stop + 1] if stop >= 0 else paragraph


def sub_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text, epilog=EXIT_CODES_HELP, rich_markup_mode=None, no_args_is_help=True, cls=_CommandGroup
    )


T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def command_help(text: str) -> Callable[[F], F]:
    """Gives a command registered elsewhere (forge_tui.cli.main) its --help, translated: typer reads
    the function's docstring, which cannot go through `_()`."""

    def decorate(function: F) -> F:
        function.__doc__ = text
        return function

    return decorate


class _State:
    home_dir: str | None = None
    language_flag: str | None = None  # --lang as forge_tui.cli.main() read it
    language_note: str | None = None  # for the TUI to show (a note about the language chosen)


state = _State()


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Prints as typer.echo does, with control characters escaped: names, file content and model
    output reach the terminal as text, never as escape sequences. JSON stays valid (a control
    character only ever sits inside a JSON string, where the escape means the same character)."""
    typer.echo(escape_controls(message), err=err, nl=nl)


def progress(text: str, width: int = 70) -> None:
    """Redraws a progress line on stderr: a carriage return (the one control character let through),
    then the text, escaped as echo escapes it, padded over what the line showed before."""
    typer.echo("\r" + escape_controls(padded(text, width)), err=True, nl=False)


def padded(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal cells (a Chinese character takes two)."""
    return text + " " * (width - cell_len(text))


def fail(message: str, code: int) -> NoReturn:
    echo(f"forge-tui: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def errors() -> Iterator[None]:
    """Turns the errors services raise into a message on stderr and a documented exit code."""
    try:
        yield
    except (ForgeError, KeyboardInterrupt, Terminated) as exc:
        if _signals.received is not None:
            _fail_on_signal(_signals.received)
        if isinstance(exc, Terminated):
            _fail_on_signal(exc.signum)
        if isinstance(exc, KeyboardInterrupt):
            fail(_("cancelled"), EXIT_CANCELLED)
        fail(str(exc), exc.exit_code)
    except Exception as exc:
        damage = _database_damage(exc)
        if damage is None:
            raise
        fail(str(damage), damage.exit_code)


def _database_damage(exc: Exception) -> ForgeError | None:
    from forge_tui.services.config import DB_FILE, resolve_home
    from forge_tui.services.home import database_damage

    return database_damage(resolve_home(state.home_dir) / DB_FILE, exc)


def run(action: Callable[[], T]) -> T:
    with errors():
        return action()
    raise AssertionError("unreachable")  # pragma: no cover


def open_home() -> Home:
    from forge_tui.services.home import BUSY_NOTICE
    from forge_tui.services.home import open_home as open_

    return open_(state.home_dir, on_busy=lambda: typer.echo(f"forge-tui: {_(BUSY_NOTICE)}", err=True))


def read_stdin_lines(count: int, what: str) -> list[str]:
    lines = []
    for _index in range(count):
        line = sys.stdin.readline()
        if not line:
            raise InvalidInput(_("--password-stdin expects {what} on standard input, one per line.").format(what=what))
        lines.append(line.rstrip("\r\n"))
    return lines


def pick_username(accounts: AccountService, username: str | None) -> str:
    if username:
        return username
    names = accounts.usernames()
    if not names:
        raise InvalidInput(_("There is no account yet: create one with `forge-tui user create`."))
    if len(names) > 1:
        raise InvalidInput(
            _("Several accounts exist ({names}); choose one with --user.").format(names=", ".join(names))
        )
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
    name, password = ask_password(accounts, username, password_stdin)
    return Workspace.open(home, accounts.unlock(name, password))


def ask_password(accounts: AccountService, username: str | None, password_stdin: bool) -> tuple[str, str]:
    """The account (which must exist) and its password, read from stdin or asked at the terminal."""
    name = pick_username(accounts, username)
    accounts.get(name)
    if password_stdin:
        return name, read_stdin_lines(1, _("the password"))[0]
    if not sys.stdin.isatty():
        raise InvalidInput(_("This needs the password: give it on standard input with --password-stdin."))
    return name, typer.prompt(_("Password for {name}").format(name=name), hide_input=True)


UserOpt = Annotated[str | None, typer.Option("--user", "-u", help=_("Account name (default: the only account)."))]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help=_("Read passwords from standard input, one per line."))
]
JsonOpt = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
