"""The Export screen's right side: a custom format's Jinja2 body (shown for custom formats only), its
error line, and a preview of the first examples in the chosen format, rendered in a worker thread
within a time limit so that a slow body cannot freeze the screen."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Static, TextArea

from forge_tui.core.errors import ForgeError
from forge_tui.core.export_formats import ExportFormat
from forge_tui.core.models import Example
from forge_tui.core.sandbox import time_limit
from forge_tui.i18n import N_, _
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.widgets.plain import PlainStatic


def preview_records(
    fmt: ExportFormat, sample: list[Example], seconds: float, stop: Callable[[], bool], reasoning: str | None = None
) -> list[dict[str, Any]]:
    """The sample in the format, all renders within one time limit. Runs in a worker thread."""
    with time_limit(seconds, stop):
        return [record for example in sample if fmt.keeps(example) for record in fmt.records(example, reasoning)]


class FormatPreview(Localized, Vertical):
    # A preview that takes longer shows the limit instead (the render runs in a thread meanwhile).
    PREVIEW_SECONDS = 2.0

    def __init__(self, save_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._save_key = save_key
        # What the preview says in place of records, drawn again in a new language.
        self._said: Callable[[], str] | None = None

    def compose(self) -> ComposeResult:
        yield Label(self._body_label(), id="body-label", markup=False)
        yield TextArea("", id="body")
        yield PlainStatic("", id="body-error", classes="error")
        yield TLabel(N_("Preview: the first examples in this format"))
        yield PlainStatic("", id="export-preview")

    def _body_label(self) -> str:
        if self._save_key:
            return _("Custom format body (Jinja2; {key} saves)").format(key=self._save_key)
        return _("Custom format body (Jinja2)")

    def draw_text(self) -> None:
        self.query_one("#body-label", Label).update(self._body_label())
        if self._said is not None:
            self.query_one("#export-preview", Static).update(self._said())

    @property
    def body(self) -> str:
        return self.query_one("#body", TextArea).text

    def show_body(self, text: str | None) -> None:
        """A custom format's body to edit; None hides the editor (a built-in format)."""
        for selector in ("#body", "#body-label", "#body-error"):
            self.query_one(selector).display = text is not None
        if text is not None:
            self.query_one("#body", TextArea).text = text

    def error(self, text: str) -> None:
        self.query_one("#body-error", Static).update(text)

    def say(self, text: str | Callable[[], str]) -> None:
        """A sentence in place of the preview (a callable: drawn again after a language switch)."""
        said = text if callable(text) else None
        self._said = said
        self.query_one("#export-preview", Static).update(said() if said is not None else str(text))

    def cannot_render(self, exc: ForgeError) -> None:
        self.workers.cancel_group(self, "preview")
        self.error(f"✗ {exc}")

    @work(exclusive=True, group="preview")
    async def render_sample(self, fmt: ExportFormat, sample: list[Example], reasoning: str | None) -> None:
        """A newer preview (or leaving the screen) stops this one."""
        stop = threading.Event()
        problem: ForgeError | None = None
        records: list[Any] = []
        try:
            records = await asyncio.to_thread(
                preview_records, fmt, sample, self.PREVIEW_SECONDS, stop.is_set, reasoning
            )
        except asyncio.CancelledError:
            stop.set()
            raise
        except ForgeError as exc:
            problem = exc
        if not self.query("#export-preview"):  # taken down while it rendered: nowhere to show it
            return
        if problem is not None:
            self.error(f"✗ {problem}")
            return
        self.error("")
        needs = fmt.needs
        if not sample:
            self.say(lambda: _("The dataset is empty."))
        elif not records and needs:
            self.say(
                lambda: _("None of the first examples has {needs}, so this format writes nothing for them.").format(
                    needs=_(needs)
                )
            )
        elif not records:
            self.say(lambda: _("This format writes nothing for the first examples."))
        else:
            self.say("\n\n".join(json.dumps(r, indent=2, ensure_ascii=False) for r in records))
