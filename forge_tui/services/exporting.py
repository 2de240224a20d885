"""Exporting a dataset: a built-in or custom format, a file type, an optional train/valid split.

Examples stream from SQLite a page at a time through the format into the file, so memory does not
grow with the dataset; each file is written beside its target and renamed at the end, so a failed
export leaves no partial file. Custom formats (Jinja2 bodies) are kept, sealed, in the export_template table.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from forge_tui.core.custom_formats import CUSTOM_PREFIX, STARTER_BODY, checked_format, custom_format
from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.export_formats import FORMATS, ExportFormat
from forge_tui.core.templates import check_template_name
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services import export_workers, files
from forge_tui.services.accounts import Unlocked
from forge_tui.services.dataset_files import FILE_TYPES, Encoded, write_encoded
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import Home
from forge_tui.services.preference_pairs import review_pairs
from forge_tui.store import custom_formats as format_rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import ExportTemplate

Progress = Callable[[int, int], None]  # (examples done, examples in all)
SUFFIX = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "tsv": ".tsv", "parquet": ".parquet"}
TABLE_TYPES = ("csv", "tsv")  # the file types whose cells can be spreadsheet-safe


@dataclass(frozen=True)
class CustomFormatInfo:
    id: int
    name: str
    body: str


# How many examples of a review state an export left out, as the summary line says it.
_REVIEW_COUNTS = {
    "accepted": N_("{count} accepted"),
    "unreviewed": N_("{count} unreviewed"),
    "rejected": N_("{count} rejected"),
}


@dataclass
class ExportSummary:
    format: str
    files: list[Path] = field(default_factory=list)
    records: list[int] = field(default_factory=list)  # per file
    examples: int = 0
    left_out: int = 0  # examples without what the format needs (a rejected answer, a desirability label)
    broken: list[str] = field(default_factory=list)  # rows that cannot be read: each names the row and field
    needs: str = "a rejected answer"  # what the left-out examples lack (ExportFormat.needs)
    reasoning: str = "field"  # how reasoning was written: drop, field or think-tags
    review: ReviewFilter = ReviewFilter.NOT_REJECTED  # the review states written
    # Per review state the filter does not take: how many examples it left out.
    review_left_out: dict[str, int] = field(default_factory=dict)
    below_score: int = 0  # examples left out as unjudged or scored below the export's minimum score

    def line(self) -> str:
        written = _(", ").join(
            _("{count} records to {path}").format(count=n, path=p)
            for p, n in zip(self.files, self.records, strict=True)
        )
        clauses = [_("Wrote {files}").format(files=written)]
        by_review = [
            _(_REVIEW_COUNTS.get(state, "{count} {state}")).format(count=n, state=state)
            for state, n in self.review_left_out.items()
            if n
        ]
        if by_review:
            total = sum(self.review_left_out.values())
            clauses.append(
                ngettext("{states} example left out", "{states} examples left out", total).format(
                    states=_(" and ").join(by_review)
                )
            )
        if self.below_score:
            clauses.append(
                ngettext(
                    "{count} example unjudged or below the minimum score left out",
                    "{count} examples unjudged or below the minimum score left out",
                    self.below_score,
                ).format(count=self.below_score)
            )
        if self.left_out:
            clauses.append(
                ngettext(
                    "{count} example without {needs} left out",
                    "{count} examples without {needs} left out",
                    self.left_out,
                ).format(count=self.left_out, needs=self.needs)
            )
        if self.broken:
            clauses.append(
                ngettext(
                    "{count} damaged example left out ({first})",
                    "{count} damaged examples left out ({first}, and more)",
                    len(self.broken),
                ).format(count=len(self.broken), first=self.broken[0][:160])
            )
        return _("{summary}.").format(summary=_("; ").join(clauses))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "files": [{"path": str(p), "records": n} for p, n in zip(self.files, self.records, strict=True)],
            "examples": self.examples,
            "left_out": self.left_out,
            "broken": self.broken,
            "reasoning": self.reasoning,
            "review": self.review.value,
            "left_out_by_review": dict(self.review_left_out),
            "below_score": self.below_score,
        }


class CustomFormats:
    """The export-template manager: the account's custom formats by name, sealed with its keys."""

    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    def list(self) -> list[CustomFormatInfo]:
        with read_session(self.home.engine) as s:
            found = format_rows.list_for_owner(s, self.unlocked.keys_in(s), self.unlocked.user.id)
            return [self._info(row, name, body) for row, name, body in found]

    def get(self, name: str) -> CustomFormatInfo:
        with read_session(self.home.engine) as s:
            row = self._find(s, name)
            return self._info(row, *format_rows.open_row(self.unlocked.keys_in(s), row))

    def save(self, name: str, body: str, format_id: int | None = None) -> CustomFormatInfo:
        """Creates or replaces; the body must compile (TemplateError says where it does not)."""
        name = check_template_name(name)
        checked_format(name, body)
        owner = self.unlocked.user.id
        with write_session(self.home.engine) as s:
            # Sealed with the account's key as stored now (Conflict when this session lacks it).
            keys = self.unlocked.keys_in(s)
            taken = format_rows.get_by_name(s, keys, owner, name)
            if taken is not None and taken.id != format_id:
                raise Conflict(_("There is already a custom format named '{name}'.").format(name=name))
            row = format_rows.get_owned(s, keys, owner, format_id) if format_id is not None else None
            return self._info(format_rows.save(s, keys, owner, name, body, row), name, body)

    def create(self, name: str) -> CustomFormatInfo:
        return self.save(name, STARTER_BODY)

    def duplicate(self, name: str) -> CustomFormatInfo:
        original = self.get(name)
        existing = {f.name for f in self.list()}
        copy = f"{original.name} copy"
        number = 2
        while copy in existing:
            copy, number = f"{original.name} copy {number}", number + 1
        return self.save(copy, original.body)

    def delete(self, name: str) -> None:
        with write_session(self.home.engine) as s:
            s.delete(self._find(s, name))

    def resolve(self, name: str) -> ExportFormat:
        """A built-in format by name, or a custom one as `custom:NAME` (or its bare name)."""
        if name in FORMATS:
            return FORMATS[name]
        bare = name.removeprefix(CUSTOM_PREFIX)
        try:
            found = self.get(bare)
        except NotFound:
            raise InvalidInput(
                _("Unknown format '{name}'. Built in: {built_in}; custom: {custom}.").format(
                    name=name,
                    built_in=", ".join(FORMATS),
                    custom=", ".join(CUSTOM_PREFIX + f.name for f in self.list()) or _("none yet"),
                )
            ) from None
        return custom_format(found.name, found.body)

    def _find(self, session: Session, name: str) -> ExportTemplate:
        row = format_rows.get_by_name(session, self.unlocked.keys_in(session), self.unlocked.user.id, name)
        if row is None:
            raise NotFound(_("No custom format named '{name}'.").format(name=name))
        return row

    @staticmethod
    def _info(row: ExportTemplate, name: str, body: str) -> CustomFormatInfo:
        assert row.id is not None
        return CustomFormatInfo(id=row.id, name=name, body=body)


