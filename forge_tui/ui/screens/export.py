"""Export (`x`): format, file type, split and destination, a preview of the first examples in the
chosen format, progress, and the custom-format manager (a Jinja2 body with a live preview)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, TextArea

from forge_tui.core.bundle_trainers import TRAINERS
from forge_tui.core.custom_formats import CUSTOM_PREFIX, custom_format
from forge_tui.core.errors import ForgeError
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.export_formats import FORMATS, ExportFormat
from forge_tui.core.models import DatasetInfo, Example
from forge_tui.i18n import N_, _
from forge_tui.services import export_workers
from forge_tui.services.bundles import BundleSummary, FolderNotEmpty, write_bundle
from forge_tui.services.exporting import CustomFormats, ExportSummary, export
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset, no_dataset
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.help_texts import export_help
from forge_tui.ui.messages import DatasetSwitched, TrainBundle
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.export_options import DEFAULT_FORMAT, ExportOptions, Split
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.format_preview import FormatPreview
from forge_tui.ui.widgets.header import ForgeHeader

PREVIEW_EXAMPLES = 3


class ExportScreen(WorkspaceScreen):
    TITLE = N_("Export")
    BINDINGS = [
        # Priority: the fields' own ctrl+e (end of line) would otherwise take it while one has focus,
        # and typing the destination then pressing ctrl+e is the natural order.
        Binding("ctrl+e", "export", N_("Export"), id="export.run", priority=True),
        Binding("ctrl+n", "new_format", N_("New format"), id="export.new_format"),
        Binding("ctrl+d", "duplicate_format", N_("Duplicate"), id="export.duplicate_format"),
        Binding("ctrl+s", "save_format", N_("Save format"), id="export.save_format"),
        Binding("ctrl+x", "delete_format", N_("Delete format"), id="export.delete_format"),
        Binding("ctrl+t", "bundle", N_("Trainer bundle"), id="export.bundle", priority=True),
        Binding("escape", "stop", N_("Stop export"), id="export.stop"),
    ]

    def help_text(self) -> str:
        return export_help(self.key)

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.formats = CustomFormats(workspace.home, workspace.unlocked)
        # The first examples of the current dataset that the review choice takes, read once per choice.
        self._sample: list[Example] | None = None
        self._cancel: threading.Event | None = None

    @property
    def dataset(self) -> DatasetInfo | None:
        return current_dataset(self)

    @property
    def options(self) -> ExportOptions:
        return self.query_one(ExportOptions)

    @property
    def preview(self) -> FormatPreview:
        return self.query_one(FormatPreview)

    @property
    def chosen(self) -> str:
        return self.options.chosen

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        run = self.key("export")
        with Horizontal(id="export-body"):
            yield ExportOptions(_("Export ({key})").format(key=run) if run else _("Export"), id="export-form")
            yield FormatPreview(self.key("save_format"), id="export-main")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self._fill_formats(DEFAULT_FORMAT)
        dataset = self.dataset
        self.options.set_dataset(dataset.name if dataset else "")
        self.query_one("#format").focus()
        self._warm()

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        """The new dataset in place: its destination and its first examples."""
        self._sample = None
        self.options.set_dataset(message.dataset.name if message.dataset else "")
        self._preview()

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
            self.options.show_result(_("Stopping…"))

    # --- choices and the preview ------------------------------------------------------------------
    def _fill_formats(self, chosen: str) -> None:
        self.options.fill_formats([c.name for c in self.formats.list()], chosen)

    @on(ExportOptions.FormatChosen)
    def _format_chosen(self, event: ExportOptions.FormatChosen) -> None:
        custom = event.name.removeprefix(CUSTOM_PREFIX) if event.name.startswith(CUSTOM_PREFIX) else None
        self.preview.show_body(self.formats.get(custom).body if custom is not None else None)
        self._preview()

    @on(ExportOptions.ReviewChosen)
    def _review_chosen(self) -> None:
        self._sample = None
        self._preview()

    @on(ExportOptions.ReasoningChosen)
    @on(TextArea.Changed, "#body")
    def _choice_changed(self) -> None:
        self._preview()

    def _format(self) -> ExportFormat:
        name = self.chosen
        if name.startswith(CUSTOM_PREFIX):
            return custom_format(name.removeprefix(CUSTOM_PREFIX), self.preview.body)
        return FORMATS[name]

    def _preview(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.preview.say(no_dataset(self.key("show_datasets")))
            return
        if self._sample is None:
            wanted = ExampleFilter(review=self.options.review)
            window = self.workspace.examples.window(dataset.id, 0, PREVIEW_EXAMPLES, wanted=wanted)
            self._sample = [e for e in window if isinstance(e, Example)]
        try:
            fmt = self._format()
        except ForgeError as exc:
            self.preview.cannot_render(exc)
            return
        self.preview.render_sample(fmt, self._sample, self.options.reasoning)

    # --- custom formats -------------------------------------------------------------------------------
    @work(group="dialog")
    async def action_new_format(self) -> None:
        name = await self.app.push_screen_wait(TextPrompt(_("Name of the new custom format")))
        created = self.report(N_("Cannot create the format"), lambda: self.formats.create(name)) if name else None
        if created is not None:
            self._fill_formats(CUSTOM_PREFIX + created.name)

    def _custom_chosen(self, hint: str) -> str | None:
        """The chosen custom format's name (without the prefix), or None after saying `hint`."""
        name = self.chosen
        if name.startswith(CUSTOM_PREFIX):
            return name.removeprefix(CUSTOM_PREFIX)
        if hint:
            self.notify(hint, severity="warning")
        return None

    def action_duplicate_format(self) -> None:
        new = self.key("new_format")
        bare = self._custom_chosen(
            _("Choose a custom format to duplicate ({key} makes a new one).").format(key=new)
            if new
            else _("Choose a custom format to duplicate.")
        )
        copy = self.report(N_("Cannot duplicate the format"), lambda: self.formats.duplicate(bare)) if bare else None
        if copy is not None:
            self._fill_formats(CUSTOM_PREFIX + copy.name)

    def action_save_format(self) -> None:
        new = self.key("new_format")
        bare = self._custom_chosen(
            _("Built-in formats cannot be changed; {key} makes a custom one.").format(key=new)
            if new
            else _("Built-in formats cannot be changed.")
        )
        if bare is None:
            return
        try:
            self.formats.save(bare, self.preview.body, self.formats.get(bare).id)
        except ForgeError as exc:
            self.preview.error(_("✗ Not saved: {problem}").format(problem=exc))
            return
        self.notify(_("Saved {format}.").format(format=CUSTOM_PREFIX + bare))

    @work(group="dialog")
    async def action_delete_format(self) -> None:
        bare = self._custom_chosen("")
        if bare is None:
            return
        if await self.app.push_screen_wait(
            Confirm(_("Delete the format {format}?").format(format=CUSTOM_PREFIX + bare), yes=_("Delete"))
        ):
            self.report(N_("Cannot delete the format"), lambda: self.formats.delete(bare))
            self._fill_formats(DEFAULT_FORMAT)

    # --- export ---------------------------------------------------------------------------------------
    @on(Button.Pressed, "#run")
    def action_export(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify(_("There is no current dataset."), severity="warning")
            return
        try:
            fmt = self._format()
            split = self.options.split()
        except ValueError:
            self.notify(_("The train share is a number between 0 and 1, the seed a whole number."), severity="error")
            return
        except ForgeError as exc:
            self.notify(str(exc), title=_("The format does not compile"), severity="error")
            return
        try:
            min_score = self.options.min_score()
        except ValueError as exc:
            self.notify(_("Minimum judge score: {problem}").format(problem=exc), severity="error")
            return
        if self._cancel is not None:
            stop = self.key("stop")
            running = (
                _("An export is running; {key} stops it.").format(key=stop) if stop else _("An export is running.")
            )
            self.notify(running, severity="warning")
            return
        self._cancel = threading.Event()
        self.refresh_bindings()
        self.options.started(self.key("stop"))
        options = self.options
        self._run(dataset.id, fmt, options.destination, options.kind, split, options.spreadsheet_safe,
                  self._cancel, options.reasoning, options.review, min_score)  # fmt: skip

    @work(exclusive=True, group="export", thread=True)
    def _run(
        self, dataset_id: int, fmt: ExportFormat, path: Path, kind: str, split: Split, spreadsheet_safe: bool,
        cancel: threading.Event, reasoning: str | None, review: ReviewFilter, min_score: float | None,
    ) -> None:  # fmt: skip
        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self.options.progress, done, total)

        try:
            summary = export(
                self.workspace.examples, dataset_id, fmt, path, kind, split.share, split.seed, progress, cancel,
                spreadsheet_safe=spreadsheet_safe, reasoning=reasoning, review=review, min_score=min_score,
            )  # fmt: skip
        except ForgeError as exc:
            self.app.call_from_thread(self._finished, None, str(exc))
            return
        self.app.call_from_thread(self._finished, summary, None)

    def _finished(self, summary: ExportSummary | None, error: str | None) -> None:
        self._cancel = None
        self.refresh_bindings()
        if summary is None:
            self.options.show_result(_("✗ Nothing written: {problem}").format(problem=error))
            return
        self.options.show_result(summary.line())
        self.notify(summary.line(), title=_("Exported"), timeout=8)
        if self.app.is_web:  # in a browser the file is on the server: offer it as a download too
            for path in summary.files:
                self.app.deliver_binary(path, open_method="download")

    # --- trainer bundles ------------------------------------------------------------------------------
    @work(group="dialog")
    async def action_bundle(self) -> None:
        """A folder a trainer runs as it is (services.bundles): the trainer, then the folder."""
        dataset = self.dataset
        if dataset is None:
            self.notify(_("There is no current dataset."), severity="warning")
            return
        options = [(t.name, _("{trainer}: {stages}").format(trainer=t.title, stages=", ".join(t.stages)))
                   for t in TRAINERS.values()]  # fmt: skip
        trainer = await self.app.push_screen_wait(PickOne(_("Bundle for trainer"), options))
        if trainer is None:
            return
        suggested = self.options.destination.parent / f"{dataset.name}-{trainer}"
        folder = await self.app.push_screen_wait(TextPrompt(_("Folder to write the bundle to"), str(suggested)))
        if not folder:
            return
        target = Path(folder.strip()).expanduser()
        self.options.show_result(_("Writing the bundle…"))
        summary = await self._write_bundle(dataset, trainer, target, overwrite=False)
        if isinstance(summary, FolderNotEmpty):
            question = _("The folder {path} is not empty. Replace it?").format(path=target)
            if not await self.app.push_screen_wait(Confirm(question, yes=N_("Replace"))):
                self.options.show_result(_("Nothing written."))
                return
            summary = await self._write_bundle(dataset, trainer, target, overwrite=True)
        if isinstance(summary, BundleSummary):
            self.options.show_result(summary.line())
            self.notify(summary.line(), title=_("Bundle written"), timeout=8)
            question = _("Start training on this machine now? The trainer runs from {path}; Jobs shows it.")
            if await self.app.push_screen_wait(
                Confirm(question.format(path=target), yes=N_("Train now"), no=N_("Later"))
            ):
                self.post_message(TrainBundle(target))
        else:
            self.options.show_result(_("✗ Nothing written: {problem}").format(problem=summary))

    async def _write_bundle(
        self, dataset: DatasetInfo, trainer: str, target: Path, overwrite: bool
    ) -> BundleSummary | ForgeError:
        try:
            return await asyncio.to_thread(
                write_bundle, self.workspace.examples, dataset, trainer, target, overwrite=overwrite
            )
        except ForgeError as exc:
            return exc
