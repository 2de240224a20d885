"""The Textual application: first run or unlock, then the workspace screens; idle lock."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Iterable
from time import monotonic

from rich.segment import Segments
from textual import constants as textual_constants
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import WorkerFailed

from forge_tui import __version__, i18n
from forge_tui.core.backend_settings import BACKEND_LABELS
from forge_tui.core.control_chars import escape_controls
from forge_tui.core.errors import DatabaseBusy, ForgeError
from forge_tui.core.example_filter import ExampleFilter
from forge_tui.core.jobs import JobSummary
from forge_tui.core.models import DatasetInfo
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.accounts import AccountService, CreatedUser, Unlocked
from forge_tui.services.documents import DocumentService
from forge_tui.services.endpoints import servers_health
from forge_tui.services.files import remove_temporaries
from forge_tui.services.home import BUSY_NOTICE, Home
from forge_tui.services.job_host import JobHost
from forge_tui.services.jobs import JobService
from forge_tui.services.judging import calibration_report
from forge_tui.services.train_jobs import create_run
from forge_tui.services.workspace import Workspace
from forge_tui.ui.backup_flow import ask_and_back_up
from forge_tui.ui.commands import DatasetCommands, LanguageCommands, ScreenCommands
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.documents import DocumentsView
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.dialogs.training import TrainingView
from forge_tui.ui.localized import redraw_text
from forge_tui.ui.messages import (
    AskAgain,
    CompareModels,
    CompareWith,
    DatasetsChanged,
    DatasetSwitched,
    OpenInPlayground,
    Regenerate,
    ReviewExamples,
    ShowJobExamples,
    StartFromExample,
    StartWithTemplate,
    SwitchDataset,
    SwitchLanguage,
    TemplateOpened,
    TrainBundle,
)
from forge_tui.ui.navigation import WORKSPACE_ACTIONS, go_to
from forge_tui.ui.resources import stylesheets
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.export import ExportScreen
from forge_tui.ui.screens.first_run import FirstRunScreen, RecoveryKeyScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.screens.models import ModelsScreen
from forge_tui.ui.screens.playground import PlaygroundScreen
from forge_tui.ui.screens.review import ReviewScreen
from forge_tui.ui.screens.settings import SettingsSaved, SettingsScreen
from forge_tui.ui.screens.templates import TemplatesScreen
from forge_tui.ui.screens.unlock import UnlockScreen

BACKEND_CHECK_SECONDS = 30.0
AUDITION_SCREEN = "audition"
PLAYGROUND_SCREEN = "playground"
# Signals that end the app: temporary export files are removed first and the app exits with
# 128 + the signal's number (a closed terminal or SSH session sends SIGHUP).
ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name))


class DatabaseWaiting(Message):
    """A change is waiting for another process's write (posted from the waiting thread)."""


def settle_memory() -> None:
    """Collects once, then moves everything alive (modules, the app, its first screens) out of the
    garbage collector's reach. A full collection otherwise walks all of it: 120-170 ms on a small
    machine, which would land in the middle of a batch of streaming cards."""
    gc.collect()
    gc.freeze()


CALIBRATION_THRESHOLD = 7.0  # the judge CLI's default threshold


