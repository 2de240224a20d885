"""First start: create the account, then show the recovery key once."""

from __future__ import annotations

import asyncio

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Input, Label, Static

from forge_tui.core.errors import ForgeError
from forge_tui.services.accounts import AccountService, CreatedUser, Unlocked
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.plain import PlainStatic


class FirstRunScreen(Screen[tuple[CreatedUser, Unlocked]]):
    """Dismisses with the created account, already unlocked."""

    TITLE = "Create your account"
    HELP = (
        "Your examples are encrypted with a key that only your password (or the recovery key shown "
        "next) can open. There is no way around it: choose a password you will remember."
    )

    def __init__(self, accounts: AccountService) -> None:
        super().__init__()
        self._accounts = accounts

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="first-run"):
            yield Label("Welcome to forge-tui", classes="card-title")
            yield Static(
                "Create the account that owns your datasets. Everything you keep is encrypted "
                "with a key only your password opens.",
                classes="dim",
            )
            yield Label("Username")
            yield Input(placeholder="e.g. alice", id="username", compact=True)
            yield Label("Display name")
            yield Input(placeholder="optional", id="display-name", compact=True)
            yield Label("Password (8 characters or more)")
            yield Input(password=True, id="password", compact=True)
            yield Label("Repeat the password")
            yield Input(password=True, id="password2", compact=True)
            yield PlainStatic("", classes="error", id="first-run-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create account", variant="primary", id="create", compact=True)
        yield ForgeFooter()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.input.id == "password2":
            self._submit()
        else:
            self.focus_next()

    @on(Button.Pressed, "#create")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if password != self.query_one("#password2", Input).value:
            self._error("The two passwords differ; type them again.")
            self.query_one("#password2", Input).value = ""
            self.query_one("#password2", Input).focus()
            return
        self._error("Creating the account…")
        self._create(username, self.query_one("#display-name", Input).value, password)

    # Not Textual's default description, which repeats the arguments (the password) in its log.
    @work(exclusive=True, description="create account")
    async def _create(self, username: str, display_name: str, password: str) -> None:
        try:
            created = await asyncio.to_thread(self._accounts.create_user, username, display_name, password)
            unlocked = await asyncio.to_thread(self._accounts.unlock, created.user.username, password)
        except ForgeError as exc:
            self._error(str(exc))
            return
        except Exception as exc:  # the exception's text is left out: it may quote the password
            name = type(exc).__name__
            self._error(f"Creating the account failed unexpectedly ({name}); restart forge-tui and try again.")
            return
        self.dismiss((created, unlocked))

    def _error(self, message: str) -> None:
        self.query_one("#first-run-error", Static).update(message)


class RecoveryKeyScreen(Screen[None]):
    """Shows the recovery key once; the user confirms they stored it."""

    TITLE = "Your recovery key"
    HELP = "This key is shown only now. Without it, a forgotten password means your datasets cannot be opened."
    BINDINGS = [Binding("c", "copy", "Copy key", id="recovery.copy")]

    def __init__(self, recovery_key: str) -> None:
        super().__init__()
        self._key = recovery_key

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="recovery"):
            yield Label("Store your recovery key", classes="card-title")
            yield Static(self._key, id="recovery-key", markup=False)
            yield Static(
                "Write it down or keep it in a password manager, away from this machine. "
                "It is shown only now. If you forget your password, this key is the only way "
                "to open your datasets again (`forge-tui user reset-password`).",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("I have stored it", variant="primary", id="stored", compact=True)
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.query_one("#stored", Button).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._key)
        self.notify("Recovery key copied to the clipboard.")

    @on(Button.Pressed, "#stored")
    def _done(self) -> None:
        self.dismiss(None)
