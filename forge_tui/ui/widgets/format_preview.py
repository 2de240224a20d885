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
from forge_tui.ui.widgets.plain import PlainStatic


def preview_records(
    fmt: ExportFormat, sample: list[Example], seconds: float, stop: Callable[[], bool], reasoning: str | None = None
) -> list[dict[str, Any]]:
    """The sample in the format, all renders within one time limit. Runs in a worker thread."""
    with time_limit(seconds, stop):
        return [record for example in sample if fmt.keeps(example) for record in fmt.records(example, reasoning)]


class FormatPreview(Vertical):
    # A preview that takes longer shows the limit instead (the render runs in a thread meanwhile).
    PREVIEW_SECONDS = 2.0

    def __init__(self, save_key: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._save_key = save_key

    def compose(self) -> ComposeResult:
        saves = f"; {self._save_key} saves" if self._save_key else ""
        yield Label(f"Custom format body (Jinja2{saves})", id="body-label")
        yield TextArea("", id="body")
        yield PlainStatic("", id="body-error", classes="error")
        yield Label("Preview: the first examples in this format")
        yield PlainStatic("", id="export-preview")

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

    def say(self, text: str) -> None:
        """A sentence in place of the preview."""
        self.query_one("#export-preview", Static).update(text)

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
        if not sample:
            self.say("The dataset is empty.")
        elif not records:
            self.say(
                f"None of the first examples has {fmt.needs}, so this format writes nothing for them."
                if fmt.needs
                else "This format writes nothing for the first examples."
            )
        else:
            self.say("\n\n".join(json.dumps(r, indent=2, ensure_ascii=False) for r in records))
