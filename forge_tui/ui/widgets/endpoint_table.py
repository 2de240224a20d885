"""Settings' table of endpoints (name, kind, URL, max concurrency, models) and its keys: add, edit,
remove and refresh post messages; the screen asks the service."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from forge_tui.core.bounded_text import clip
from forge_tui.core.endpoints import Endpoint
from forge_tui.services.endpoints import Listed
from forge_tui.ui.shown import shown_cell

COLUMNS = ("Name", "Kind", "URL", "Max", "Models")


def models_text(models: list[str]) -> str:
    return ", ".join(models) if models else "—"


def read_text(results: list[Listed]) -> str:
    """One line on what the servers said: each one's count of models, or the first that did not answer."""
    problems = [r for r in results if r.problem]
    if problems:
        more = f" ({len(problems) - 1} more did not answer)" if len(problems) > 1 else ""
        return clip(f"{problems[0].endpoint.name}: {problems[0].problem}{more}", 300)
    return clip(" · ".join(f"{r.endpoint.name}: {len(r.endpoint.models)} models" for r in results), 300)


class EndpointTable(DataTable[str]):
    BINDINGS = [
        Binding("a", "add", "Add endpoint", id="settings.endpoint_add"),
        Binding("e", "edit", "Edit", id="settings.endpoint_edit"),
        Binding("d,delete", "remove", "Remove", id="settings.endpoint_remove"),
        Binding("r", "refresh", "Read models", id="settings.endpoint_refresh"),
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
        self.add_columns(*COLUMNS)

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
            url = shown_cell(e.url or "(default)")
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
