"""Export (`x`): format, file type, split and destination, a preview of the first examples in the
chosen format, progress, and the custom-format manager (a Jinja2 body with a live preview)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static, TextArea

from forge_tui.core.custom_formats import CUSTOM_PREFIX, custom_format
from forge_tui.core.errors import ForgeError
from forge_tui.core.export_formats import FORMATS, REASONING_MODES, ExportFormat
from forge_tui.core.models import Example
from forge_tui.core.sandbox import time_limit
from forge_tui.services import export_workers
from forge_tui.services.dataset_files import FILE_TYPES
from forge_tui.services.exporting import SUFFIX, TABLE_TYPES, CustomFormats, ExportSummary, export
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.messages import DatasetSwitched
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.plain import PlainStatic

PREVIEW_EXAMPLES = 3


REASONING_LABELS = {
    "field": "in the format's own field",
    "think-tags": "as <think>…</think> before the answer",
    "drop": "left out",
}


def preview_records(
    fmt: ExportFormat, sample: list[Example], seconds: float, stop: Callable[[], bool], reasoning: str | None = None
) -> list[dict[str, Any]]:
    """The sample in the format, all renders within one time limit. Runs in a worker thread."""
    with time_limit(seconds, stop):
        return [record for example in sample if fmt.keeps(example) for record in fmt.records(example, reasoning)]


class ExportScreen(WorkspaceScreen):
    TITLE = "Export"
    HELP = (
        "Choose a format and a file type, optionally a train share (0.9 writes NAME.train and NAME.valid, "
        "shuffled with the seed), and where to write; ctrl+e exports. Reasoning (the model's thinking before "
        "an answer) is written in the format's own field, as <think> text before the answer, or left out; "
        "each format has its default. The preview shows the first examples "
        "in the chosen format; escape stops a running export (nothing is written). Custom formats are Jinja2 "
        "bodies that write one JSON object per example: "
        "ctrl+n makes one, ctrl+d duplicates the chosen one, ctrl+s saves its body, ctrl+x deletes it. "
        "The body sees `example` (every field), `messages` (OpenAI shape) and `conversation`."
    )
    BINDINGS = [
        # Priority: the fields' own ctrl+e (end of line) would otherwise take it while one has focus,
        # and typing the destination then pressing ctrl+e is the natural order.
        Binding("ctrl+e", "export", "Export", id="export.run", priority=True),
        Binding("ctrl+n", "new_format", "New format", id="export.new_format"),
        Binding("ctrl+d", "duplicate_format", "Duplicate", id="export.duplicate_format"),
        Binding("ctrl+s", "save_format", "Save format", id="export.save_format"),
        Binding("ctrl+x", "delete_format", "Delete format", id="export.delete_format"),
        Binding("escape", "stop", "Stop export", id="export.stop"),
    ]
    # A preview that takes longer shows the limit instead (the render runs in a thread meanwhile).
    PREVIEW_SECONDS = 2.0

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.formats = CustomFormats(workspace.home, workspace.unlocked)
        dataset = workspace.datasets.current()
        self.dataset_id: int | None = dataset.id if dataset else None
        self.dataset_name = dataset.name if dataset else ""
        self._sample: list[Example] | None = None
        self._cancel: threading.Event | None = None

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        # Interim: open again on the new dataset (issue 15 makes this screen show it in place).
        if self.is_current:
            self.app.switch_screen(ExportScreen(self.workspace))

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        with Horizontal(id="export-body"):
            with VerticalScroll(id="export-form", can_focus=False):
                yield Label("Format")
                yield Select[str]([(f.name, f.name) for f in FORMATS.values()], id="format", allow_blank=False,
                                  compact=True)  # fmt: skip
                yield PlainStatic("", id="format-about", classes="dim")
                yield Label("Reasoning")
                yield Select[str](self._reasoning_options("openai-chat"), id="reasoning", value="field",
                                  allow_blank=False, compact=True)  # fmt: skip
                yield Label("File type")
                yield Select[str]([(t, t) for t in FILE_TYPES], id="file-type", value="jsonl", allow_blank=False,
                                  compact=True)  # fmt: skip
                yield Checkbox("Spreadsheet-safe cells (= + - @ quoted)", id="spreadsheet-safe", compact=True)
                yield Label("Train share (empty: one file) · seed")
                with Horizontal(classes="row"):
                    yield Input("", type="number", id="split", placeholder="e.g. 0.9", compact=True)
                    yield Input("0", type="integer", id="seed", compact=True)
                yield Label("Write to")
                yield Input("", id="destination", compact=True)
                yield Button("Export (ctrl+e)", variant="primary", id="run", compact=True)
                yield ProgressBar(id="progress", show_eta=False)
                yield PlainStatic("", id="export-result")
            with Vertical(id="export-main"):
                yield Label("Custom format body (Jinja2; ctrl+s saves)", id="body-label")
                yield TextArea("", id="body")
                yield PlainStatic("", id="body-error", classes="error")
                yield Label("Preview: the first examples in this format")
                yield PlainStatic("", id="preview")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self._fill_formats("openai-chat")
        self._set_destination()
        self.query_one("#format", Select).focus()
        self.query_one("#progress", ProgressBar).display = False  # shown from the first export on
        self.query_one("#spreadsheet-safe", Checkbox).display = False  # for CSV and TSV only
        self._warm()

    @work(thread=True, group="warm")
    def _warm(self) -> None:
        export_workers.warm()  # the first large export need not wait for the worker server

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self._cancel is not None
        return True

    def action_stop(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            self.query_one("#export-result", Static).update("Stopping…")

    # --- choices --------------------------------------------------------------------------------
    def _fill_formats(self, chosen: str) -> None:
        options = [(shown_markup(f"{f.name} — {f.description}"), f.name) for f in FORMATS.values()]
        options += [
            (shown_markup(f"{CUSTOM_PREFIX}{c.name} — custom"), CUSTOM_PREFIX + c.name) for c in self.formats.list()
        ]
        select = self.query_one("#format", Select)
        select.set_options(options)
        select.value = chosen if any(value == chosen for _, value in options) else "openai-chat"

    @property
    def chosen(self) -> str:
        value = self.query_one("#format", Select).value
        return value if isinstance(value, str) else "openai-chat"

    def _set_destination(self) -> None:
        kind = self.query_one("#file-type", Select).value
        stem = f"{self.dataset_name or 'dataset'}-{self.chosen.removeprefix(CUSTOM_PREFIX)}".replace(" ", "_")
        self.query_one("#destination", Input).value = str(Path.cwd() / f"{stem}{SUFFIX.get(str(kind), '.jsonl')}")

    @on(Select.Changed, "#format")
    def _format_changed(self) -> None:
        name = self.chosen
        custom = name.startswith(CUSTOM_PREFIX)
        for selector in ("#body", "#body-label", "#body-error"):
            self.query_one(selector).display = custom
        about = FORMATS[name].description if name in FORMATS else "custom (Jinja2)"
        if name in FORMATS and FORMATS[name].needs:
            about += f" — only examples with {FORMATS[name].needs}"
        self.query_one("#format-about", Static).update(about)
        if custom:
            self.query_one("#body", TextArea).text = self.formats.get(name.removeprefix(CUSTOM_PREFIX)).body
        self._set_reasoning_choices()
        self._set_destination()
        self._preview()

    @staticmethod
    def _reasoning_options(name: str) -> list[tuple[str, str]]:
        modes = FORMATS[name].reasoning_modes if name in FORMATS else REASONING_MODES  # custom: all three
        return [(f"{mode} — {REASONING_LABELS[mode]}", mode) for mode in modes]

    def _set_reasoning_choices(self) -> None:
        """The ways this format can write reasoning, its default chosen."""
        name = self.chosen
        select = self.query_one("#reasoning", Select)
        with self.prevent(Select.Changed):
            select.set_options(self._reasoning_options(name))
            select.value = FORMATS[name].reasoning if name in FORMATS else "field"

    @property
    def reasoning(self) -> str | None:
        value = self.query_one("#reasoning", Select).value
        return value if isinstance(value, str) else None

    @on(Select.Changed, "#reasoning")
    def _reasoning_changed(self) -> None:
        self._preview()

    @property
    def _table_file(self) -> bool:
        return self.query_one("#file-type", Select).value in TABLE_TYPES

    @on(Select.Changed, "#file-type")
    def _type_changed(self) -> None:
        self.query_one("#spreadsheet-safe", Checkbox).display = self._table_file
        self._set_destination()

    @on(TextArea.Changed, "#body")
    def _body_changed(self) -> None:
        self._preview()

    # --- preview ----------------------------------------------------------------------------------
    def _format(self) -> ExportFormat:
        name = self.chosen
        if name.startswith(CUSTOM_PREFIX):
            return custom_format(name.removeprefix(CUSTOM_PREFIX), self.query_one("#body", TextArea).text)
        return FORMATS[name]

    def _preview(self) -> None:
        preview = self.query_one("#preview", Static)
        if self.dataset_id is None:
            preview.update("There is no current dataset: make one on the Datasets screen (d).")
            return
        if self._sample is None:
            self._sample = [
                e
                for e in self.workspace.examples.window(self.dataset_id, 0, PREVIEW_EXAMPLES)
                if isinstance(e, Example)
            ]
        try:
            fmt = self._format()
        except ForgeError as exc:
            self.workers.cancel_group(self, "preview")
            self.query_one("#body-error", Static).update(f"✗ {exc}")
            return
        self._render_preview(fmt, self._sample, self.reasoning)

    @work(exclusive=True, group="preview")
    async def _render_preview(self, fmt: ExportFormat, sample: list[Example], reasoning: str | None) -> None:
        """Renders off the UI thread, so a slow custom format cannot freeze the screen; a newer
        preview (or leaving the app) stops this one."""
        stop = threading.Event()
        try:
            records = await asyncio.to_thread(
                preview_records, fmt, sample, self.PREVIEW_SECONDS, stop.is_set, reasoning
            )
        except asyncio.CancelledError:
            stop.set()
            raise
        except ForgeError as exc:
            self.query_one("#body-error", Static).update(f"✗ {exc}")
            return
        self.query_one("#body-error", Static).update("")
        preview = self.query_one("#preview", Static)
        if not sample:
            preview.update("The dataset is empty.")
        elif not records:
            preview.update(
                f"None of the first examples has {fmt.needs}, so this format writes nothing for them."
                if fmt.needs
                else "This format writes nothing for the first examples."
            )
        else:
            preview.update("\n\n".join(json.dumps(r, indent=2, ensure_ascii=False) for r in records))

    # --- custom formats -------------------------------------------------------------------------------
    def action_new_format(self) -> None:
        def named(name: str | None) -> None:
            if name:
                try:
                    created = self.formats.create(name)
                except ForgeError as exc:
                    self.notify(str(exc), severity="error")
                    return
                self._fill_formats(CUSTOM_PREFIX + created.name)

        self.app.push_screen(TextPrompt("Name of the new custom format"), named)

    def action_duplicate_format(self) -> None:
        if not self.chosen.startswith(CUSTOM_PREFIX):
            self.notify("Choose a custom format to duplicate (ctrl+n makes a new one).", severity="warning")
            return
        copy = self.formats.duplicate(self.chosen.removeprefix(CUSTOM_PREFIX))
        self._fill_formats(CUSTOM_PREFIX + copy.name)

    def action_save_format(self) -> None:
        name = self.chosen
        if not name.startswith(CUSTOM_PREFIX):
            self.notify("Built-in formats cannot be changed; ctrl+n makes a custom one.", severity="warning")
            return
        bare = name.removeprefix(CUSTOM_PREFIX)
        try:
            self.formats.save(bare, self.query_one("#body", TextArea).text, self.formats.get(bare).id)
        except ForgeError as exc:
            self.query_one("#body-error", Static).update(f"✗ Not saved: {exc}")
            return
        self.notify(f"Saved {name}.")

    def action_delete_format(self) -> None:
        name = self.chosen
        if not name.startswith(CUSTOM_PREFIX):
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.formats.delete(name.removeprefix(CUSTOM_PREFIX))
                self._fill_formats("openai-chat")

        self.app.push_screen(Confirm(f"Delete the format {name}?", yes="Delete"), answer)

    # --- export ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#run")
    def action_export(self) -> None:
        if self.dataset_id is None:
            self.notify("There is no current dataset.", severity="warning")
            return
        try:
            fmt = self._format()
            split_text = self.query_one("#split", Input).value.strip()
            split = float(split_text) if split_text else None
            seed = int(self.query_one("#seed", Input).value or 0)
        except ValueError:
            self.notify("The train share is a number between 0 and 1, the seed a whole number.", severity="error")
            return
        except ForgeError as exc:
            self.notify(str(exc), title="The format does not compile", severity="error")
            return
        kind = str(self.query_one("#file-type", Select).value)
        safe = self._table_file and self.query_one("#spreadsheet-safe", Checkbox).value
        path = Path(self.query_one("#destination", Input).value).expanduser()
        if self._cancel is not None:
            self.notify("An export is running; escape stops it.", severity="warning")
            return
        self.query_one("#export-result", Static).update("Exporting… (escape stops)")
        self._cancel = threading.Event()
        self.refresh_bindings()
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._run(fmt, path, kind, split, seed, safe, self._cancel, self.reasoning)

    @work(exclusive=True, group="export", thread=True)
    def _run(
        self,
        fmt: ExportFormat,
        path: Path,
        kind: str,
        split: float | None,
        seed: int,
        spreadsheet_safe: bool,
        cancel: threading.Event,
        reasoning: str | None,
    ) -> None:
        assert self.dataset_id is not None
        bar = self.query_one("#progress", ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        try:
            summary = export(
                self.workspace.examples, self.dataset_id, fmt, path, kind, split, seed, progress, cancel,
                spreadsheet_safe=spreadsheet_safe, reasoning=reasoning,
            )  # fmt: skip
        except ForgeError as exc:
            self.app.call_from_thread(self._finished, None, str(exc))
            return
        self.app.call_from_thread(self._finished, summary, None)

    def _finished(self, summary: ExportSummary | None, error: str | None) -> None:
        self._cancel = None
        self.refresh_bindings()
        result = self.query_one("#export-result", Static)
        if summary is None:
            result.update(f"✗ Nothing written: {error}")
            return
        result.update(summary.line())
        self.notify(summary.line(), title="Exported", timeout=8)
        if self.app.is_web:  # in a browser the file is on the server: offer it as a download too
            for path in summary.files:
                self.app.deliver_binary(path, open_method="download")
