"""Settings (`s`): the model server, default models picked from its live list, timeouts, concurrency."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from forge_tui.core.backend_settings import BACKEND_LABELS, BackendSettings
from forge_tui.core.chat import ModelInfo
from forge_tui.core.errors import ForgeError
from forge_tui.services.backends import BackendService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_markup
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
    return f"{model.name}  ({', '.join(d for d in details if d and d != '—') or 'no details'})"


class SettingsScreen(WorkspaceScreen):
    TITLE = "Settings"
    HELP = (
        "Where the models run. Ollama's URL defaults to OLLAMA_HOST as the ollama CLI reads it. For vLLM, "
        "llama.cpp or LM Studio choose OpenAI-compatible and give its URL; for a hosted API give the name of "
        "the environment variable that holds the key (never the key itself). The first-byte timeout covers "
        "model loading; the between-tokens timeout catches a stalled stream. Every request asks for at most "
        "max tokens, and an answer still streaming after its time limit is stopped (what came is kept)."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="settings.save"),
        Binding("ctrl+r", "refresh_models", "Refresh models", id="settings.refresh"),
        Binding("escape", "close", "Back", id="settings.back"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._settings = workspace.settings.backend()

    def compose(self) -> ComposeResult:
        s = self._settings
        yield ForgeHeader()
        with VerticalScroll(id="settings-form", can_focus=False):
            yield Label("Model server")
            yield Select(
                [(label, kind) for kind, label in BACKEND_LABELS.items()],
                value=s.kind,
                allow_blank=False,
                id="kind",
                compact=True,
            )
            yield Label("Base URL (empty: the default)")
            yield Input(s.base_url or "", placeholder="", id="base-url", compact=True)
            yield Label("API-key environment variable (hosted endpoints)")
            yield Input(s.api_key_env or "", placeholder="e.g. OPENAI_API_KEY", id="api-key-env", compact=True)
            yield PlainStatic("", id="settings-status", classes="dim")
            yield Label("Generation model")
            yield Select[str]([], prompt="(press ctrl+r to load the list)", id="generation-model", compact=True)
            yield Label("Paraphrase model")
            yield Select[str]([], prompt="(press ctrl+r to load the list)", id="paraphrase-model", compact=True)
            yield Label("Timeouts in seconds: first byte (model loading) · between tokens")
            with Horizontal(classes="row"):
                yield Input(f"{s.first_byte_timeout:g}", type="number", id="first-byte", compact=True)
                yield Input(f"{s.between_tokens_timeout:g}", type="number", id="between-tokens", compact=True)
            yield Label("Each answer at most: tokens · seconds (the answer's time limit)")
            with Horizontal(classes="row"):
                yield Input(str(s.max_tokens), type="integer", id="max-tokens", compact=True)
                yield Input(f"{s.answer_time_limit:g}", type="number", id="answer-time-limit", compact=True)
            yield Label("Requests at once (concurrency)")
            yield Input(str(s.concurrency), type="integer", id="concurrency", compact=True)
            yield PlainStatic("", classes="error", id="settings-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save", compact=True)
        yield ForgeFooter()

    def on_mount(self) -> None:
        self._update_url_placeholder()
        self.action_refresh_models()

    def _form(self) -> BackendSettings:
        """The settings as typed; raises ForgeError with a sentence when a field is off."""
        try:
            first_byte = float(self.query_one("#first-byte", Input).value)
            between = float(self.query_one("#between-tokens", Input).value)
            answer_limit = float(self.query_one("#answer-time-limit", Input).value)
            max_tokens = int(self.query_one("#max-tokens", Input).value)
            concurrency = int(self.query_one("#concurrency", Input).value)
        except ValueError:
            raise ForgeError("Timeouts, limits and concurrency must be numbers.") from None
        if min(first_byte, between, answer_limit) <= 0 or not 1 <= concurrency <= 1024:
            raise ForgeError("Timeouts must be above 0; concurrency between 1 and 1024.")
        if not 1 <= max_tokens <= 1_000_000:
            raise ForgeError("Max tokens is between 1 and 1,000,000.")
        generation = self.query_one("#generation-model", Select).value
        paraphrase = self.query_one("#paraphrase-model", Select).value
        return self._settings.model_copy(
            update={
                "kind": self.query_one("#kind", Select).value,
                "base_url": self.query_one("#base-url", Input).value.strip() or None,
                "api_key_env": self.query_one("#api-key-env", Input).value.strip() or None,
                "generation_model": generation if isinstance(generation, str) else self._settings.generation_model,
                "paraphrase_model": paraphrase if isinstance(paraphrase, str) else self._settings.paraphrase_model,
                "first_byte_timeout": first_byte,
                "between_tokens_timeout": between,
                "answer_time_limit": answer_limit,
                "max_tokens": max_tokens,
                "concurrency": concurrency,
            }
        )

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
        self.query_one("#settings-status", Static).update("Asking the server for its models…")
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
        status = self.query_one("#settings-status", Static)
        if not health.ok:
            status.update(health.message)
            return
        status.update(problem or f"{label}: {health.message} · {len(models)} models")
        options = [(shown_markup(model_label(m)), m.name) for m in models]
        for select_id, current in (
            ("#generation-model", settings.generation_model),
            ("#paraphrase-model", settings.paraphrase_model),
        ):
            select = self.query_one(select_id, Select)
            names = [name for _, name in options]
            extra = (
                [(shown_markup(f"{current}  (not on this server)"), current)]
                if current and current not in names
                else []
            )
            select.set_options(options + extra)
            select.prompt = "(choose a model)"
            if current:
                select.value = current

    def action_save(self) -> None:
        error = self.query_one("#settings-error", Static)
        try:
            saved = self.workspace.settings.save_backend(self._form())
        except ForgeError as exc:
            error.update(str(exc))
            return
        error.update("")
        self._settings = saved
        self.notify("Settings saved.")
        self.app.post_message(SettingsSaved(saved))

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    async def action_close(self) -> None:
        await self.app.run_action("show_datasets")
