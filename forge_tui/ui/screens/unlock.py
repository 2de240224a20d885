"""Unlock at start, and again after the idle lock (then it returns to the screen that was open)."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from forge_tui.core.errors import ForgeError
from forge_tui.services.accounts import AccountService, TooManyAttempts, Unlocked
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.plain import PlainStatic


def unexpected(exc: Exception) -> str:
    """A sentence for a failure nobody planned for. The exception's own text is left out: it may
    quote what was passed in (a password among it)."""
    return f"Unlocking failed unexpectedly ({type(exc).__name__}); try again."


class UnlockScreen(Screen[Unlocked]):
    """Dismisses with the unlocked account. While locked, nothing of the user's content is shown."""

    TITLE = "Unlock"
    HELP = (
        "Type your password to open your datasets. After 5 wrong passwords in a minute further "
        "attempts wait; a forgotten password is reset with `forge-tui user reset-password`."
    )

    def __init__(self, accounts: AccountService, username: str | None, locked: bool = False) -> None:
        super().__init__()
        self._accounts = accounts
        self._username = username
        self._locked = locked

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="unlock"):
            yield Label("Locked" if self._locked else "Unlock forge-tui", classes="card-title")
            if self._locked:
                yield Static(
                    "The session locked itself after being idle. Your work is where you left it.",
                    classes="dim",
                )
            yield Label("Username")
            yield Input(self._username or "", id="username", disabled=self._locked, compact=True)
            yield Label("Password")
            yield Input(password=True, id="password", compact=True)
            yield PlainStatic("", classes="error", id="unlock-error")
        yield ForgeFooter()

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
            self._error("Type your username and password.")
            return
        self._error("Unlocking…")
        self._unlock(username, password)

    # An explicit description: Textual's default one is the call with its arguments, and workers are
    # written to Textual's log (the devtools console), which would show the password there.
    @work(exclusive=True, description="unlock")
    async def _unlock(self, username: str, password: str) -> None:
        try:
            unlocked = await asyncio.to_thread(self._accounts.unlock, username, password)
        except TooManyAttempts as exc:
            self._error(str(exc))
            return
        except ForgeError as exc:
            self._error(str(exc))
            self.query_one("#password", Input).value = ""
            return
        except Exception as exc:  # a crash would end the app and lose the session's unsaved work
            self._error(unexpected(exc))
            self.query_one("#password", Input).value = ""
            return
        self.dismiss(unlocked)

    def _error(self, message: str) -> None:
        self.query_one("#unlock-error", Static).update(message)
