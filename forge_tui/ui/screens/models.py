"""Models (`m`): every model of every endpoint, its details, pull with progress, delete, copy, unload, and
"use as the default generation / paraphrase / judge model"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from forge_tui.core.errors import ForgeError
from forge_tui.core.model_catalog import ModelEntry, size_text
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.comparison import Contender
from forge_tui.services.models import ROLES, ModelService, Role, checked_name, use_as_default
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.model_pull import PullDialog
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.dialogs.rival import ask_rival
from forge_tui.ui.field_checks import PassesCheck
from forge_tui.ui.localized import Localized
from forge_tui.ui.messages import CompareWith
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.table_labels import label_columns
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.model_details import ModelDetailsPane

T = TypeVar("T")

COLUMNS = {
    "name": N_("Model"),
    "endpoint": N_("Endpoint"),
    "size": N_("Size"),
    "params": N_("Params"),
    "quant": N_("Quant"),
    "context": N_("Context"),
    "loaded": N_("Loaded"),
    "family": N_("Family"),
    "modified": N_("Modified"),
}
ROLE_LABELS: dict[Role, str] = {
    "generation": N_("Default generation model"),
    "paraphrase": N_("Default paraphrase model"),
    "judge": N_("Default judge model"),
}
ROLE_DONE: dict[Role, str] = {
    "generation": N_("'{model}' is now the default generation model."),
    "paraphrase": N_("'{model}' is now the default paraphrase model."),
    "judge": N_("'{model}' is now the default judge model."),
}


class ModelsScreen(Localized, WorkspaceScreen):
    TITLE = N_("Models")
    HELP = N_(
        "Every model of every endpoint in Settings, with what is loaded now. The pane below shows the "
        "details of the model under the cursor. Pulling, deleting and copying work on Ollama endpoints. "
        "Compare with… opens Audition's compare mode: this model and another answer the same prompts side by side."
    )
    BINDINGS = [
        Binding("n", "pull", N_("Pull"), id="models.pull"),
        Binding("delete", "delete", N_("Delete"), id="models.delete"),
        Binding("c", "copy", N_("Copy"), id="models.copy"),
        Binding("u", "unload", N_("Unload"), id="models.unload"),
        Binding("a", "use_as", N_("Use as…"), id="models.use_as"),
        Binding("r", "refresh", N_("Refresh"), id="models.refresh"),
        Binding("v", "compare", N_("Compare with…"), id="models.compare"),
    ]

    def __init__(self, workspace: Workspace, service: ModelService | None = None) -> None:
        super().__init__(workspace)
        self._service = service
        self._rows: list[ModelEntry] = []
        self._problems: list[tuple[str, str]] = []
        self._loading = True

    @property
    def service(self) -> ModelService:
        """Over the endpoints Settings has now (a change in Settings is seen at the next refresh)."""
        return self._service or ModelService(self.workspace.settings.backend())

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield Static("", id="models-summary", classes="dim")
        yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
        yield ModelDetailsPane(id="models-details")
        yield ForgeFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS.items():
            table.add_column(_(label), key=key)
        table.focus()
        self.action_refresh()

    def draw_text(self) -> None:
        table = self.query_one(DataTable)
        if table.columns:
            label_columns(table, COLUMNS)
            self._fill()
        self._summary()

    def _summary(self) -> None:
        if self._loading:
            text = _("Asking every endpoint for its models…")
        else:
            count, loaded = len(self._rows), sum(1 for r in self._rows if r.loaded)
            text = ngettext("{n} model", "{n} models", count).format(n=count)
            text = _("{models} · {loaded} loaded").format(models=text, loaded=loaded)
            for name, problem in self._problems:
                text += " · " + _("{endpoint}: {problem}").format(endpoint=name, problem=problem)
        self.query_one("#models-summary", Static).update(text)

    def _fill(self, keep: tuple[str, str] | None = None) -> None:
        table = self.query_one(DataTable)
        selected = keep or self._key(self.selected())
        table.clear()
        for entry in self._rows:
            loaded = "—"
            if entry.loaded:
                loaded = size_text(entry.size_vram) if entry.size_vram else _("yes")
            table.add_row(
                shown_cell(entry.name),
                shown_cell(entry.endpoint),
                size_text(entry.size),
                entry.parameter_size or "—",
                entry.quantization or "—",
                str(entry.context_length or "—"),
                loaded,
                shown_cell(entry.family or "—"),
                (entry.modified_at or "—")[:10],
            )
        for index, entry in enumerate(self._rows):
            if self._key(entry) == selected:
                table.move_cursor(row=index)

    @staticmethod
    def _key(entry: ModelEntry | None) -> tuple[str, str] | None:
        return (entry.endpoint, entry.name) if entry else None

    def selected(self) -> ModelEntry | None:
        table = self.query_one(DataTable)
        if not self._rows or not 0 <= table.cursor_row < len(self._rows):
            return None
        return self._rows[table.cursor_row]

    async def _ask(self, failure: str, call: Callable[[], Awaitable[T]]) -> T | None:
        """An async service call; a ForgeError becomes a toast titled `failure` (a message id) and None."""
        try:
            return await call()
        except ForgeError as exc:
            self.notify(str(exc), title=_(failure), severity="error")
            return None

    # --- reading ----------------------------------------------------------------------------------
    @work(exclusive=True, group="catalog")
    async def action_refresh(self, keep: tuple[str, str] | None = None) -> None:
        self._loading = True
        self._summary()
        catalog = await self._ask(N_("Cannot list the models"), self.service.catalog)
        self._loading = False
        if catalog is not None:
            self._rows, self._problems = catalog.entries, catalog.problems
            self._fill(keep)
        self._summary()
        self._details()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._details()

    @work(exclusive=True, group="details")
    async def _details(self) -> None:
        entry = self.selected()
        pane = self.query_one(ModelDetailsPane)
        if entry is None:
            pane.say(lambda: _("No models: pull one with {key}.").format(key=self.key("pull")))
            return
        pane.say(lambda: _("Asking {endpoint} about '{model}'…").format(endpoint=entry.endpoint, model=entry.name))
        try:
            details = await self.service.details(entry.name, entry.endpoint)
        except ForgeError as exc:
            problem = str(exc)
            pane.say(lambda: problem)
            return
        pane.show(details)

    # --- changing ---------------------------------------------------------------------------------
    def _endpoint_for_change(self) -> str | None:
        entry = self.selected()
        return entry.endpoint if entry is not None and entry.kind == "ollama" else None

    @work(group="dialog")
    async def action_pull(self) -> None:
        name = await self.app.push_screen_wait(
            TextPrompt(_("Model to pull (as `ollama pull` takes it)"), validators=[PassesCheck(checked_name)])
        )
        if not name:
            return
        name = name.strip()
        service = self.service
        endpoint = self.report(N_("Cannot pull"), lambda: service.endpoint(self._endpoint_for_change()).name)
        if endpoint is None:
            return
        result = await self.app.push_screen_wait(PullDialog(name, endpoint, lambda: service.pull(name, endpoint)))
        if result.error is not None:
            self.notify(result.error, title=_("Cannot pull"), severity="error", timeout=15)
        elif result.done:
            self.notify(_("Pulled '{model}' onto '{endpoint}'.").format(model=name, endpoint=endpoint))
            self.action_refresh((endpoint, name))
        else:
            self.notify(_("The pull of '{model}' was cancelled.").format(model=name))

    @work(group="dialog")
    async def action_delete(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        question = _("Delete model '{model}' from endpoint '{endpoint}'? Its files are removed from the server.")
        if not await self.app.push_screen_wait(
            Confirm(question.format(model=entry.name, endpoint=entry.endpoint), yes=N_("Delete"), no=N_("Keep"))
        ):
            return
        if await self._ask(N_("Cannot delete"), lambda: self._done(self.service.delete(entry.name, entry.endpoint))):
            self.notify(_("Deleted '{model}'.").format(model=entry.name))
            self.action_refresh()

    @work(group="dialog")
    async def action_copy(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        target = await self.app.push_screen_wait(
            TextPrompt(
                _("Copy '{model}' as").format(model=entry.name),
                value=entry.name,
                validators=[PassesCheck(checked_name)],
            )
        )
        if not target or target.strip() == entry.name:
            return
        target = target.strip()
        copying = self.service.copy(entry.name, target, entry.endpoint)
        if await self._ask(N_("Cannot copy"), lambda: self._done(copying)):
            self.notify(_("Copied '{model}' as '{target}'.").format(model=entry.name, target=target))
            self.action_refresh((entry.endpoint, target))

    @work(group="dialog")
    async def action_unload(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        unloaded = await self._ask(N_("Cannot unload"), lambda: self.service.unload(entry.name, entry.endpoint))
        if unloaded:
            self.notify(_("Unloaded '{model}': its memory is free.").format(model=entry.name))
            self.action_refresh()
        elif unloaded is False:
            self.notify(_("Endpoint '{endpoint}' cannot be told to unload a model.").format(endpoint=entry.endpoint))

    @work(group="dialog")
    async def action_use_as(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        options: list[tuple[str, str]] = [(role, _(ROLE_LABELS[role])) for role in ROLES]
        role = await self.app.push_screen_wait(PickOne(_("Use '{model}' as").format(model=entry.name), options))
        if role not in ROLES:
            return
        chosen: Role = role  # type: ignore[assignment]
        if self.report(
            N_("Cannot save the settings"), lambda: use_as_default(self.workspace.settings, chosen, entry.name)
        ):
            self.notify(_(ROLE_DONE[chosen]).format(model=entry.name))

    @work(group="dialog")
    async def action_compare(self) -> None:
        """Audition's compare mode: this model against another one (its base first when known)."""
        entry = self.selected()
        if entry is None:
            return
        first = Contender(entry.name, entry.endpoint)
        rival = await ask_rival(self, self.service, first)
        if rival is not None:
            self.post_message(CompareWith(first, rival))

    @staticmethod
    async def _done(call: Awaitable[None]) -> bool:
        await call
        return True
