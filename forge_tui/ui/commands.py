"""The command palette's (ctrl+p) own commands: go to a screen, new template, lock, switch dataset,
language.

Each command that has a key says which, as the app binds it now (a key remapped in config.toml
reads right). Titles and help are message ids, translated when the palette opens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, cast

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.style import Style

from forge_tui.core.models import DatasetInfo
from forge_tui.i18n import LANGUAGES, N_, _, current, ngettext
from forge_tui.services.workspace import Workspace
from forge_tui.ui.keys import key_for
from forge_tui.ui.messages import SwitchDataset, SwitchLanguage
from forge_tui.ui.shown import shown_markup


class PaletteHost(Protocol):
    """What the commands need of the app (ForgeApp)."""

    @property
    def open_workspace(self) -> Workspace | None: ...

    def palette_datasets(self) -> list[DatasetInfo]: ...

    def new_template(self) -> None: ...

    def backup_database(self) -> None: ...

    def calibrate_judge(self) -> None: ...

    def show_documents(self) -> None: ...


@dataclass(frozen=True)
class Command:
    title: str
    about: str
    run: Callable[[], Awaitable[object] | object]


# (title, what it does, the app's action)
SCREEN_COMMANDS = (
    (N_("Go to Audition"), N_("Generate answers and keep the good ones"), "show_audition"),
    (N_("Go to Examples"), N_("The current dataset as a table"), "show_examples"),
    (N_("Go to Export"), N_("Write the dataset in a trainer's format"), "show_export"),
    (N_("Go to Templates"), N_("Prompt templates with slots"), "show_templates"),
    (N_("Go to Datasets"), N_("Create, switch, archive datasets"), "show_datasets"),
    (N_("Go to Playground"), N_("Chat with a model and save the conversation as an example"), "show_playground"),
    (N_("Go to Jobs"), N_("Generation jobs: progress, pause, resume"), "show_jobs"),
    (N_("Review"), N_("Accept or reject examples one card at a time, worst score first"), "show_review"),
    (N_("Go to Models"), N_("Every endpoint's models: details, pull, delete, copy, unload"), "show_models"),
    (N_("Go to Settings"), N_("Model server, default models, timeouts, language"), "show_settings"),
    (N_("Lock"), N_("Hide everything until the password is given again"), "lock"),
)


class CommandsProvider(Provider):
    """Commands read once when the palette opens; the palette asks for them at every keystroke."""

    def __init__(self, screen: Screen[Any], match_style: Style | None = None) -> None:
        super().__init__(screen, match_style)
        self._commands: list[Command] = []

    @property
    def host(self) -> PaletteHost:
        return cast(PaletteHost, self.app)

    def commands(self) -> list[Command]:
        raise NotImplementedError

    async def startup(self) -> None:
        self._commands = self.commands()

    async def discover(self) -> Hits:
        for command in self._commands:
            yield DiscoveryHit(command.title, command.run, help=command.about)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands:
            if (score := matcher.match(command.title)) > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.about)


class ScreenCommands(CommandsProvider):
    """Go to each screen, start a new template, back up, lock."""

    def commands(self) -> list[Command]:
        app, host = self.app, self.host
        if host.open_workspace is None:
            return []
        commands = [
            Command(_(title), with_key(_(about), key_for(app, action)), partial(app.run_action, action))
            for title, about, action in SCREEN_COMMANDS
        ]
        commands.insert(-1, Command(_("New template"), _("Open Templates and name a new template"), host.new_template))
        commands.insert(
            -1,
            Command(
                _("Back up the database"), _("A consistent copy, still encrypted, to a file"), host.backup_database
            ),
        )
        commands.insert(
            -1,
            Command(
                _("Documents"),
                _("Files whose passages ground generation jobs: add, cut again, remove"),
                host.show_documents,
            ),
        )
        commands.insert(
            -1,
            Command(
                _("Judge calibration"),
                _("How often the judge's scores agree with your accepted and rejected examples"),
                host.calibrate_judge,
            ),
        )
        return commands


class LanguageCommands(CommandsProvider):
    """Show the interface in another language (saved as the account's choice once unlocked); offered
    before unlocking too."""

    def commands(self) -> list[Command]:
        return [
            Command(
                # TRANSLATORS: keep the English word "Language" beside yours: it finds this command
                # whatever language the interface is in.
                _("Language: {name}").format(name=name),
                _("Show forge-tui in {name} (Language in Settings too)").format(name=name),
                partial(self.app.post_message, SwitchLanguage(language)),
            )
            for language, name in LANGUAGES.items()
            if language != current()
        ]


class DatasetCommands(CommandsProvider):
    """Switch to each other dataset (the app keeps the list and reads it again when datasets change)."""

    def commands(self) -> list[Command]:
        return [switch_command(self.app, dataset) for dataset in self.host.palette_datasets()]


def switch_command(app: App[object], dataset: DatasetInfo) -> Command:
    return Command(
        _("Switch dataset: {name}").format(name=shown_markup(dataset.name)),
        ngettext("{count} example", "{count} examples", dataset.example_count).format(count=dataset.example_count),
        partial(app.post_message, SwitchDataset(dataset.id)),
    )


def with_key(about: str, key: str) -> str:
    return f"{about} ({key})" if key else about
