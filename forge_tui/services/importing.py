"""Importing a dataset file into a dataset: every record that maps to examples goes in, all at once;
what does not is reported with where it was and why. Fields no shape maps are kept aside in the
examples (core.kept_aside) and counted in the summary.

The rows are written in batches, a short transaction each, and stay hidden until the last one
shows them all (store.staged_inserts): other processes keep writing while a long import runs."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_tui.core.bounded_text import listing
from forge_tui.core.errors import ForgeError, InvalidInput, NotFound
from forge_tui.core.import_shapes import Mapping, ShapeError, UnknownShape, parse
from forge_tui.core.kept_aside import summary_name
from forge_tui.core.models import DatasetInfo, ExampleSource
from forge_tui.core.plain_text import SPLITS
from forge_tui.i18n import _, ngettext
from forge_tui.services.dataset_files import Located, RecordError, SkippedColumn, detect_type, read_records
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import ExampleService
from forge_tui.services.readable_files import check
from forge_tui.store import examples as rows
from forge_tui.store.staged_inserts import StagedInsert

_INSERT_BATCH = 1000
MAX_REPORTED_ERRORS = 1000

Progress = Callable[[int, int], None]  # (records read, examples imported)


class ImportCancelled(ForgeError):
    """The import was stopped; what it had written was discarded."""


@dataclass
class ImportSummary:
    dataset: str
    file: str
    imported: int = 0
    skipped: int = 0
    errors: list[RecordError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    shapes: Counter[str] = field(default_factory=Counter)
    unknown_fields: list[str] = field(default_factory=list)  # of the first record of no known shape
    skipped_columns: list[str] = field(default_factory=list)  # "name (type)": a Parquet type with no JSON form
    kept_aside: Counter[str] = field(default_factory=Counter)  # field name -> examples that had it, in extra
    created: bool = False  # the dataset was made for this import
    desirable: int = 0  # examples labelled for KTO (a label or kto_tag of true or false)
    undesirable: int = 0

    def line(self) -> str:
        shapes = ", ".join(f"{n} {s}" for s, n in self.shapes.most_common())
        if self.created:
            text = ngettext(
                "Created dataset '{dataset}' and imported {count} example into it",
                "Created dataset '{dataset}' and imported {count} examples into it",
                self.imported,
            )
        else:
            text = ngettext(
                "Imported {count} example into '{dataset}'", "Imported {count} examples into '{dataset}'", self.imported
            )
        text = text.format(dataset=self.dataset, count=self.imported)
        if shapes:
            text = _("{summary} ({shapes})").format(summary=text, shapes=shapes)
        clauses = [text]
        if self.skipped:
            reasons = Counter(e.reason.split(" (", 1)[0] for e in self.errors).most_common(3)
            why = "; ".join(f"{n}× {r}" for r, n in reasons)
            clauses.append(_("skipped {count}: {reasons}").format(count=self.skipped, reasons=why))
        if self.skipped_columns:
            clauses.append(
                ngettext("skipped column {names}", "skipped columns {names}", len(self.skipped_columns)).format(
                    names=listing(self.skipped_columns)
                )
            )
        if self.desirable or self.undesirable:
            clauses.append(
                _("KTO labels: {desirable} desirable, {undesirable} undesirable").format(
                    desirable=self.desirable, undesirable=self.undesirable
                )
            )
        if self.kept_aside:
            kept = listing([f"{n} ({c})" for n, c in self.kept_aside.most_common()], each=80)
            clauses.append(_("kept aside: {fields}").format(fields=kept))
        return _("{summary}.").format(summary=_("; ").join(clauses))

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "file": self.file,
            "imported": self.imported,
            "skipped": self.skipped,
            "shapes": dict(self.shapes),
            "skipped_columns": self.skipped_columns,
            "kept_aside": dict(self.kept_aside.most_common()),
            "created": self.created,
            "desirability": {"desirable": self.desirable, "undesirable": self.undesirable},
            "errors": [{**(e.place or {"where": e.where}), "reason": e.reason} for e in self.errors],
        }


def import_file(
    examples: ExampleService,
    dataset_id: int,
    dataset_name: str,
    path: Path,
    mapping: Mapping | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    split_text: str | None = None,
) -> ImportSummary:
    """Reads the whole file and adds what it can, shown all at once at the end: a crash, an error or
    a cancel (ImportCancelled, once `cancel` is set) midway leaves the dataset as it was. `progress`
    is called after each batch is written, outside any transaction. `split_text` is how a plain
    text file is cut into documents (core.plain_text.SPLITS)."""
    path = path.expanduser()
    check(path)
    summary = ImportSummary(dataset=dataset_name, file=str(path))
    cipher = examples.cipher(dataset_id)
    batch: list[dict[str, Any]] = []
    read = 0

    def skip(error: RecordError) -> None:
        summary.skipped += 1
        if len(summary.errors) < MAX_REPORTED_ERRORS:
            summary.errors.append(error)

    with StagedInsert(examples.home.engine, dataset_id) as staged:
        for located in read_records(path, split_text=split_text):
            if isinstance(located, SkippedColumn):
                summary.skipped_columns.append(f"{located.name} ({located.kind})")
                continue
            read += 1
            if isinstance(located, RecordError):
                skip(located)
                continue
            assert isinstance(located, Located)
            try:
                parsed = parse(located.record, mapping)
            except ShapeError as exc:
                if isinstance(exc, UnknownShape) and not summary.unknown_fields:
                    summary.unknown_fields = exc.fields
                skip(RecordError(located.where, str(exc), located.place))
                continue
            imported = parsed.shape != "raw"  # a raw record says where its example came from
            for content, meta in parsed.items:
                if imported:
                    meta.source = ExampleSource.IMPORT
                batch.append(rows.sealed_values(cipher, dataset_id, content, meta))
                summary.kept_aside.update(dict.fromkeys((summary_name(path) for path in content.extra), 1))
                summary.desirable += meta.desirability is True
                summary.undesirable += meta.desirability is False
            summary.shapes[parsed.shape] += len(parsed.items)
            summary.imported += len(parsed.items)
            if len(batch) >= _INSERT_BATCH:
                if cancel is not None and cancel.is_set():
                    raise ImportCancelled(_("The import was stopped; nothing was added."))
                staged.add(batch)
                batch = []
                if progress is not None:
                    progress(read, summary.imported)
        if cancel is not None and cancel.is_set():
            raise ImportCancelled(_("The import was stopped; nothing was added."))
        staged.publish(batch)
    if progress is not None:
        progress(read, summary.imported)
    return summary


def import_into(
    datasets: DatasetService,
    examples: ExampleService,
    dataset: str | None,
    path: Path,
    mapping: Mapping | None = None,
    split_text: str | None = None,
) -> ImportSummary:
    """`import_file` into the dataset named, made first when there is none of that name (the
    summary says so), or into the current one. A file that cannot be read makes no dataset."""
    path = path.expanduser()
    check(path)
    detect_type(path)
    if split_text is not None and split_text not in SPLITS:
        raise InvalidInput(
            _("Unknown text split '{split}': use one of {names}.").format(split=split_text, names=", ".join(SPLITS))
        )
    target, created = _target(datasets, dataset)
    summary = import_file(examples, target.id, target.name, path, mapping, split_text=split_text)
    summary.created = created
    return summary


def _target(datasets: DatasetService, name: str | None) -> tuple[DatasetInfo, bool]:
    if name is None:
        current = datasets.current()
        if current is None:
            raise InvalidInput(_("There is no current dataset: name one with --dataset."))
        return current, False
    try:
        return datasets.get(name), False
    except NotFound:
        return datasets.create(name), True
