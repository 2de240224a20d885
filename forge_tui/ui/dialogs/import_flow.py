"""Importing a file from a screen: ask for the path (and, for plain text, how it splits into
documents), import in a worker thread behind a progress dialog, report; when no record has a known
shape, show the fields found and ask how to map them, then import again.

Every dialog is awaited, so `run` must be called from a worker (`@work`)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual.app import App

from forge_tui.core.bounded_text import listing
from forge_tui.core.errors import ForgeError
from forge_tui.core.import_shapes import Mapping
from forge_tui.core.models import DatasetInfo
from forge_tui.core.plain_text import default_split
from forge_tui.i18n import N_, _
from forge_tui.services.dataset_files import detect_type
from forge_tui.services.examples import ExampleService
from forge_tui.services.importing import ImportCancelled, ImportSummary, import_file
from forge_tui.services.readable_files import problem
from forge_tui.ui.dialogs.common import TextPrompt, WorkProgress
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.field_checks import NoProblem, PassesCheck

SPLIT_CHOICES = {
    "line": N_("One document per line"),
    "paragraph": N_("One document per paragraph (lines up to a blank line)"),
    "file": N_("The whole file is one document"),
}


class ImportFlow:
    def __init__(self, app: App[object], examples: ExampleService, dataset: DatasetInfo) -> None:
        self.app = app
        self.examples = examples
        self.dataset = dataset

    async def run(self) -> ImportSummary | None:
        """The summary of what was imported, or None when the user gave up or nothing was."""
        title = _("Import a file into '{dataset}'").format(dataset=self.dataset.name)
        readable = NoProblem(lambda value: problem(Path(value).expanduser()))
        chosen = await self.app.push_screen_wait(
            TextPrompt(title, placeholder=N_("path/to/data.jsonl"), validators=[readable])
        )
        if not chosen:
            return None
        path = Path(chosen).expanduser()
        try:
            kind = detect_type(path)
        except ForgeError as exc:
            self.app.notify(str(exc), title=_("Nothing imported"), severity="error")
            return None
        split = await self._ask_split(path) if kind == "text" else None
        if kind == "text" and split is None:
            return None
        mapping: Mapping | None = None
        while (summary := await self._import(path, mapping, split)) is not None:
            if summary.imported or not summary.unknown_fields:
                first = "".join(f"\n{e.where}: {e.reason}" for e in summary.errors[:3])
                self.app.notify(
                    summary.line() + first, severity="warning" if summary.skipped else "information", timeout=10
                )
                return summary
            mapping = await self._ask_mapping(path, summary)
            if mapping is None:
                return None
        return None

    async def _ask_split(self, path: Path) -> str | None:
        """Plain text and Markdown: one document per line, paragraph or file, as the user says."""
        first = default_split(path.suffix)
        options = [(first, _(SPLIT_CHOICES[first]))] + [(k, _(v)) for k, v in SPLIT_CHOICES.items() if k != first]
        question = _("{file} is plain text: how does it split into documents?").format(file=path.name)
        return await self.app.push_screen_wait(PickOne(question, options))

    async def _ask_mapping(self, path: Path, summary: ImportSummary) -> Mapping | None:
        prompt = TextPrompt(
            _(
                "{file}: no known shape. Fields found: {fields}. Map them "
                "(fields: system_prompt, user_prompt, output, rejected):"
            ).format(file=path.name, fields=listing(summary.unknown_fields)),
            placeholder=N_("user_prompt=question,output=answer"),
            validators=[PassesCheck(Mapping.parse)],
        )
        text = await self.app.push_screen_wait(prompt)
        return Mapping.parse(text) if text else None

    async def _import(self, path: Path, mapping: Mapping | None, split: str | None) -> ImportSummary | None:
        app = self.app
        cancel = threading.Event()
        title = _("Importing {file} into '{dataset}'").format(file=path.name, dataset=self.dataset.name)
        dialog = WorkProgress(title, cancel)
        await app.push_screen(dialog)

        def progress(read: int, imported: int) -> None:
            def status() -> str:
                # TRANSLATORS: {stops} is " (KEY stops)", or nothing.
                return _("{read} records read, {imported} examples so far{stops}").format(
                    read=f"{read:,}", imported=f"{imported:,}", stops=dialog.stops()
                )

            app.call_from_thread(dialog.update, status)

        dataset = self.dataset
        try:
            return await asyncio.to_thread(
                import_file, self.examples, dataset.id, dataset.name, path, mapping, progress, cancel, split
            )
        except ForgeError as exc:
            if isinstance(exc, ImportCancelled):
                app.notify(str(exc), title=_("Import stopped"), severity="warning")
            else:
                app.notify(str(exc), title=_("Nothing imported"), severity="error")
            return None
        finally:
            await dialog.dismiss()
