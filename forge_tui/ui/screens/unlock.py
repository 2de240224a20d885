"""Unlock at start, and again after the idle lock (then it returns to the screen that was open)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.accounts import AccountService, TooManyAttempts, Unlocked
from forge_tui.ui.localized import Localized, TInput, TLabel, TStatic
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.plain import PlainStatic


def unexpected(exc: Exception) -> str:
    """A sentence for a failure nobody planned for. The exception's own text is left out: it may
    quote what was passed in (a password among it)."""
    return _("Unlocking failed unexpectedly ({error}); try again.").format(error=type(exc).__name__)


class UnlockScreen(Localized, Screen[Unlocked]):
    """Dismisses with the unlocked account. While locked, nothing of the user's content is shown."""

    TITLE = N_("Unlock")
    HELP = N_(
        "Type your password to open your datasets. After 5 wrong passwords in a minute further "
        "attempts wait; a forgotten password is reset with `forge-tui user reset-password`."
    )

    def __init__(self, accounts: AccountService, username: str | None, locked: bool = False) -> None:
        super().__init__()
        self._accounts = accounts
        self._username = username
        self._locked = locked
        # What the error line says, drawn again in a new language.
        self._problem: Callable[[], str] = str

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="unlock"):
            yield TLabel(N_("Locked") if self._locked else N_("Unlock forge-tui"), classes="card-title")
            if self._locked:
                yield TStatic(
                    N_("The session locked itself after being idle. Your work is where you left it."), classes="dim"
                )
            yield TLabel(N_("Username"))
            yield TInput(self._username or "", id="username", disabled=self._locked, compact=True)
            yield TLabel(N_("Password"))
            yield TInput(password=True, id="password", compact=True)
            yield PlainStatic("", classes="error", id="unlock-error")
        yield ForgeFooter()

    def draw_text(self) -> None:
        self.query_one("#unlock-error", Static).update(self._problem())

    def on_mount(self) -> None:
        target = "#password" if self._username else "#username"
        self.query_one(target, Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "username":
            self.query_one("#password", Input).focus()
            return
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if not username or not password:
            self._error(lambda: _("Type your username and password."))
            return
        self._error(lambda: _("Unlocking…"))
        self._unlock(username, password)

    # An explicit description: Textual's default one is the call with its arguments, and workers are
    # written to Textual's log (the devtools console), which would show the password there.
    @work(exclusive=True, description="unlock")
    async def _unlock(self, username: str, password: str) -> None:
        try:
            unlocked = await asyncio.to_thread(self._accounts.unlock, username, password)
        except TooManyAttempts as exc:
            self._error(exc.__str__)
            return
        except ForgeError as exc:
            self._error(exc.__str__)
            self.query_one("#password", Input).value = ""
            return
        except Exception as exc:  # a crash would end the app and lose the session's unsaved work
            self._error(partial(unexpected, exc))
            self.query_one("#password", Input).value = ""
            return
        self.dismiss(unlocked)

    def _error(self, problem: Callable[[], str]) -> None:
        self._problem = problem
        self.draw_text()
