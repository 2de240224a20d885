"""What `read_records` gives, narrowed to what a test's file can hold (a failed assertion otherwise)."""

from __future__ import annotations

from pathlib import Path

from forge_tui.services.dataset_files import Located, RecordError, read_records


def records_and_errors(path: Path, split_text: str | None = None) -> list[Located | RecordError]:
    """The records and errors of a file with no columns to skip."""
    found = list(read_records(path, split_text=split_text))
    narrowed = [r for r in found if isinstance(r, Located | RecordError)]
    assert narrowed == found, found
    return narrowed


def located(path: Path, split_text: str | None = None) -> list[Located]:
    """The records of a file that reads without an error."""
    found = list(read_records(path, split_text=split_text))
    narrowed = [r for r in found if isinstance(r, Located)]
    assert narrowed == found, found
    return narrowed
