"""Settings (`s`): the model server, the endpoints (a pool of servers) and where Audition runs, default
models picked from the live list, timeouts, concurrency."""

from __future__ import annotations

from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from forge_tui import i18n
from forge_tui.core.backend_settings import BACKEND_LABELS, BackendSettings
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import ModelInfo
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import ForgeError
from forge_tui.i18n import LANGUAGES, N_, _, ngettext
from forge_tui.services.backends import BackendService
from forge_tui.services.endpoints import EndpointService, Listed
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.endpoint import EndpointDialog
from forge_tui.ui.field_checks import HttpUrl, ModelNumber
from forge_tui.ui.keys import class_key
from forge_tui.ui.localized import Localized, TButton, TInput, TLabel
from forge_tui.ui.messages import SwitchLanguage
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.endpoint_list import EndpointList, EndpointsPanel, read_text
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.plain import PlainStatic


class SettingsSaved(Message):
    """Posted to the app so it re-checks the server with the new settings."""

    def __init__(self, settings: BackendSettings) -> None:
        super().__init__()
        self.settings = settings


def model_label(model: ModelInfo) -> str:
    details = [model.size_text, model.parameter_size or "", model.quantization or ""]
    return f"{model.name}  ({', '.join(d for d in details if d and d != '—') or _('no details')})"


def number(settings: BackendSettings, field: str, what: str, id: str) -> Input:
    """An input for a number field of BackendSettings, checked against that field's bounds (`what`
    names it: a message id)."""
    value = getattr(settings, field)
    whole = isinstance(value, int)
    validator = ModelNumber(BackendSettings, field, _(what))
    shown = str(value) if whole else f"{value:g}"
    return Input(shown, type="integer" if whole else "number", id=id, compact=True, validators=validator)


