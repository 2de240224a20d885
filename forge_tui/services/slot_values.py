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
            first = f" ({self.problems[0]})" if self.problems else ""
            raise InvalidInput(f"{empty}{first}.")
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
                raise InvalidInput(f"Column '{clip(column)}' of {path.name} holds {read.kind}, not text.")
            continue
        if isinstance(read, RecordError):
            found._problem(f"{read.where}: {read.reason}")
            continue
        value, problem = _value(read, key, path)
        if problem is not None:
            found._problem(f"{read.where}: {problem}")
        elif value is not None:
            found._add(value, seen)
    where = f", column '{clip(column)}'" if column else ""
    return found._finish(f"{path.name}{where} gives no values")


def _value(read: Located, key: str | None, path: Path) -> tuple[str | None, str | None]:
    record: Any = read.record
    if key is None:
        if isinstance(record, dict):
            raise InvalidInput(f"Name the column or field of {path.name} to take values from: {listing(list(record))}.")
        return _text(record)
    if not isinstance(record, dict):
        return None, f"not a record with a '{clip(key)}' field"
    if key not in record:
        return None, f"no '{clip(key)}' field"
    return _text(record[key], key)


def _text(value: Any, key: str | None = None) -> tuple[str | None, str | None]:
    """(value, None) for a value that can be a slot value, (None, why) for one that cannot."""
    name = f"'{clip(key)}'" if key else "the value"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, f"{name} is empty"
    if isinstance(value, dict | list):
        return None, f"{name} is {'an object' if isinstance(value, dict) else 'a list'}, not text"
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
            found._problem(f"example {example.id}: {example.reason}")
            continue
        value = _example_field(example, field_name, slot)
        if value is None or not value.strip():
            missing += 1
            continue
        found._add(value.strip(), seen)
    if missing:
        found._problem(f"{missing} example{'s' if missing != 1 else ''} with no {_field_label(field_name, slot)}")
    return found._finish(f"Dataset {clip(name)} gives no values from its {_field_label(field_name, slot)}")


def _example_field(example: Example, field_name: str, slot: str) -> str | None:
    if field_name in DATASET_FIELDS:
        text: str = getattr(example.content, field_name)
        return text
    return example.content.slots.get(slot)


def _field_label(field_name: str, slot: str) -> str:
    return field_name if field_name in DATASET_FIELDS else f"slot '{clip(slot)}'"


def sources_summary(found: Iterable[SlotValues]) -> list[str]:
    """A line per source for the plan's preview: where the values came from and what was left out."""
    lines = []
    for values in found:
        line = f"{values.origin}: {len(values.values)} value{'s' if len(values.values) != 1 else ''}"
        if values.repeated:
            line += f", {values.repeated} repeated left out"
        if values.problem_count:
            line += f", {values.problem_count} without a value (first: {values.problems[0]})"
        lines.append(line)
    return lines