def split_paths(path: Path) -> tuple[Path, Path]:
    """train and valid files beside `path`: data.jsonl -> data.train.jsonl, data.valid.jsonl."""
    return path.with_name(f"{path.stem}.train{path.suffix}"), path.with_name(f"{path.stem}.valid{path.suffix}")


def export(
    examples: ExampleService,
    dataset_id: int,
    fmt: ExportFormat,
    path: Path,
    file_type: str | None = None,
    split: float | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    parallel_from: int | None = None,  # examples from which worker processes render (PARALLEL_FROM)
    *,
    spreadsheet_safe: bool = False,
    reasoning: str | None = None,
    review: ReviewFilter = ReviewFilter.NOT_REJECTED,
    min_score: float | None = None,
) -> ExportSummary:
    """Writes the dataset in `fmt`; raises ExportCancelled (and writes nothing) once `cancel` is set.
    `spreadsheet_safe` quotes CSV/TSV cells a spreadsheet would run as formulas (core.table_cells);
    `reasoning` is drop, field or think-tags (None: the format's default; core.export_formats);
    `review` the review states written (by default all but the rejected examples); `min_score` only
    examples a judge scored at or above it. A preference format pairs each accepted example with its
    rejected siblings on the same prompt (core.preference_pairs), besides its own rejected answers."""
    path = path.expanduser()
    kind = file_type or path.suffix.lstrip(".").lower()
    if kind not in FILE_TYPES:
        raise InvalidInput(
            _("Choose a file type ({names}); '{name}' does not say which.").format(
                names=", ".join(FILE_TYPES), name=path.name
            )
        )
    if spreadsheet_safe and kind not in TABLE_TYPES:
        raise InvalidInput(_("Spreadsheet-safe cells are for CSV and TSV files, not {kind}.").format(kind=kind))
    if split is not None and not 0 < split < 1:
        raise InvalidInput(_("The split is the train share, between 0 and 1 (e.g. 0.9)."))
    mode = fmt.reasoning_mode(reasoning)
    counts = examples.review_counts(dataset_id)
    left_out = {state.value: n for state, n in counts.items() if not review.admits(state)}
    summary = ExportSummary(format=fmt.name, needs=fmt.needs, reasoning=mode, review=review, review_left_out=left_out)
    # Creation order; only ids, no content.
    order = examples.ids(dataset_id, ExampleFilter(review=review, min_score=min_score))
    if min_score is not None:
        summary.below_score = sum(n for state, n in counts.items() if review.admits(state)) - len(order)
    paired = review_pairs(examples, dataset_id, set(order)) if fmt.preference else {}
    total = len(order)
    targets: list[tuple[Path, list[str]]]
    if split is None:
        targets = [(path, order)]
    else:
        shuffled = list(order)
        random.Random(seed).shuffle(shuffled)
        train_ids = set(shuffled[: round(total * split)])
        train, valid = split_paths(path)
        targets = [(train, [i for i in order if i in train_ids]), (valid, [i for i in order if i not in train_ids])]
    # Ids with rows left out between them are read one by one: a range would read those rows too.
    contiguous = split is None and not any(left_out.values()) and not summary.below_score
    job = export_workers.make_job(
        examples.home.db_path, examples.cipher(dataset_id), dataset_id, fmt, kind == "parquet", contiguous, mode
    )
    done = 0

    def encoded(chunks: list[list[str]]) -> Iterator[Encoded]:
        nonlocal done
        for rendered in export_workers.render_chunks(
            job, fmt, chunks, cancel, parallel_from or export_workers.PARALLEL_FROM, paired
        ):
            if files.stopping():  # the process is ending on a signal; its temporary files are gone
                raise export_workers.ExportCancelled(_("The export was stopped."))
            summary.examples += rendered.examples
            summary.left_out += rendered.left_out
            summary.broken.extend(rendered.broken)
            done += rendered.examples + len(rendered.broken)
            if progress is not None:
                progress(done, total)
            yield rendered.encoded

    if progress is not None:
        progress(0, total)
    for target, ids in targets:
        size = export_workers.CHUNK
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        count = write_encoded(encoded(chunks), target, kind, spreadsheet_safe, round_trip=fmt.name == "raw")
        summary.files.append(target)
        summary.records.append(count)
    return summary
