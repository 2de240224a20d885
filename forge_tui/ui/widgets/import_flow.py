"""Importing a file from a screen: ask for the path (and, for plain text, how it splits into
documents), import in a worker thread, report; when no record has a known shape, show the fields
found and ask how to map them, then import again."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.screen import Screen

from forge_tui.core.bounded_text import listing
from forge_tui.core.errors import ForgeError
from forge_tui.core.import_shapes import Mapping
from forge_tui.core.plain_text import default_split
from forge_tui.services.dataset_files import detect_type
from forge_tui.services.examples import ExampleService
from forge_tui.services.importing import ImportCancelled, ImportSummary, import_file
from forge_tui.services.readable_files import problem
from forge_tui.ui.dialogs.common import TextPrompt, WorkProgress
from forge_tui.ui.dialogs.pick import PickOne

SPLIT_CHOICES = {
    "line": "One document per line",
    "paragraph": "One document per paragraph (lines up to a blank line)",
    "file": "The whole file is one document",
}


def _mapping_problem(text: str) -> str | None:
    try:
        Mapping.parse(text)
    except ForgeError as exc:
        return str(exc)
    return None


class ImportFlow:
    def __init__(
        self, screen: Screen[Any], examples: ExampleService, dataset_id: int, dataset_name: str,
        done: Callable[[ImportSummary], None],
    ) -> None:  # fmt: skip
        self.screen = screen
        self.examples = examples
        self.dataset_id = dataset_id
        self.dataset_name = dataset_name
        self.done = done

    def start(self) -> None:
        def why_not(value: str) -> str | None:
            return problem(Path(value).expanduser())

        def chosen(path: str | None) -> None:
            if path:
                self._ask_split(Path(path).expanduser())

        title = f"Import a file into '{self.dataset_name}'"
        prompt = TextPrompt(title, placeholder="path/to/data.jsonl", check=why_not)
        self.screen.app.push_screen(prompt, chosen)

    def _ask_split(self, path: Path) -> None:
        """Plain text and Markdown: one document per line, paragraph or file, as the user says."""
        app = self.screen.app
        try:
            kind = detect_type(path)
        except ForgeError as exc:
            app.notify(str(exc), title="Nothing imported", severity="error")
            return
        if kind != "text":
            self._run(path, None)
            return

        def split(choice: str | None) -> None:
            if choice:
                self._run(path, None, choice)

        first = default_split(path.suffix)
        options = [(first, SPLIT_CHOICES[first])] + [(k, v) for k, v in SPLIT_CHOICES.items() if k != first]
        app.push_screen(PickOne(f"{path.name} is plain text: how does it split into documents?", options), split)

    def _run(self, path: Path, mapping: Mapping | None, split_text: str | None = None) -> None:
        app = self.screen.app
        cancel = threading.Event()
        dialog = WorkProgress(f"Importing {path.name} into '{self.dataset_name}'", cancel)
        app.push_screen(dialog)

        def progress(read: int, imported: int) -> None:
            status = f"{read:,} records read, {imported:,} examples so far (escape stops)"
            app.call_from_thread(dialog.update, status)

        def work() -> None:
            try:
                summary = import_file(
                    self.examples, self.dataset_id, self.dataset_name, path, mapping, progress, cancel, split_text
                )
            except ForgeError as exc:
                app.call_from_thread(dialog.dismiss)
                title = "Import stopped" if isinstance(exc, ImportCancelled) else "Nothing imported"
                severity = "warning" if isinstance(exc, ImportCancelled) else "error"
                app.call_from_thread(app.notify, str(exc), title=title, severity=severity)
                return
            app.call_from_thread(dialog.dismiss)
            app.call_from_thread(self._finished, path, summary)

        self.screen.run_worker(work, thread=True, group="import", exclusive=True)

    def _finished(self, path: Path, summary: ImportSummary) -> None:
        app = self.screen.app
        if not summary.imported and summary.unknown_fields:
            fields = listing(summary.unknown_fields)

            def mapped(text: str | None) -> None:
                if text:
                    self._run(path, Mapping.parse(text))

            app.push_screen(
                TextPrompt(
                    f"{path.name}: no known shape. Fields found: {fields}. Map them "
                    "(fields: system_prompt, user_prompt, output, rejected):",
                    placeholder="user_prompt=question,output=answer",
                    check=_mapping_problem,
                ),
                mapped,
            )
            return
        first = "".join(f"\n{e.where}: {e.reason}" for e in summary.errors[:3])
        app.notify(summary.line() + first, severity="warning" if summary.skipped else "information", timeout=10)
        self.done(summary)
