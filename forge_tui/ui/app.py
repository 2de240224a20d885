"""The Textual application: first run or unlock, then the workspace screens; idle lock."""

from __future__ import annotations

from time import monotonic

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from forge_tui import __version__
from forge_tui.services.accounts import AccountService, CreatedUser, Unlocked
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.resources import stylesheets
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.first_run import FirstRunScreen, RecoveryKeyScreen
from forge_tui.ui.screens.help import HelpScreen
from forge_tui.ui.screens.unlock import UnlockScreen


class ForgeApp(App[None]):
    TITLE = "forge-tui"
    CSS_PATH = stylesheets()  # type: ignore[assignment]
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("d", "show_datasets", "Datasets", id="app.datasets"),
        Binding("ctrl+l", "lock", "Lock", id="app.lock"),
        Binding("f1", "help", "Help", id="app.help"),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
    ]

    dataset_name: reactive[str] = reactive("")
    username: reactive[str] = reactive("")

    def __init__(self, home: Home) -> None:
        super().__init__()
        self.home = home
        self.accounts = AccountService(home)
        self.workspace: Workspace | None = None
        self._last_activity = monotonic()
        self._idle_timer: Timer | None = None
        self._locked = False

    @property
    def lock_after_seconds(self) -> float:
        return self.home.config.security.lock_after_minutes * 60

    # --- start ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.sub_title = __version__
        if self.accounts.has_users():
            self.push_screen(UnlockScreen(self.accounts, self.accounts.default_username()), self._unlocked)
        else:
            self.push_screen(FirstRunScreen(self.accounts), self._account_created)

    def _account_created(self, result: tuple[CreatedUser, Unlocked] | None) -> None:
        if result is None:
            return
        created, unlocked = result
        self.push_screen(RecoveryKeyScreen(created.recovery_key), lambda _: self._unlocked(unlocked))

    def _unlocked(self, unlocked: Unlocked | None) -> None:
        if unlocked is None:
            return
        self.workspace = Workspace.open(self.home, unlocked)
        self.username = unlocked.user.display_name or unlocked.user.username
        current = self.workspace.datasets.current()
        self.dataset_name = current.name if current else ""
        self._last_activity = monotonic()
        self._start_idle_timer()
        self.push_screen(DatasetsScreen(self.workspace))

    # --- idle lock --------------------------------------------------------------------
    def _start_idle_timer(self) -> None:
        if self._idle_timer is None:
            interval = max(0.1, min(5.0, self.lock_after_seconds / 4))
            self._idle_timer = self.set_interval(interval, self._check_idle, name="idle-lock")

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self._last_activity = monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        idle = monotonic() - self._last_activity
        if self.workspace is not None and not self._locked and idle >= self.lock_after_seconds:
            self.action_lock()

    def action_lock(self) -> None:
        """Hides every screen behind the unlock screen and drops the keys; unlocking returns here."""
        if self.workspace is None or self._locked:
            return
        self._locked = True
        self.workspace.lock()
        self.push_screen(UnlockScreen(self.accounts, self.workspace.user.username, locked=True), self._relocked)

    def _relocked(self, unlocked: Unlocked | None) -> None:
        if unlocked is None or self.workspace is None:
            return
        self.workspace.resume(unlocked)
        self._locked = False
        self._last_activity = monotonic()

    # --- navigation -------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"show_datasets", "lock"}:
            return self.workspace is not None and not self._locked
        return True

    def action_show_datasets(self) -> None:
        if self.workspace is None or self._locked:
            return
        if isinstance(self.screen, DatasetsScreen):
            return
        self.push_screen(DatasetsScreen(self.workspace))

    def action_help(self) -> None:
        screen: Screen[object] = self.screen
        if isinstance(screen, HelpScreen):
            return
        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if binding.description and binding.description not in seen and active.enabled:
                seen.add(binding.description)
                keys.append((self.get_key_display(binding), binding.description))
        about = getattr(screen, "HELP", "") or ""
        self.push_screen(HelpScreen(screen.title or screen.__class__.__name__, about, keys))
