"""Dataset files: JSONL, JSON, CSV, TSV and Parquet, read as records and written from records.

The type of a file to read comes from its content (Parquet's magic bytes, the first character of a
JSON text, the delimiter of a table's header), not its name. Records stream in with where each came
from (line, item or row number), and a malformed one comes as a RecordError instead of stopping the
read. Writing streams too: records go to a temporary file beside the target, which replaces it only
when everything was written.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.json as pa_json  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.json_text import compact
from forge_tui.core.table_cells import table_cell
from forge_tui.services.files import replacing, scratch_beside

FILE_TYPES = ("jsonl", "json", "csv", "tsv", "parquet")
SUPPORTED = "JSONL, JSON (an array, or an object holding a list), CSV, TSV and Parquet"
_PARQUET_MAGIC = b"PAR1"
_BATCH = 2000

csv.field_size_limit(2**31 - 1)


@dataclass(frozen=True)
class RecordError:
    """A line, item or row that could not be read; `where` is e.g. "line 12"."""

    where: str
    reason: str


@dataclass(frozen=True)
class Located:
    where: str
    record: Any


def detect_type(path: Path) -> str:
    """'jsonl', 'json', 'csv', 'tsv' or 'parquet', from the first bytes of the file."""
    try:
        with path.open("rb") as raw:
            head = raw.read(64 * 1024)
    except OSError as exc:
        raise ForgeError(f"Cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text:
        raise InvalidInput(f"{path} is empty.")
    if text[0] == "[":
        return "json"
    if text[0] == "{":
        first_line, newline, _ = text.partition("\n")
        if not newline:  # a first line longer than the head: read all of it
            with path.open("rb") as raw:
                whole = raw.readline()
            if not whole.endswith(b"\n"):
                return "json"  # the whole file is one line: one JSON document
            first_line = whole.decode("utf-8-sig", errors="replace")
        try:
            json.loads(first_line.strip())
        except json.JSONDecodeError:
            return "json"  # an object over several lines
        return "jsonl"
    header = text.split("\n", 1)[0]
    if b"\0" in head or not header.strip():
        raise InvalidInput(f"{path} is not a dataset file this app reads: {SUPPORTED}.")
    if header.count("\t") > 0 and header.count("\t") >= header.count(","):
        return "tsv"
    if header.count(",") > 0:
        return "csv"
    if path.suffix.lower() in (".csv", ".tsv"):  # a table of one column has no delimiter to go by
        return path.suffix.lower().lstrip(".")
    raise InvalidInput(f"{path} is not a dataset file this app reads: {SUPPORTED}.")


def read_records(path: Path, file_type: str | None = None) -> Iterator[Located | RecordError]:
    kind = file_type or detect_type(path)
    readers: dict[str, Callable[[Path], Iterator[Located | RecordError]]] = {
        "jsonl": _read_jsonl,
        "json": _read_json,
        "csv": lambda p: _read_table(p, ","),
        "tsv": lambda p: _read_table(p, "\t"),
        "parquet": _read_parquet,
    }
    if kind not in readers:
        raise InvalidInput(f"Unknown file type '{kind}': use one of {', '.join(FILE_TYPES)}.")
    try:
        yield from readers[kind](path)
    except OSError as exc:
        raise ForgeError(f"Cannot read {path}: {exc.strerror or exc}") from None


def _read_jsonl(path: Path) -> Iterator[Located | RecordError]:
    with path.open("r", encoding="utf-8-sig", errors="strict", newline="") as lines:
        number = 0
        while True:
            where = f"line {number + 1}"
            try:
                line = lines.readline()
            except UnicodeDecodeError:
                yield RecordError(where, "not UTF-8 text; the rest of the file cannot be read")
                return
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            try:
                yield Located(where, json.loads(line))
            except json.JSONDecodeError as exc:
                yield RecordError(where, f"not valid JSON ({exc.msg} at column {exc.colno})")


def _read_json(path: Path) -> Iterator[Located | RecordError]:
    try:
        with path.open("r", encoding="utf-8-sig") as text:
            document = json.load(text)
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
    items: Any = document
    if isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if not lists:
            items = [document]  # one record
        elif len(lists) == 1:
            items = document[lists[0]]
        else:
            raise InvalidInput(f"{path} holds several lists ({', '.join(lists)}); which one is the data is unclear.")
    if not isinstance(items, list):
        raise InvalidInput(f"{path} holds a JSON {type(items).__name__}, not a list of records.")
    for number, item in enumerate(items, start=1):
        yield Located(f"item {number}", item)


def _cell(value: str) -> Any:
    """Table cells hold text; a cell that is a JSON list or object (as this app writes nested
    values to CSV) is read back as one."""
    stripped = value.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return value
    return value


def _read_table(path: Path, delimiter: str) -> Iterator[Located | RecordError]:
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(f"{path}: the header cannot be read ({exc}).") from None
        names = [h.strip() for h in header]
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield RecordError(f"line {reader.line_num}", f"not a valid table row ({exc})")
                continue
            except UnicodeDecodeError:
                yield RecordError(f"line {reader.line_num + 1}", "not UTF-8 text; the rest cannot be read")
                return
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                yield RecordError(f"line {reader.line_num}", f"{len(row)} cells where the header has {len(names)}")
                continue
            yield Located(f"line {reader.line_num}", {n: _cell(v) for n, v in zip(names, row, strict=True)})


def _read_parquet(path: Path) -> Iterator[Located | RecordError]:
    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"{path} is not a readable Parquet file: {exc}") from None
    number = 0
    for batch in table.iter_batches(batch_size=_BATCH):
        for record in batch.to_pylist():
            number += 1
            yield Located(f"row {number}", record)


# --- writing ---------------------------------------------------------------------------------
@dataclass
class Encoded:
    """Records serialized as JSON lines, with what a table or Parquet file needs to know of them.
    Export worker processes make these; the writer joins them in order."""

    lines: bytes  # one JSON text and b"\n" per record
    count: int
    columns: dict[str, None]  # every key, in the order first seen
    types: ParquetTypes | None = None


def encode(records: Iterable[dict[str, Any]], parquet: bool = False) -> Encoded:
    batch = list(records)
    columns: dict[str, None] = {}
    for record in batch:
        columns.update(dict.fromkeys(record))
    types = ParquetTypes() if parquet else None
    if types is not None:
        types.add(batch)
    lines = b"".join([compact(record) + b"\n" for record in batch])
    return Encoded(lines, len(batch), columns, types)


def write_encoded(chunks: Iterable[Encoded], path: Path, file_type: str, spreadsheet_safe: bool = False) -> int:
    """Writes the chunks in order; returns the number of records. `spreadsheet_safe` applies to CSV
    and TSV cells (see core.table_cells)."""
    if file_type not in FILE_TYPES:
        raise InvalidInput(f"Unknown file type '{file_type}': use one of {', '.join(FILE_TYPES)}.")
    if file_type == "jsonl":
        return _write_jsonl(chunks, path)
    if file_type == "json":
        return _write_json(chunks, path)
    # Tables and Parquet need every record's fields before the first row: spool the lines beside
    # the target first (constant memory), then convert.
    with scratch_beside(path) as spool:
        count = 0
        columns: dict[str, None] = {}
        types = ParquetTypes()
        with spool.open("wb") as out:
            for chunk in chunks:
                out.write(chunk.lines)
                count += chunk.count
                columns.update(chunk.columns)
                if chunk.types is not None:
                    types.merge(chunk.types)
        if file_type == "parquet":
            _parquet_from_spool(spool, path, list(columns), types)
        else:
            _table_from_spool(spool, path, list(columns), "," if file_type == "csv" else "\t", spreadsheet_safe)
        return count


def _write_jsonl(chunks: Iterable[Encoded], path: Path) -> int:
    count = 0
    with replacing(path, mode="wb") as out:
        for chunk in chunks:
            out.write(chunk.lines)
            count += chunk.count
    return count


def _write_json(chunks: Iterable[Encoded], path: Path) -> int:
    """An array with a record per line (JSON texts hold no raw line breaks)."""
    count = 0
    with replacing(path, mode="wb") as out:
        out.write(b"[")
        for chunk in chunks:
            if not chunk.count:
                continue
            out.write(b",\n  " if count else b"\n  ")
            out.write(chunk.lines[:-1].replace(b"\n", b",\n  "))
            count += chunk.count
        out.write(b"\n]\n" if count else b"]\n")
    return count


def _spooled(spool: Path) -> Iterator[dict[str, Any]]:
    with spool.open("rb") as lines:
        for line in lines:
            yield orjson.loads(line)


def _table_from_spool(spool: Path, path: Path, columns: list[str], delimiter: str, spreadsheet_safe: bool) -> None:
    with replacing(path) as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([table_cell(c, spreadsheet_safe) for c in columns])
        for record in _spooled(spool):
            writer.writerow([table_cell(_flat(record.get(c)), spreadsheet_safe) for c in columns])


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return compact(value).decode()


class ParquetTypes:
    """The Arrow type of each column over all batches; a column whose values do not agree on one
    type (tool schemas, say) is written as JSON text."""

    def __init__(self) -> None:
        self.types: dict[str, pa.DataType] = {}
        self.as_json: set[str] = set()

    def add(self, batch: list[dict[str, Any]]) -> None:
        keys: dict[str, None] = {}
        for record in batch:
            keys.update(dict.fromkeys(record))
        for key in keys:
            if key in self.as_json:
                continue
            try:
                found = pa.array([r.get(key) for r in batch]).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                self._to_json(key)
                continue
            self._note(key, found)

    def merge(self, other: ParquetTypes) -> None:
        """Takes in the types another batch (an export worker's) found."""
        for key in other.as_json:
            self._to_json(key)
        for key, found in other.types.items():
            if key not in self.as_json:
                self._note(key, found)

    def _note(self, key: str, found: pa.DataType) -> None:
        try:
            if not _parquet_can_hold(found):
                raise pa.ArrowNotImplementedError(f"{key}: {found}")
            known = self.types.get(key)
            if known is None or known == found:
                self.types[key] = found
            else:
                merged = pa.unify_schemas(
                    [pa.schema([(key, known)]), pa.schema([(key, found)])], promote_options="permissive"
                )
                self.types[key] = merged.field(key).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            self._to_json(key)

    def _to_json(self, key: str) -> None:
        self.as_json.add(key)
        self.types.pop(key, None)

    def schema(self, columns: list[str]) -> pa.Schema:
        return pa.schema([(c, pa.string() if c in self.as_json else self.types.get(c, pa.null())) for c in columns])


def _parquet_can_hold(kind: pa.DataType) -> bool:
    """Parquet has no struct without fields (an empty object, such as no slots)."""
    if pa.types.is_struct(kind):
        return kind.num_fields > 0 and all(_parquet_can_hold(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return bool(_parquet_can_hold(kind.value_type))
    return True


def _parquet_from_spool(spool: Path, path: Path, columns: list[str], types: ParquetTypes) -> None:
    schema = types.schema(columns)
    if not types.as_json:
        try:
            _parquet_by_arrow(spool, path, schema)
            return
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass  # a value Arrow's JSON reader parses otherwise than pa.array inferred it: the slow way
    with replacing(path, mode="wb") as out:
        writer = pq.ParquetWriter(out, schema)
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            for record in batch:
                for key in types.as_json:
                    if key in record:
                        record[key] = _flat(record[key])
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            batch.clear()

        for record in _spooled(spool):
            batch.append(record)
            if len(batch) >= _BATCH:
                flush()
        if batch:
            flush()
        writer.close()


def _parquet_by_arrow(spool: Path, path: Path, schema: pa.Schema) -> None:
    """Arrow's streaming JSON reader parses the spool with the known schema: several times quicker
    than building the rows in Python, and still a block at a time."""
    reader = pa_json.open_json(
        spool,
        read_options=pa_json.ReadOptions(block_size=16 << 20),
        parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error"),
    )
    with replacing(path, mode="wb") as out:
        writer = pq.ParquetWriter(out, schema)
        for batch in reader:
            writer.write_batch(batch)
        writer.close()
