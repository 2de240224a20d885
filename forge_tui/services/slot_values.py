"""A slot's values for a generation job, read from a file or from a field of a dataset, turned into
a `values` source before the job is planned (so the plan stays pure).

A file is one value a line (plain text), or a column of a CSV, TSV or Parquet file, or a field of
JSONL or JSON records. A line or record that gives no value is named in `problems` and the rest are
kept; values that repeat are kept once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forge_tui.core.bounded_text import clip, listing
from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import SlotSource
from forge_tui.core.models import Example
from forge_tui.i18n import _, ngettext
from forge_tui.services.dataset_files import Located, RecordError, SkippedColumn, detect_type, read_records
from forge_tui.services.examples import BrokenExample, ExampleService

DATASET_FIELDS = ("user_prompt", "output", "system_prompt")
MAX_PROBLEMS = 100  # problems kept to show; `problem_count` has them all
_TEXT_SUFFIXES = (".txt", ".text")


@dataclass
class SlotValues:
    origin: str  # "file topics.txt", "dataset Physics, field output"
    values: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line 4: no 'topic' field"
    problem_count: int = 0
    repeated: int = 0  # values left out because they came before

    def source(self) -> SlotSource:
        return SlotSource.of_values(self.values, self.origin)

    def _add(self, value: str, seen: set[str]) -> None:
        if value in seen:
            self.repeated += 1
            return
        seen.add(value)
        self.values.append(value)

    def _problem(self, text: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)

    def _finish(self, empty: str) -> SlotValues:
        if not self.values:
            if self.problems:
                raise InvalidInput(_("{empty} ({problem}).").format(empty=empty, problem=self.problems[0]))
            raise InvalidInput(_("{empty}.").format(empty=empty))
        return self


def values_from_file(path: Path, column: str | None = None) -> SlotValues:
    """One value a line of a text file, or the `column` (field) of a table or of JSON records."""
    kind = "text" if path.suffix.lower() in _TEXT_SUFFIXES and column is None else detect_type(path)
    found = SlotValues(origin=f"file {clip(path.name)}" + (f", {clip(column)}" if column else ""))
    seen: set[str] = set()
    key = column if column is not None else ("text" if kind == "text" else None)
    for read in read_records(path, kind, "line"):
        if isinstance(read, SkippedColumn):
            if read.name == column:
                raise InvalidInput(
                    _("Column '{column}' of {file} holds {kind}, not text.").format(
                        column=clip(column), file=path.name, kind=read.kind
                    )
                )
            continue
        if isinstance(read, RecordError):
            found._problem(f"{read.where}: {read.reason}")
            continue
        value, problem = _value(read, key, path)
        if problem is not None:
            found._problem(f"{read.where}: {problem}")
        elif value is not None:
            found._add(value, seen)
    if column:
        return found._finish(_("{file}, column '{column}' gives no values").format(file=path.name, column=clip(column)))
    return found._finish(_("{file} gives no values").format(file=path.name))


def _value(read: Located, key: str | None, path: Path) -> tuple[str | None, str | None]:
    record: Any = read.record
    if key is None:
        if isinstance(record, dict):
            raise InvalidInput(
                _("Name the column or field of {file} to take values from: {names}.").format(
                    file=path.name, names=listing(list(record))
                )
            )
        return _text(record)
    if not isinstance(record, dict):
        return None, _("not a record with a '{key}' field").format(key=clip(key))
    if key not in record:
        return None, _("no '{key}' field").format(key=clip(key))
    return _text(record[key], key)


def _text(value: Any, key: str | None = None) -> tuple[str | None, str | None]:
    """(value, None) for a value that can be a slot value, (None, why) for one that cannot."""
    name = f"'{clip(key)}'" if key else _("the value")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, _("{name} is empty").format(name=name)
    if isinstance(value, dict):
        return None, _("{name} is an object, not text").format(name=name)
    if isinstance(value, list):
        return None, _("{name} is a list, not text").format(name=name)
    return (value.strip() if isinstance(value, str) else json.dumps(value)), None


def values_from_dataset(examples: ExampleService, dataset_id: int, name: str, field_name: str) -> SlotValues:
    """`field_name` of every example in a dataset: user_prompt, output, system_prompt, or a slot
    (`topic` or `slots.topic`). Examples without it are counted in one problem."""
    slot = field_name.removeprefix("slots.")
    found = SlotValues(origin=f"dataset {clip(name)}, {clip(field_name)}")
    seen: set[str] = set()
    missing = 0
    for example in examples.scan(dataset_id):
        if isinstance(example, BrokenExample):
            found._problem(_("example {example_id}: {reason}").format(example_id=example.id, reason=example.reason))
            continue
        value = _example_field(example, field_name, slot)
        if value is None or not value.strip():
            missing += 1
            continue
        found._add(value.strip(), seen)
    if missing:
        found._problem(
            ngettext("{count} example with no {field}", "{count} examples with no {field}", missing).format(
                count=missing, field=_field_label(field_name, slot)
            )
        )
    return found._finish(
        _("Dataset {name} gives no values from its {field}").format(
            name=clip(name), field=_field_label(field_name, slot)
        )
    )


def _example_field(example: Example, field_name: str, slot: str) -> str | None:
    if field_name in DATASET_FIELDS:
        text: str = getattr(example.content, field_name)
        return text
    return example.content.slots.get(slot)


def _field_label(field_name: str, slot: str) -> str:
    return field_name if field_name in DATASET_FIELDS else _("slot '{slot}'").format(slot=clip(slot))


def sources_summary(found: Iterable[SlotValues]) -> list[str]:
    """A line per source for the plan's preview: where the values came from and what was left out."""
    lines = []
    for values in found:
        count = len(values.values)
        line = ngettext("{origin}: {count} value", "{origin}: {count} values", count).format(
            origin=values.origin, count=count
        )
        if values.repeated:
            line += _(", {count} repeated left out").format(count=values.repeated)
        if values.problem_count:
            line += _(", {count} without a value (first: {problem})").format(
                count=values.problem_count, problem=values.problems[0]
            )
        lines.append(line)
    return lines