class SettingsScreen(Localized, WorkspaceScreen):
    TITLE = N_("Settings")
    HELP = N_(
        "Where the models run. Ollama's URL defaults to OLLAMA_HOST as the ollama CLI reads it. For vLLM, "
        "llama.cpp or LM Studio choose OpenAI-compatible and give its URL; for Claude choose Anthropic. For a "
        "hosted API give the name of the environment variable that holds the key, never the key itself: it is "
        "read from the environment when a request is sent (Anthropic without one reads ANTHROPIC_API_KEY). "
        "The first-byte timeout covers "
        "model loading; the between-tokens timeout catches a stalled stream. Every request asks for at most "
        "max tokens, and an answer still streaming after its time limit is stopped (what came is kept). "
        "Endpoints are model servers a job or Audition may use: one by name, or the pool (every endpoint that "
        "serves the model). With none listed, the server above is the only one. In the endpoints table {add} "
        "adds one, {edit} edits, {remove} removes and {refresh} reads every endpoint's models again."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="settings.save"),
        Binding("ctrl+r", "refresh_models", N_("Refresh models"), id="settings.refresh"),
        Binding("escape", "close", N_("Back"), id="settings.back"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._settings = workspace.settings.backend()
        self._endpoints = EndpointService(workspace.settings)
        # What the status line says, drawn again in a new language; and whether the models are listed.
        self._status: Callable[[], str] = str
        self._models_listed = False
        self._kinds_language = i18n.current()  # the language the server kinds are named in

    def help_text(self) -> str:
        keys = {name: class_key(self.app, EndpointList, name) for name in ("add", "edit", "remove", "refresh")}
        return _(self.HELP).format(**keys)

    def compose(self) -> ComposeResult:
        s = self._settings
        load_list = self._model_prompt()
        yield ForgeHeader()
        with VerticalScroll(id="settings-form", can_focus=False):
            yield TLabel(N_("Model server"))
            yield Select(
                self._kinds(),
                value=s.kind,
                allow_blank=False,
                id="kind",
                compact=True,
            )
            yield TLabel(N_("Base URL (empty: the default)"))
            url_check = HttpUrl(_("The base URL"))
            yield Input(s.base_url or "", placeholder="", id="base-url", compact=True, validators=url_check)
            yield TLabel(N_("API-key environment variable (hosted endpoints)"))
            yield TInput(s.api_key_env or "", placeholder=N_("e.g. OPENAI_API_KEY"), id="api-key-env", compact=True)
            yield PlainStatic("", id="settings-status", classes="dim")
            yield EndpointsPanel(s.endpoints, s.endpoint)
            yield TLabel(N_("Generation model"))
            yield Select[str]([], prompt=load_list, id="generation-model", compact=True)
            yield TLabel(N_("Paraphrase model"))
            yield Select[str]([], prompt=load_list, id="paraphrase-model", compact=True)
            yield TLabel(N_("Judge model (judge jobs, judging while generating, fixes)"))
            yield Select[str]([], prompt=load_list, id="judge-model", compact=True)
            yield TLabel(N_("Timeouts in seconds: first byte (model loading) · between tokens"))
            with Horizontal(classes="row"):
                yield number(s, "first_byte_timeout", N_("The first-byte timeout"), "first-byte")
                yield number(s, "between_tokens_timeout", N_("The between-tokens timeout"), "between-tokens")
            yield TLabel(N_("Each answer at most: tokens · seconds (the answer's time limit)"))
            with Horizontal(classes="row"):
                yield number(s, "max_tokens", N_("Max tokens"), "max-tokens")
                yield number(s, "answer_time_limit", N_("The answer's time limit"), "answer-time-limit")
            yield TLabel(N_("Requests at once (concurrency)"))
            yield number(s, "concurrency", N_("Concurrency"), "concurrency")
            yield TLabel(N_("Language"))
            yield Select(
                [(name, language) for language, name in LANGUAGES.items()],
                value=i18n.current(),
                allow_blank=False,
                id="language",
                compact=True,
            )
            yield PlainStatic("", classes="error", id="settings-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("Save"), variant="primary", id="save", compact=True)
        yield ForgeFooter()

    def on_mount(self) -> None:
        self._update_url_placeholder()
        self.action_refresh_models()

    def _form(self) -> BackendSettings:
        """The settings as typed; raises ForgeError with the first field's sentence when a field is off."""
        for field in self.query(Input).results(Input):
            checked = field.validate(field.value)
            if checked is not None and not checked.is_valid:
                raise ForgeError(checked.failure_descriptions[0])
        value = self._value
        generation = self.query_one("#generation-model", Select).value
        paraphrase = self.query_one("#paraphrase-model", Select).value
        judge = self.query_one("#judge-model", Select).value
        return self._settings.model_copy(
            update={
                "kind": self.query_one("#kind", Select).value,
                "base_url": self.query_one("#base-url", Input).value.strip() or None,
                "api_key_env": self.query_one("#api-key-env", Input).value.strip() or None,
                "generation_model": generation if isinstance(generation, str) else self._settings.generation_model,
                "paraphrase_model": paraphrase if isinstance(paraphrase, str) else self._settings.paraphrase_model,
                "judge_model": judge if isinstance(judge, str) else self._settings.judge_model,
                "first_byte_timeout": float(value("#first-byte")),
                "between_tokens_timeout": float(value("#between-tokens")),
                "answer_time_limit": float(value("#answer-time-limit")),
                "max_tokens": int(value("#max-tokens")),
                "concurrency": int(value("#concurrency")),
                "endpoint": self.query_one(EndpointsPanel).choice,
            }
        )

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _kinds(self) -> list[tuple[str, str]]:
        # BACKEND_LABELS' names are message ids (N_) where they are defined.
        return [(_(label), kind) for kind, label in BACKEND_LABELS.items()]

    def _model_prompt(self) -> str:
        if self._models_listed:
            return _("(choose a model)")
        return _("(press {key} to load the list)").format(key=self.key("refresh_models"))

    def draw_text(self) -> None:
        language = self.query_one("#language", Select)
        if language.value != i18n.current():
            language.value = i18n.current()
        if self._kinds_language != i18n.current():
            self._kinds_language = i18n.current()
            kind = self.query_one("#kind", Select)
            chosen = kind.value
            kind.set_options(self._kinds())
            kind.value = chosen
        for select_id in ("#generation-model", "#paraphrase-model", "#judge-model"):
            self.query_one(select_id, Select).prompt = self._model_prompt()
        self.query_one("#settings-status", Static).update(self._status())

    def _say(self, status: Callable[[], str]) -> None:
        """The status line, kept as a callable so that a language switch draws it again."""
        self._status = status
        self.query_one("#settings-status", Static).update(status())

    @on(Select.Changed, "#language")
    def _language_chosen(self, event: Select.Changed) -> None:
        """Applies at once (every screen redraws) and is saved with the account, without ctrl+s."""
        if isinstance(event.value, str) and event.value != i18n.current():
            self.app.post_message(SwitchLanguage(event.value))

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._update_url_placeholder()

    def _update_url_placeholder(self) -> None:
        try:
            settings = self._form()
        except ForgeError:
            return
        url = BackendService(settings.model_copy(update={"base_url": None})).backend.base_url
        self.query_one("#base-url", Input).placeholder = url

    def action_refresh_models(self) -> None:
        try:
            settings = self._form()
        except ForgeError as exc:
            self.query_one("#settings-error", Static).update(str(exc))
            return
        self._say(lambda: _("Asking the server for its models…"))
        self._load_models(settings)

    @work(exclusive=True, group="models")
    async def _load_models(self, settings: BackendSettings) -> None:
        async with BackendService(settings) as service:
            health = await service.health()
            models: list[ModelInfo] = []
            problem = ""
            if health.ok:
                try:
                    models = await service.models()
                except ForgeError as exc:
                    problem = str(exc)
            label = service.label
        if not health.ok:
            self._say(lambda: health.message)
            return
        count = len(models)
        self._say(
            lambda: (
                problem
                or ngettext("{server}: {health} · {n} model", "{server}: {health} · {n} models", count).format(
                    server=label, health=health.message, n=count
                )
            )
        )
        self._models_listed = True
        options = [(shown_markup(model_label(m)), m.name) for m in models]
        for select_id, current in (
            ("#generation-model", settings.generation_model),
            ("#paraphrase-model", settings.paraphrase_model),
            ("#judge-model", settings.judge_model),
        ):
            select = self.query_one(select_id, Select)
            names = [name for _label, name in options]
            extra = (
                [(shown_markup(_("{model}  (not on this server)").format(model=current)), current)]
                if current and current not in names
                else []
            )
            select.set_options(options + extra)
            select.prompt = self._model_prompt()
            if current:
                select.value = current

    def action_save(self) -> None:
        error = self.query_one("#settings-error", Static)
        try:
            form = self._form()
        except ForgeError as exc:
            error.update(str(exc))
            return
        error.update("")
        # The endpoints as saved now: they change on their own keys, or from the CLI meanwhile.
        form = form.model_copy(update={"endpoints": self._endpoints.saved()})
        saved = self.report(N_("Cannot save the settings"), lambda: self.workspace.settings.save_backend(form))
        if saved is None:
            return
        self._settings = saved
        self.notify(_("Settings saved."))
        self.app.post_message(SettingsSaved(saved))

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    # --- endpoints ----------------------------------------------------------------------------------
    def _reload_endpoints(self, results: list[Listed] | None = None) -> None:
        panel = self.query_one(EndpointsPanel)
        found = self.report(N_("Cannot list the endpoints"), self._endpoints.saved)
        if found is not None:
            panel.show(found)
        if results is not None:
            panel.say(read_text(results))

    @on(EndpointList.Add)
    def _add_endpoint(self) -> None:
        self._endpoint_dialog(None)

    @on(EndpointList.Edit)
    def _edit_endpoint(self, message: EndpointList.Edit) -> None:
        self._endpoint_dialog(message.endpoint)

    @work(group="endpoints", exclusive=True)
    async def _endpoint_dialog(self, current: Endpoint | None) -> None:
        """The dialog, then the server asked for its models; a refused endpoint opens again as typed."""
        draft, editing = current, current is not None
        panel = self.query_one(EndpointsPanel)
        while (typed := await self.app.push_screen_wait(EndpointDialog(draft, editing=editing))) is not None:
            draft = typed
            panel.say(_("Asking {url} for its models…").format(url=typed.url))
            try:
                if current is None:
                    listed = await self._endpoints.add(typed)
                else:
                    changes = typed.model_dump(include={"kind", "url", "max_concurrency"})
                    listed = await self._endpoints.update(current.name, api_key_env=typed.api_key_env or "", **changes)
            except ForgeError as exc:
                panel.say("")
                self.notify(str(exc), title=_("Cannot save the endpoint"), severity="error")
                continue
            self._reload_endpoints([listed])
            return

    @on(EndpointList.Remove)
    @work(group="endpoints", exclusive=True)
    async def _remove_endpoint(self, message: EndpointList.Remove) -> None:
        gone = message.endpoint
        question = _("Remove endpoint '{name}' ({url})? Jobs that name it need another.").format(
            name=clip(gone.name), url=clip(gone.url or "")
        )
        if not await self.app.push_screen_wait(Confirm(question, yes=_("Remove"), no=_("Keep"))):
            return
        if self.report(N_("Cannot remove the endpoint"), lambda: self._endpoints.remove(gone.name)) is not None:
            self.query_one(EndpointsPanel).say(_("Endpoint '{name}' removed.").format(name=clip(gone.name)))
            self._reload_endpoints()

    @on(EndpointList.Refresh)
    @work(group="endpoints", exclusive=True)
    async def _refresh_endpoints(self) -> None:
        panel = self.query_one(EndpointsPanel)
        panel.say(_("Asking every endpoint for its models…"))
        try:
            results = await self._endpoints.refresh()
        except ForgeError as exc:
            panel.say(str(exc))
            return
        self._reload_endpoints(results)

    async def action_close(self) -> None:
        await self.app.run_action("show_datasets")
