"""First start: create the account, then show the recovery key once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.accounts import AccountService, CreatedUser, Unlocked
from forge_tui.ui.localized import Localized, TButton, TInput, TLabel, TStatic
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.plain import PlainStatic


class FirstRunScreen(Localized, Screen[tuple[CreatedUser, Unlocked]]):
    """Dismisses with the created account, already unlocked."""

    TITLE = N_("Create your account")
    HELP = N_(
        "Your examples are encrypted with a key that only your password (or the recovery key shown "
        "next) can open. There is no way around it: choose a password you will remember."
    )

    def __init__(self, accounts: AccountService) -> None:
        super().__init__()
        self._accounts = accounts
        # What the status line says, drawn again in a new language.
        self._problem: Callable[[], str] = str

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="first-run"):
            yield TLabel(N_("Welcome to forge-tui"), classes="card-title")
            yield TStatic(
                N_(
                    "Create the account that owns your datasets. Everything you keep is encrypted "
                    "with a key only your password opens."
                ),
                classes="dim",
            )
            yield TLabel(N_("Username"))
            yield TInput(placeholder=N_("e.g. alice"), id="username", compact=True)
            yield TLabel(N_("Display name"))
            yield TInput(placeholder=N_("optional"), id="display-name", compact=True)
            yield TLabel(N_("Password (8 characters or more)"))
            yield TInput(password=True, id="password", compact=True)
            yield TLabel(N_("Repeat the password"))
            yield TInput(password=True, id="password2", compact=True)
            yield PlainStatic("", classes="error", id="first-run-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("Create account"), variant="primary", id="create", compact=True)
        yield ForgeFooter()

    def draw_text(self) -> None:
        self.query_one("#first-run-error", Static).update(self._problem())

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        if event.input.id == "password2":
            self._submit()
        else:
            self.focus_next()

    @on(TButton.Pressed, "#create")
    def _submit(self) -> None:
        username = self.query_one("#username", Input).value
        password = self.query_one("#password", Input).value
        if password != self.query_one("#password2", Input).value:
            self._error(lambda: _("The two passwords differ; type them again."))
            self.query_one("#password2", Input).value = ""
            self.query_one("#password2", Input).focus()
            return
        self._error(lambda: _("Creating the account…"))
        self._create(username, self.query_one("#display-name", Input).value, password)

    # Not Textual's default description, which repeats the arguments (the password) in its log.
    @work(exclusive=True, description="create account")
    async def _create(self, username: str, display_name: str, password: str) -> None:
        try:
            created = await asyncio.to_thread(self._accounts.create_user, username, display_name, password)
            unlocked = await asyncio.to_thread(self._accounts.unlock, created.user.username, password)
        except ForgeError as exc:
            self._error(exc.__str__)
            return
        except Exception as exc:  # the exception's text is left out: it may quote the password
            name = type(exc).__name__
            self._error(
                lambda: _(
                    "Creating the account failed unexpectedly ({error}); restart forge-tui and try again."
                ).format(error=name)
            )
            return
        self.dismiss((created, unlocked))

    def _error(self, problem: Callable[[], str]) -> None:
        self._problem = problem
        self.draw_text()


class RecoveryKeyScreen(Screen[None]):
    """Shows the recovery key once; the user confirms they stored it."""

    TITLE = N_("Your recovery key")
    HELP = N_("This key is shown only now. Without it, a forgotten password means your datasets cannot be opened.")
    BINDINGS = [Binding("c", "copy", N_("Copy key"), id="recovery.copy")]

    def __init__(self, recovery_key: str) -> None:
        super().__init__()
        self._key = recovery_key

    def compose(self) -> ComposeResult:
        with Center(), Vertical(classes="card", id="recovery"):
            yield TLabel(N_("Store your recovery key"), classes="card-title")
            yield Static(self._key, id="recovery-key", markup=False)
            yield TStatic(
                N_(
                    "Write it down or keep it in a password manager, away from this machine. "
                    "It is shown only now. If you forget your password, this key is the only way "
                    "to open your datasets again (`forge-tui user reset-password`)."
                )
            )
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("I have stored it"), variant="primary", id="stored", compact=True)
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.query_one("#stored", TButton).focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self._key)
        self.notify(_("Recovery key copied to the clipboard."))

    @on(TButton.Pressed, "#stored")
    def _done(self) -> None:
        self.dismiss(None)
