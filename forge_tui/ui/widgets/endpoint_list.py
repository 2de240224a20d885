"""Settings' endpoints: the table (name, kind, URL, max concurrency, models) whose keys add, edit,
remove and refresh post messages for the screen to ask the service, a status line, and the choice of
where Audition runs (an endpoint, or the pool)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Select

from forge_tui.core.bounded_text import clip
from forge_tui.core.endpoints import POOL, Endpoint
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.endpoints import Listed
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.widgets.table_headers import LocalizedTable

COLUMNS = ((N_("Name"), "Name"), (N_("Kind"), "Kind"), (N_("URL"), "URL"), (N_("Max"), "Max"), (N_("Models"), "Models"))


def models_text(models: list[str]) -> str:
    return ", ".join(models) if models else "—"


def endpoint_choices(endpoints: list[Endpoint]) -> list[tuple[str, str]]:
    return [(_("pool: every endpoint that serves the model"), POOL), *((e.name, e.name) for e in endpoints)]


def read_text(results: list[Listed]) -> str:
    """One line on what the servers said: each one's count of models, or the first that did not answer."""
    problems = [r for r in results if r.problem]
    if problems:
        first = problems[0]
        if len(problems) > 1:
            text = _("{name}: {problem} ({n} more did not answer)").format(
                name=first.endpoint.name, problem=first.problem, n=len(problems) - 1
            )
        else:
            text = _("{name}: {problem}").format(name=first.endpoint.name, problem=first.problem)
        return clip(text, 300)
    counts = (
        ngettext("{name}: {n} model", "{name}: {n} models", len(r.endpoint.models)).format(
            name=r.endpoint.name, n=len(r.endpoint.models)
        )
        for r in results
    )
    return clip(" · ".join(counts), 300)


class EndpointList(LocalizedTable):
    HEADERS = COLUMNS
    BINDINGS = [
        Binding("a", "add", N_("Add endpoint"), id="settings.endpoint_add"),
        Binding("e", "edit", N_("Edit"), id="settings.endpoint_edit"),
        Binding("d,delete", "remove", N_("Remove"), id="settings.endpoint_remove"),
        Binding("r", "refresh", N_("Read models"), id="settings.endpoint_refresh"),
    ]

    class Add(Message):
        """A new endpoint is wanted."""

    @dataclass
    class Edit(Message):
        endpoint: Endpoint

    @dataclass
    class Remove(Message):
        endpoint: Endpoint

    class Refresh(Message):
        """Every endpoint's models are to be read again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.endpoints: list[Endpoint] = []

    def on_mount(self) -> None:
        self.add_headers()

    @property
    def selected(self) -> Endpoint | None:
        if not self.endpoints or not 0 <= self.cursor_row < len(self.endpoints):
            return None
        return self.endpoints[self.cursor_row]

    def show(self, endpoints: list[Endpoint]) -> None:
        """The endpoints as saved; the cursor stays on the one it was on (by name)."""
        keep = self.selected.name if self.selected else None
        self.endpoints = list(endpoints)
        self.clear()
        for e in endpoints:
            url = shown_cell(e.url or _("(default)"))
            self.add_row(shown_cell(e.name), e.kind, url, str(e.max_concurrency), shown_cell(models_text(e.models)))
        if endpoints:
            self.move_cursor(row=next((i for i, e in enumerate(endpoints) if e.name == keep), 0))

    def action_add(self) -> None:
        self.post_message(self.Add())

    def action_edit(self) -> None:
        if self.selected is not None:
            self.post_message(self.Edit(self.selected))

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_remove(self) -> None:
        if self.selected is not None:
            self.post_message(self.Remove(self.selected))

    def action_refresh(self) -> None:
        self.post_message(self.Refresh())


class EndpointsPanel(Localized, Vertical):
    """The table, its status line and the choice of where Audition runs."""

    DEFAULT_CSS = """
    EndpointsPanel { height: auto; }
    EndpointsPanel EndpointList { height: auto; max-height: 8; }
    """

    def __init__(self, endpoints: list[Endpoint], choice: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._endpoints = endpoints
        self._choice = choice if choice in [e.name for e in endpoints] else POOL
        self._drawn = False

    def compose(self) -> ComposeResult:
        yield TLabel(N_("Endpoints (none: the server above is the only one)"))
        yield EndpointList(id="endpoints")
        yield PlainStatic("", id="endpoints-status", classes="dim")
        yield TLabel(N_("Audition runs on (new jobs start with it)"))
        choices = endpoint_choices(self._endpoints)
        yield Select[str](choices, value=self._choice, allow_blank=False, id="endpoint-choice", compact=True)

    def on_mount(self) -> None:
        self.query_one(EndpointList).show(self._endpoints)

    def draw_text(self) -> None:
        """The pool's name in the choice (the endpoints' own names stay)."""
        if not self._drawn:  # at mount: composed in the current language
            self._drawn = True
            return
        select = self.query_one("#endpoint-choice", Select)
        choice = select.value
        with self.prevent(Select.Changed):
            select.set_options(endpoint_choices(self._endpoints))
            select.value = choice if choice in [e.name for e in self._endpoints] else POOL

    @property
    def choice(self) -> str | None:
        """The endpoint chosen for Audition; None: the pool."""
        value = self.query_one("#endpoint-choice", Select).value
        return value if isinstance(value, str) and value != POOL else None

    def show(self, endpoints: list[Endpoint]) -> None:
        """The endpoints as saved now; the choice stays unless its endpoint is gone."""
        choice = self.choice
        self._endpoints = endpoints
        self.query_one(EndpointList).show(endpoints)
        select = self.query_one("#endpoint-choice", Select)
        select.set_options(endpoint_choices(endpoints))
        select.value = choice if choice in [e.name for e in endpoints] else POOL

    def say(self, text: str) -> None:
        self.query_one("#endpoints-status", PlainStatic).update(text)