class ForgeApp(App[None]):
    TITLE = "forge-tui"
    CSS_PATH = stylesheets()  # type: ignore[assignment]
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {ScreenCommands, DatasetCommands, LanguageCommands}
    BINDINGS = [
        Binding("t", "show_templates", N_("Templates"), id="app.templates"),
        Binding("g", "show_audition", N_("Audition"), id="app.audition"),
        Binding("e", "show_examples", N_("Examples"), id="app.examples"),
        Binding("x", "show_export", N_("Export"), id="app.export"),
        Binding("d", "show_datasets", N_("Datasets"), id="app.datasets"),
        Binding("s", "show_settings", N_("Settings"), id="app.settings"),
        Binding("b", "show_jobs", N_("Jobs"), id="app.jobs"),
        Binding("q", "show_review", N_("Review"), id="app.review"),
        Binding("m", "show_models", N_("Models"), id="app.models"),
        # The Jobs screen binds p to pause: a screen's binding comes first, so p pauses there and
        # opens the Playground everywhere else (the palette reaches it from Jobs).
        Binding("p", "show_playground", N_("Playground"), id="app.playground"),
        Binding("ctrl+l", "lock", N_("Lock"), id="app.lock"),
        Binding("f1", "help", N_("Help"), id="app.help"),
        Binding("ctrl+q", "quit", N_("Quit"), id="app.quit", priority=True),
        # Checked before the focused widget sees the key, so focus moves at once: over SSH a burst
        # like "alice<Tab>Alice" arrives in one read, and with Textual's default (the key bubbles
        # back up from the focused widget) the text after the Tab landed in the field it left.
        Binding("tab", "focus_next", N_("Next field"), show=False, priority=True, id="app.focus_next"),
        Binding(
            "shift+tab", "focus_previous", N_("Previous field"), show=False, priority=True, id="app.focus_previous"
        ),
    ]

    # The current dataset: one place in the UI, read from and written to the database. Screens get
    # DatasetSwitched when it changes (watch_dataset) instead of being built again.
    dataset: reactive[DatasetInfo | None] = reactive(None, always_update=True)
    backend_status: reactive[str] = reactive("")
    username: reactive[str] = reactive("")

    def __init__(self, home: Home, notice: str | None = None) -> None:
        """`notice`: a sentence shown as a toast at start (the CLI's note about the language chosen)."""
        super().__init__()
        self._notice = notice
        # Textual's log file (TEXTUAL_LOG) records every key and message: every password typed, and
        # the examples in plain text. forge-tui never writes it.
        textual_constants.LOG_FILE = None  # type: ignore[misc]
        self.home = home
        self.accounts = AccountService(home)
        self.workspace: Workspace | None = None
        self._last_activity = monotonic()
        self._idle_timer: Timer | None = None
        self._locked = False
        # The datasets the palette offers to switch to: read when first asked, again after a change.
        self._palette_datasets: list[DatasetInfo] | None = None
        self._backend_problem_shown: str | None = None
        # The jobs this process runs (they outlive any screen), and the template last opened (new jobs start with it).
        self.job_host: JobHost | None = None
        self.last_template_id: int | None = None

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast shows its text as typed: messages quote names, paths and file content, so
        markup is never read (whatever `markup` says) and control characters are escaped."""
        super().notify(
            escape_controls(message), title=escape_controls(title), severity=severity, timeout=timeout, markup=False
        )

    def _fatal_error(self) -> None:
        """Textual's crash report, without the local variables of each frame it shows by default
        (textual 8 has no setting for it): they held the password typed at unlock."""
        import rich
        from rich.traceback import Traceback

        self.bell()
        report = Traceback(show_locals=False, width=None, suppress=[rich])
        self._exit_renderables.append(Segments(self.console.render(report, self.console.options)))
        self._close_messages_no_wait()

    @property
    def lock_after_seconds(self) -> float:
        return self.home.config.security.lock_after_minutes * 60

    # --- start ------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._handle_ending_signals()
        self.sub_title = __version__
        self.home.on_busy(self._database_waiting)
        if self.home.config.keys:
            self.set_keymap(self.home.config.keys)
        if self._notice:
            self.notify(self._notice, title=_("Language"), timeout=10)
        if self.accounts.has_users():
            self.push_screen(UnlockScreen(self.accounts, self.accounts.default_username()), self._unlocked)
        else:
            self.push_screen(FirstRunScreen(self.accounts), self._account_created)

    def _account_created(self, result: tuple[CreatedUser, Unlocked] | None) -> None:
        if result is None:
            return
        created, unlocked = result
        self.push_screen(RecoveryKeyScreen(created.recovery_key), lambda _stored: self._unlocked(unlocked))

    def _unlocked(self, unlocked: Unlocked | None) -> None:
        if unlocked is None:
            return
        self.workspace = Workspace.open(self.home, unlocked)
        self.username = unlocked.user.display_name or unlocked.user.username
        self.dataset = self.workspace.datasets.current()
        self._last_activity = monotonic()
        self._start_idle_timer()
        theme = self.workspace.settings.theme()
        if theme in self.available_themes:
            self.theme = theme
        saved_language = self.workspace.settings.language()
        if saved_language is not None and not i18n.forced() and saved_language != i18n.current():
            self.switch_language(saved_language, save=False)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.push_screen(DatasetsScreen(self.workspace))
        self.job_host = JobHost(JobService(self.home, unlocked), self.workspace.settings)
        self.job_host.on_ended = self._job_ended
        self.offer_resume()
        self.call_after_refresh(settle_memory)
        self.check_backend()
        self.set_interval(BACKEND_CHECK_SECONDS, self.check_backend, name="backend-check")

    # --- the current dataset ---------------------------------------------------------------
    @property
    def dataset_name(self) -> str:
        return self.dataset.name if self.dataset is not None else ""

    def watch_dataset(self, old: DatasetInfo | None, new: DatasetInfo | None) -> None:
        self._palette_datasets = None
        if (old and (old.id, old.name)) == (new and (new.id, new.name)):
            return
        for screen in self._screens_alive():
            screen.post_message(DatasetSwitched(new))

    def _screens_alive(self) -> list[Screen[object]]:
        screens = list(self.screen_stack)
        screens += [s for s in self._installed_screens.values() if isinstance(s, Screen) and s not in screens]
        return screens

    def on_switch_dataset(self, message: SwitchDataset) -> None:
        if self.workspace is None or self._locked:
            return
        try:
            switched = self.workspace.datasets.switch(message.dataset_id)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot switch"), severity="error")
            return
        self.dataset = switched
        self.notify(_("Now working in '{name}'.").format(name=switched.name))

    def on_datasets_changed(self, _message: DatasetsChanged) -> None:
        if self.workspace is not None and not self._locked:
            self.dataset = self.workspace.datasets.current()

    # --- the interface language ------------------------------------------------------------
    def on_switch_language(self, message: SwitchLanguage) -> None:
        self.switch_language(message.language)

    def switch_language(self, language: str, *, save: bool = True) -> None:
        """Every screen, open or kept aside, draws its text in `language` at once and keeps its state;
        `save` keeps it as the account's choice (while unlocked)."""
        i18n.set_language(language)
        redraw_text(self._screens_alive())
        self.check_backend()  # the header's server status is written in the language
        workspace = self.open_workspace
        if save and workspace is not None:
            try:
                workspace.settings.save_language(i18n.current())
            except ForgeError as exc:
                self.notify(str(exc), title=_("Cannot save the language"), severity="error")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own palette commands, translated; "Keys" opens F1's help (which is translated)
        instead of Textual's key panel."""
        for command in super().get_system_commands(screen):
            if command.title == "Keys":
                yield SystemCommand(_("Keys"), _("The keys of this screen and what they do"), self.action_help)
            else:
                yield SystemCommand(_(command.title), _(command.help), command.callback, command.discover)

    # --- signals ----------------------------------------------------------------------
    def _handle_ending_signals(self) -> None:
        """On the app's event loop (closing the loop removes them)."""
        loop = asyncio.get_running_loop()
        for ending in ENDING_SIGNALS:
            try:
                loop.add_signal_handler(ending, self._ending_signal, ending)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or not POSIX
                return

    def _ending_signal(self, signum: int) -> None:
        """A running export stops at its next step and writes nothing (services.files)."""
        remove_temporaries()
        self.exit(return_code=128 + signum)

    async def on_unmount(self) -> None:
        self.home.on_busy(None)
        if self.job_host is not None:
            await self.job_host.stop_all()

    # --- jobs -------------------------------------------------------------------------------
    @work(group="resume-offer")
    async def offer_resume(self) -> None:
        """Jobs that stopped before they finished (the app was closed, or they were paused) can go on."""
        host = self.job_host
        if host is None:
            return
        try:
            waiting = [j for j in await asyncio.to_thread(host.jobs.unfinished) if j.kind == "generate"]
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot read the jobs"), severity="error")
            return
        if not waiting:
            return
        first = waiting[0]
        question = (
            _("Job {id} ({name}) stopped at {done} of {total}. Resume it?").format(
                id=first.id, name=first.name, done=first.done, total=first.total
            )
            if len(waiting) == 1
            else _("{count} jobs stopped before they finished. Resume them?").format(count=len(waiting))
        )
        if await self.push_screen_wait(Confirm(question, yes=_("Resume"), no=_("Not now"))):
            for job in waiting:
                host.start(job.id)

    def _job_ended(self, job: JobSummary | None, problem: str | None) -> None:
        if problem is not None:
            self.notify(problem, title=_("Job stopped"), severity="error")
        elif job is not None:
            state = job.pause_reason if job.pause_reason else job.status.value
            self.notify(
                _("Job {id} {state}: {done} of {total} made, {failed} failed.").format(
                    id=job.id, state=state, done=job.done, total=job.total, failed=job.failed
                ),
                title=_("Jobs"),
            )

    # --- a busy database ------------------------------------------------------------------
    def _database_waiting(self) -> None:
        # post_message is safe from any thread; the wait may be in a worker or on this loop.
        self.post_message(DatabaseWaiting())

    def on_database_waiting(self, _message: DatabaseWaiting) -> None:
        self.notify(_(BUSY_NOTICE), title=_("Database busy"), severity="warning")

    def _handle_exception(self, error: Exception) -> None:
        # A change that found the database busy for too long ends with a sentence, not the app: the
        # screens catch it where they expect it, and this catches it where they do not (that change
        # was not saved; the data is as it was).
        cause = error.error if isinstance(error, WorkerFailed) else error
        if isinstance(cause, DatabaseBusy):
            self.notify(str(cause), title=_("Database busy"), severity="error", timeout=10)
            return
        super()._handle_exception(error)

    # --- the model server ---------------------------------------------------------------
    def on_settings_saved(self, _message: SettingsSaved) -> None:
        self._backend_problem_shown = None
        self.check_backend()

    @work(exclusive=True, group="backend-check")
    async def check_backend(self) -> None:
        """Shows in the header whether the model server answers; says once how to fix it when not."""
        if self.workspace is None:
            return
        settings = self.workspace.settings.backend()
        checked = await servers_health(settings)
        # A busy server (llama.cpp answers nothing while it serves its one request) is not down: it is
        # shown apart, and not reported as a problem to fix.
        down = [(name, health) for name, health in checked if not health.ok and not health.busy]
        busy = [name for name, health in checked if health.busy]
        if settings.endpoints:
            count = len(checked)
            if down:
                self.backend_status = "✗ " + _("{down} of {count} down").format(down=len(down), count=count)
            elif busy:
                self.backend_status = "◐ " + _("{busy} of {count} busy").format(busy=len(busy), count=count)
            else:
                self.backend_status = "● " + ngettext("{count} endpoint", "{count} endpoints", count).format(
                    count=count
                )
            message = "; ".join(f"{name}: {health.message}" for name, health in down)
        else:
            name = _(BACKEND_LABELS[settings.kind])
            if down:
                self.backend_status = "✗ " + _("{name} down").format(name=name)
            elif busy:
                self.backend_status = "◐ " + _("{name} busy").format(name=name)
            else:
                self.backend_status = f"● {name}"
            message = down[0][1].message if down else ""
        if message and self._backend_problem_shown != message:
            self._backend_problem_shown = message
            self.notify(message, title=_("Model server"), severity="warning", timeout=10)
        elif not message:
            self._backend_problem_shown = None

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
    @property
    def open_workspace(self) -> Workspace | None:
        """The workspace while it is unlocked; None before the first unlock and while locked."""
        return None if self._locked else self.workspace

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WORKSPACE_ACTIONS:
            return self.open_workspace is not None
        return True

    def _show(self, kind: type[WorkspaceScreen]) -> None:
        workspace = self.open_workspace
        if workspace is not None and not isinstance(self.screen, kind):
            go_to(self, lambda: kind(workspace))

    def _remember_theme(self, theme: Theme) -> None:
        workspace = self.open_workspace
        if workspace is not None:
            workspace.settings.save_theme(theme.name)

    # --- what the command palette (commands.py) asks ------------------------------------------
    def palette_datasets(self) -> list[DatasetInfo]:
        """The datasets other than the current one."""
        workspace = self.open_workspace
        if workspace is None:
            return []
        if self._palette_datasets is None:
            current = self.dataset
            self._palette_datasets = [d for d in workspace.datasets.list() if current is None or d.id != current.id]
        return self._palette_datasets

    def new_template(self) -> None:
        self.action_show_templates()

        def ask() -> None:
            if isinstance(self.screen, TemplatesScreen):
                self.screen.action_new()

        self.call_after_refresh(ask)

    @work(exclusive=True, group="calibration")
    async def calibrate_judge(self) -> None:
        """The current dataset's agreement between judge scores and the person's decisions, as a toast."""
        workspace, dataset = self.open_workspace, self.dataset
        if workspace is None or dataset is None:
            return
        try:
            report = await asyncio.to_thread(calibration_report, workspace, dataset.id, None, CALIBRATION_THRESHOLD)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot calibrate the judge"), severity="error")
            return
        self.notify(str(report["summary"]), title=_("Judge calibration: {name}").format(name=dataset.name), timeout=20)

    def show_documents(self) -> None:
        workspace = self.open_workspace
        if workspace is not None:
            self.push_screen(DocumentsView(DocumentService(workspace.home, workspace.unlocked)))

    def backup_database(self) -> None:
        workspace = self.open_workspace
        if workspace is not None:
            ask_and_back_up(self, workspace.home)

    def action_show_datasets(self) -> None:
        self._show(DatasetsScreen)

    def action_show_settings(self) -> None:
        self._show(SettingsScreen)

    def action_show_templates(self) -> None:
        self._show(TemplatesScreen)

    def action_show_audition(self) -> None:
        workspace = self.workspace
        if workspace is None or self._locked or isinstance(self.screen, AuditionScreen):
            return
        go_to(self, lambda: self._audition_screen(workspace))

    def _audition_screen(self, workspace: Workspace) -> AuditionScreen:
        """One Audition screen per unlocked workspace, kept while the user is elsewhere: its batch
        goes on streaming, and coming back finds every card where it was."""
        if not self.is_screen_installed(AUDITION_SCREEN):
            self.install_screen(AuditionScreen(workspace), AUDITION_SCREEN)
        return self.get_screen(AUDITION_SCREEN, AuditionScreen)

    def on_regenerate(self, message: Regenerate) -> None:
        if self.workspace is None or self._locked:
            return
        audition = self._audition_screen(self.workspace)
        self.action_show_audition()
        audition.post_message(AskAgain(message.examples))

    def on_train_bundle(self, message: TrainBundle) -> None:
        """A run of the bundle, planned as a job, started in this app's host and shown as it trains."""
        workspace, host = self.open_workspace, self.job_host
        if workspace is None or host is None or self._locked:
            return
        try:
            job = create_run(host.jobs, workspace.datasets, message.folder, None, [])
            host.start(job.id)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot start training"), severity="error", timeout=12)
            return
        self.action_show_jobs()
        self.push_screen(TrainingView(host.jobs, job, workspace.settings.backend))

    def on_compare_with(self, message: CompareWith) -> None:
        if self.workspace is None or self._locked:
            return
        audition = self._audition_screen(self.workspace)
        self.action_show_audition()
        audition.post_message(CompareModels(message.left, message.right))

    def on_template_opened(self, message: TemplateOpened) -> None:
        self.last_template_id = message.template_id
        if self.workspace is not None:
            self._audition_screen(self.workspace).post_message(StartWithTemplate(message.template_id))

    def action_show_playground(self) -> None:
        workspace = self.workspace
        if workspace is None or self._locked or isinstance(self.screen, PlaygroundScreen):
            return
        go_to(self, lambda: self._playground_screen(workspace))

    def _playground_screen(self, workspace: Workspace) -> PlaygroundScreen:
        """One Playground per unlocked workspace, kept while the user is elsewhere (as Audition is)."""
        if not self.is_screen_installed(PLAYGROUND_SCREEN):
            self.install_screen(PlaygroundScreen(workspace), PLAYGROUND_SCREEN)
        return self.get_screen(PLAYGROUND_SCREEN, PlaygroundScreen)

    def on_open_in_playground(self, message: OpenInPlayground) -> None:
        if self.workspace is None or self._locked:
            return
        playground = self._playground_screen(self.workspace)
        self.action_show_playground()
        playground.post_message(StartFromExample(message.example))

    def action_show_examples(self) -> None:
        self._show(ExamplesScreen)

    def on_show_job_examples(self, message: ShowJobExamples) -> None:
        """Examples showing only what the job made, its dataset made the current one first."""
        workspace = self.open_workspace
        if workspace is None:
            return
        if self.dataset is None or self.dataset.id != message.dataset_id:
            self.on_switch_dataset(SwitchDataset(message.dataset_id))
            if self.dataset is None or self.dataset.id != message.dataset_id:
                return
        wanted = ExampleFilter(job_id=message.job_id)
        if isinstance(self.screen, ExamplesScreen):
            self.screen.show_filtered(wanted)
            return

        def examples() -> ExamplesScreen:
            screen = ExamplesScreen(workspace)
            screen.wanted = wanted  # before it mounts: its first rows are the job's
            return screen

        go_to(self, examples)

    def action_show_review(self) -> None:
        self._show(ReviewScreen)

    def on_review_examples(self, message: ReviewExamples) -> None:
        """The review queue on the examples the Examples screen shows."""
        workspace = self.open_workspace
        if workspace is not None:
            go_to(self, lambda: ReviewScreen(workspace, message.wanted))

    def action_show_export(self) -> None:
        self._show(ExportScreen)

    def action_show_models(self) -> None:
        self._show(ModelsScreen)

    def action_show_jobs(self) -> None:
        workspace, host = self.open_workspace, self.job_host
        if workspace is not None and host is not None and not isinstance(self.screen, JobsScreen):
            go_to(self, lambda: JobsScreen(workspace, host, lambda: self.last_template_id))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen.for_screen(self.screen))
