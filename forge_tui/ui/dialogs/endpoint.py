"""A model server to add to Settings' endpoints, or one to change (its name stays)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from forge_tui.core.backend_settings import BACKEND_LABELS
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.endpoints import new_endpoint
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TInput, TLabel
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

# What the URL and key fields show for each kind before anything is typed.
URL_EXAMPLES = {
    "ollama": "http://gpu-box:11434",
    "openai": "http://gpu-box:8000/v1",
    "anthropic": "https://api.anthropic.com",
}
KEY_EXAMPLES = {
    "ollama": N_("hosted APIs: e.g. OPENAI_API_KEY"),
    "openai": N_("hosted APIs: e.g. OPENAI_API_KEY"),
    "anthropic": N_("e.g. ANTHROPIC_API_KEY"),
}


class EndpointDialog(Localized, ModalScreen[Endpoint | None]):
    """Name, kind, URL, API-key variable and max concurrency, each checked as the service checks them;
    ctrl+s (or enter in a field) gives the endpoint back, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="endpoint.save"),
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
    ]

    def __init__(self, endpoint: Endpoint | None = None, *, editing: bool = False) -> None:
        super().__init__()
        self._endpoint = endpoint
        self._editing = editing

    def compose(self) -> ComposeResult:
        e = self._endpoint
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title(), classes="dialog-title", id="endpoint-title")
            with Horizontal(classes="endpoint-field"):
                yield TLabel(N_("Name"))
                yield TInput(e.name if e else "", placeholder=N_("e.g. gpu1"), id="endpoint-name", compact=True)
            with Horizontal(classes="endpoint-field"):
                yield TLabel(N_("Kind"))
                options = [(_(label), kind) for kind, label in BACKEND_LABELS.items()]
                kind = e.kind if e else "ollama"
                yield Select(options, value=kind, allow_blank=False, id="endpoint-kind", compact=True)
            with Horizontal(classes="endpoint-field"):
                yield TLabel(N_("URL"))
                url = e.url or "" if e else ""
                yield Input(url, placeholder=URL_EXAMPLES[kind], id="endpoint-url", compact=True)
            with Horizontal(classes="endpoint-field"):
                yield TLabel(N_("Key variable"))
                key = e.api_key_env or "" if e else ""
                yield TInput(key, placeholder=KEY_EXAMPLES[kind], id="endpoint-key", compact=True)
            with Horizontal(classes="endpoint-field"):
                yield TLabel(N_("Max at once"))
                most = str(e.max_concurrency if e else Endpoint.model_fields["max_concurrency"].default)
                yield Input(most, type="integer", id="endpoint-max", compact=True)
            yield PlainStatic("", classes="error", id="endpoint-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._save_label(), variant="primary", id="save", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _title(self) -> str:
        e = self._endpoint
        if e is not None and self._editing:
            return _("Endpoint '{name}'").format(name=e.name)
        return _("New endpoint")

    def _save_label(self) -> str:
        return _("Save ({key})").format(key=key_for(self, "save"))

    def draw_text(self) -> None:
        self.query_one("#endpoint-title", PlainLabel).update(self._title())
        self.query_one("#save", Button).label = self._save_label()

    def on_mount(self) -> None:
        name = self.query_one("#endpoint-name", Input)
        name.disabled = self._editing  # jobs name their endpoint: a new name is a new endpoint
        self.query_one("#endpoint-url" if self._editing else "#endpoint-name", Input).focus()

    def typed(self) -> Endpoint:
        """The endpoint as typed; ForgeError says what is wrong in one sentence."""
        most = self.query_one("#endpoint-max", Input).value.strip()
        if not most.isdigit():
            raise ForgeError(_("Max concurrency is a whole number between 1 and 1024."))
        checked = new_endpoint(
            self.query_one("#endpoint-name", Input).value,
            str(self.query_one("#endpoint-kind", Select).value),
            self.query_one("#endpoint-url", Input).value,
            self.query_one("#endpoint-key", Input).value,
            int(most),
        )
        return checked.model_copy(update={"models": self._endpoint.models if self._endpoint else []})

    @on(Select.Changed, "#endpoint-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        kind = str(event.value)
        self.query_one("#endpoint-url", Input).placeholder = URL_EXAMPLES.get(kind, "")
        key = self.query_one("#endpoint-key", TInput)
        key.message = KEY_EXAMPLES.get(kind, "")
        key.draw_text()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        try:
            endpoint = self.typed()
        except ForgeError as exc:
            self.query_one("#endpoint-error", Static).update(str(exc))
            return
        self.dismiss(endpoint)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
