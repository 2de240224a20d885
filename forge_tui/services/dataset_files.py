"""Dataset files: JSONL, JSON, CSV, TSV and Parquet, read as records and written from records;
plain text and Markdown read as documents.

The type of a file to read comes from its content (Parquet's magic bytes, the first character of a
JSON text, the delimiter of a table's header), and from its name only where the content leaves it
open. Text that is neither JSON nor a table (a header of short column names, and rows with as many
cells) is plain text: prose with commas is never taken for a CSV. Records stream in with where each
came from (line, item or row number), and a malformed one comes as a RecordError instead of stopping
the read: a line that is not UTF-8, not JSON or nested too deep is that line alone. Writing streams
too: records go to a temporary file beside the target, which replaces it only when everything was
written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.json as pa_json  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]

from forge_tui.core import parquet_columns
from forge_tui.core.bounded_text import clip, listing
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.json_input import (
    Container,
    JsonProblem,
    NotJson,
    closes,
    elements,
    first_value,
    loads,
    object_member,
)
from forge_tui.core.json_text import compact
from forge_tui.core.plain_text import SPLITS, default_split, paragraphs
from forge_tui.core.table_cells import read_cell, table_cell, text_cell
from forge_tui.i18n import N_, _
from forge_tui.services.files import replacing, scratch_beside
from forge_tui.services.readable_files import check, open_regular

FILE_TYPES = ("jsonl", "json", "csv", "tsv", "parquet")
SUPPORTED = N_("JSONL, JSON (an array, or an object holding a list), CSV, TSV, Parquet, and plain text or Markdown")
_PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_NAMED = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}
_TABLES = (".csv", ".tsv")
_TEXT_NAMES = (".txt", ".text", ".md", ".markdown")
_TEXT_AS_JSON = 16 << 20  # the most of a .txt file that starts like JSON read to see whether it is
_COLUMN_NAME = 64  # the longest header cell taken for a column name when a table is told from prose
_HEAD = 64 * 1024
_SECOND_LINE = 1 << 20  # the most of a second line read to tell JSONL from JSON
_BATCH = 2000
_ESCAPED = re.compile("[\udc80-\udcff]")  # a byte that is not UTF-8, decoded with surrogateescape
_JSON_NAMES = {str: "string", int: "number", float: "number", bool: "true or false", type(None): "null"}

csv.field_size_limit(2**31 - 1)


Place = dict[str, int]  # {"line": 3}, {"row": 3, "line": 4}, {"item": 3}, {"row": 1, "last_row": 10}


@dataclass(frozen=True)
class RecordError:
    """A line, item or row that could not be read; `where` is e.g. "line 12", `place` the same as
    numbers (JSONL and text: line; CSV, TSV and Parquet: row, and line for a table; JSON: item)."""

    where: str
    reason: str
    place: Place = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Located:
    where: str
    record: Any
    place: Place = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class SkippedColumn:
    """A Parquet column whose type has no JSON form; `kind` is its type (or why it is left out)."""

    name: str
    kind: str


Read = Located | RecordError | SkippedColumn


def detect_type(path: Path) -> str:
    """'jsonl', 'json', 'csv', 'tsv' or 'parquet', from the first bytes of the file."""
    with open_regular(path) as raw:
        try:
            head = raw.read(_HEAD)
            if head.startswith(_PARQUET_MAGIC):
                return "parquet"
            if head.startswith(_UTF16_BOMS):
                raise InvalidInput(_("{path} is UTF-16 text: save it as UTF-8 to import it.").format(path=path))
            body = head.removeprefix(_BOM)
            offset = len(head) - len(body)
            while not body.strip() and (more := raw.read(_HEAD)):  # blank lines longer than the head
                offset += len(body)
                body = more
            start = len(body) - len(body.lstrip())
            if start == len(body):
                raise InvalidInput(_("{path} is empty.").format(path=path))
            if body[start : start + 1] in (b"[", b"{"):
                raw.seek(offset + start)
                kind = _json_kind(path, raw)
                if path.suffix.lower() not in _TEXT_NAMES or _holds_json(raw, offset + start, kind):
                    return kind
                return "text"  # prose that opens with a bracket, e.g. a Markdown link
            whole = not raw.read(1)
        except OSError as exc:
            raise ForgeError(_("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror or exc)) from None
    suffix = path.suffix.lower()
    named = _NAMED.get(suffix)
    if named:
        return named
    text = body[start:].decode("utf-8", errors="replace")
    header = text.split("\n", 1)[0]
    if b"\0" in head:
        raise InvalidInput(
            _("{path} is not a dataset file this app reads: {supported}.").format(path=path, supported=_(SUPPORTED))
        )
    if suffix in _TABLES:
        if header.count("\t") > 0 and header.count("\t") >= header.count(","):
            return "tsv"
        if header.count(",") > 0:
            return "csv"
        return suffix.lstrip(".")  # a table of one column has no delimiter to go by
    return _table_kind(text, whole) or "text"


def _holds_json(raw: IO[bytes], start: int, kind: str) -> bool:
    """Whether a text file (.txt, .md) that starts with `[` or `{` is JSON: its first line stands
    alone (JSON Lines), or the whole file parses."""
    if kind == "jsonl":
        return True
    raw.seek(start)
    data = raw.read(_TEXT_AS_JSON + 1)
    if len(data) > _TEXT_AS_JSON:
        return False
    try:
        loads(data.decode())
    except (UnicodeDecodeError, JsonProblem):
        return False
    return True


def _table_kind(text: str, whole: bool) -> str | None:
    """'csv' or 'tsv' when the text starts like a table: a header of two or more short column
    names, and every following row (of those read) with as many cells."""
    lines = text.splitlines(keepends=True)
    if not whole:
        lines = lines[:-1]  # the head may end inside a line
    if not lines:
        return None
    first = lines[0]
    tabs, commas = first.count("\t"), first.count(",")
    if not tabs and not commas:
        return None
    delimiter = "\t" if tabs >= commas else ","
    try:
        rows = [row for row in csv.reader(io.StringIO("".join(lines[:200])), delimiter=delimiter) if row]
    except csv.Error:
        return None
    header, data = rows[0], rows[1:]
    if not data or sum(1 for c in header if c.strip()) < 2 or any(len(c) > _COLUMN_NAME for c in header):
        return None
    if any(len(row) != len(header) for row in data[:-1]):  # the last one may be cut short
        return None
    return "tsv" if delimiter == "\t" else "csv"


def _json_kind(path: Path, raw: IO[bytes]) -> str:
    """JSON Lines or one JSON document, for a file (read from its first value on) that starts
    with `[` or `{`: JSONL when the first line is a JSON value on its own (and, for `[`, more
    follows). When it is not (a document over several lines, or a broken first line of JSONL),
    the name tells, else whether the next line stands alone."""
    named = _NAMED.get(path.suffix.lower())
    first = raw.readline()
    if not first.endswith(b"\n"):
        return named or "json"  # the whole file is one line
    if _stands_alone(first):
        if first.startswith(b"{") or named == "jsonl":
            return "jsonl"
        while block := raw.read(_HEAD):
            if block.strip():
                return "jsonl"
        return "json"
    if named:
        return named
    second = b""
    while not second.strip():
        second = raw.readline(_SECOND_LINE)
        if not second:
            return "json"
    # Indented items belong to a document written over several lines.
    return "jsonl" if second.startswith(b"{") and second.endswith(b"\n") and _stands_alone(second) else "json"


def _stands_alone(line: bytes) -> bool:
    text = line.decode("utf-8", errors="replace")
    try:
        loads(text)
    except JsonProblem as exc:
        return not isinstance(exc, NotJson) and closes(text)
    return True


def read_records(path: Path, file_type: str | None = None, split_text: str | None = None) -> Iterator[Read]:
    """The records of a file; a plain text file's documents, split as `split_text` says (one of
    core.plain_text.SPLITS; by default per line, or per file for Markdown)."""
    kind = file_type or detect_type(path)
    split = split_text or default_split(path.suffix)
    if split not in SPLITS:
        raise InvalidInput(
            _("Unknown text split '{split}': use one of {names}.").format(split=clip(split), names=", ".join(SPLITS))
        )
    readers: dict[str, Callable[[Path], Iterator[Read]]] = {
        "jsonl": _read_jsonl,
        "json": _read_json,
        "csv": lambda p: _read_table(p, ","),
        "tsv": lambda p: _read_table(p, "\t"),
        "parquet": _read_parquet,
        "text": lambda p: _read_text(p, split),
    }
    if kind not in readers:
        raise InvalidInput(
            _("Unknown file type '{kind}': use one of {names}.").format(kind=clip(kind), names=", ".join(readers))
        )
    try:
        yield from readers[kind](path)
    except OSError as exc:
        raise ForgeError(_("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror or exc)) from None


def _not_utf8(data: bytes, exc: UnicodeDecodeError) -> str:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
    line = data.count(b"\n", 0, line_start) + 1
    place = f"column {column}" if line == 1 else f"line {line}, column {column}"
    return f"not UTF-8 text (byte 0x{data[exc.start]:02x} at {place})"


def _read_jsonl(path: Path) -> Iterator[Read]:
    with open_regular(path) as raw:
        for number, line in enumerate(raw, start=1):
            if number == 1:
                line = line.removeprefix(_BOM)
            if not line or line.isspace():
                continue
            where, place = f"line {number}", {"line": number}
            try:
                record = loads(line.decode())
            except UnicodeDecodeError as exc:
                yield RecordError(where, _not_utf8(line, exc), place)
                continue
            except JsonProblem as exc:
                yield RecordError(where, str(exc), place)
                continue
            yield Located(where, record, place)


def _read_json(path: Path) -> Iterator[Read]:
    with open_regular(path) as raw:
        data = raw.read().removeprefix(_BOM)
    try:
        document = loads(data.decode())
    except UnicodeDecodeError as exc:
        yield from _read_json_items(path, data, _not_utf8(data, exc))
        return
    except JsonProblem as exc:
        yield from _read_json_items(path, data, str(exc))
        return
    items: Any = document
    if isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list) and v and isinstance(v[0], dict)]
        if not lists:
            items = [document]  # one record
        elif len(lists) == 1:
            items = document[lists[0]]
        else:
            raise _several_lists(path, lists)
    if not isinstance(items, list):
        raise InvalidInput(
            _("{path} holds a JSON {kind}, not a list of records.").format(
                path=path, kind=_JSON_NAMES.get(type(items), "value")
            )
        )
    for number, item in enumerate(items, start=1):
        yield Located(f"item {number}", item, {"item": number})


def _several_lists(path: Path, names: list[str]) -> InvalidInput:
    return InvalidInput(
        _("{path} holds several lists ({names}); which one is the data is unclear.").format(
            path=path, names=listing(names)
        )
    )


def _read_json_items(path: Path, data: bytes, why: str) -> Iterator[Read]:
    """A JSON file that cannot be read whole (a byte that is not UTF-8, an item nested too deep or
    broken): its list of records split into items, each read on its own."""
    text = data.decode("utf-8", errors="surrogateescape")
    start = first_value(text)
    opener = text[start : start + 1]
    if opener == "[":
        outer = records = elements(text, start)
    elif opener == "{":
        outer = elements(text, start)
        records = _the_list(path, text, outer, why)
    else:
        raise InvalidInput(_("{path} is {why}.").format(path=path, why=why))
    yield from _json_items(text, records)
    if outer.end is not None and first_value(text, outer.end) < len(text):
        yield _at_line(_line_of(text, first_value(text, outer.end)), "more text after the end of the JSON")
    elif outer.end is None and records.end is not None:
        yield _at_line(_line_of(text, len(text)), "the file ends before the closing }")


def _the_list(path: Path, text: str, members: Container, why: str) -> Container:
    """The one member of a JSON object that is a list of objects (split, not parsed)."""
    found: list[tuple[str, Container]] = []
    for begin, end in members.spans:
        name, value = object_member(text, begin, end)
        if name is not None and text.startswith("[", value):
            items = elements(text, value)
            if items.spans and text.startswith("{", items.spans[0][0]):
                found.append((name, items))
    if not found:
        raise InvalidInput(_("{path} is {why}.").format(path=path, why=why))
    if len(found) > 1:
        raise _several_lists(path, [name for name, _ in found])
    return found[0][1]


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _at_line(line: int, reason: str) -> RecordError:
    return RecordError(f"line {line}", reason, {"line": line})


def _json_items(text: str, items: Container) -> Iterator[Read]:
    line, seen = 1, 0
    for number, (begin, end) in enumerate(items.spans, start=1):
        line += text.count("\n", seen, begin)
        seen = begin
        piece = text[begin:end]
        where, place = f"item {number} (line {line})", {"item": number, "line": line}
        unreadable = _ESCAPED.search(piece)
        if unreadable:
            yield RecordError(where, f"not UTF-8 text (byte 0x{ord(unreadable.group()) - 0xDC00:02x})", place)
            continue
        try:
            record = loads(piece)
        except JsonProblem as exc:
            cut = items.end is None and number == len(items.spans)
            yield RecordError(where, "the file ends inside this item" if cut else str(exc), place)
            continue
        yield Located(f"item {number}", record, place)
    if items.end is None and (not items.spans or _ends_whole(text, items.spans[-1])):
        yield _at_line(_line_of(text, len(text)), "the file ends before the closing ]")


def _ends_whole(text: str, span: tuple[int, int]) -> bool:
    try:
        loads(text[span[0] : span[1]])
    except JsonProblem:
        return False
    return True


def _read_table(path: Path, delimiter: str) -> Iterator[Read]:
    with open_regular(path) as raw, io.TextIOWrapper(raw, "utf-8-sig", "surrogateescape", newline="") as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInput(
                _("{path}: the header cannot be read ({problem}).").format(path=path, problem=clip(str(exc), 120))
            ) from None
        if any(_ESCAPED.search(name) for name in header):
            raise InvalidInput(_("{path}: the header is not UTF-8 text.").format(path=path))
        names = [h.strip() for h in header]
        number = 0  # rows after the header, blank ones left out
        while True:
            line = reader.line_num + 1  # a row can span lines: it is where it starts
            where = f"line {line}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield RecordError(
                    where, f"not a valid table row ({clip(str(exc), 120)})", {"row": number, "line": line}
                )
                continue
            if not any(cell.strip() for cell in row):
                continue
            number += 1
            place = {"row": number, "line": line}
            if any(_ESCAPED.search(cell) for cell in row):
                yield RecordError(where, "not UTF-8 text", place)
                continue
            if len(row) != len(names):
                yield RecordError(where, f"{len(row)} cells where the header has {len(names)}", place)
                continue
            yield Located(where, {n: read_cell(v) for n, v in zip(names, row, strict=True)}, place)


def _read_parquet(path: Path) -> Iterator[Read]:
    check(path)  # a pipe or a device is refused before Arrow opens it
    try:
        table = pq.ParquetFile(path)
        columns = parquet_columns.plan(table.schema_arrow)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(
            _("{path} is not a readable Parquet file ({problem}).").format(path=path, problem=clip(str(exc), 200))
        ) from None
    for name, kind in columns.left_out:
        yield SkippedColumn(name, kind)
    number = 0
    for group in range(table.num_row_groups):
        end = number + table.metadata.row_group(group).num_rows
        try:
            for batch in table.iter_batches(batch_size=_BATCH, row_groups=[group], columns=columns.kept):
                for record in columns.records(batch):
                    number += 1
                    yield Located(f"row {number}", record, {"row": number})
        except (pa.ArrowException, OSError, ValueError) as exc:
            why = f"cannot be read ({clip(str(exc), 120)})"
            yield RecordError(f"rows {number + 1} to {end}", why, {"row": number + 1, "last_row": end})
        number = end


def _read_text(path: Path, split: str) -> Iterator[Read]:
    """Plain text as `{"text": document}` records, a document per line, paragraph or file."""
    with open_regular(path) as raw:
        if split == "file":
            data = raw.read().removeprefix(_BOM)
            try:
                document = data.decode().strip("\r\n")
            except UnicodeDecodeError as exc:
                line = data.count(b"\n", 0, exc.start) + 1
                yield RecordError(f"line {line}", _not_utf8(data, exc), {"line": line})
                return
            if document.strip():
                yield Located("line 1", {"text": document}, {"line": 1})
            return
        lines = _numbered_lines(raw)
        documents = paragraphs(lines) if split == "paragraph" else ((n, t) for n, t in lines if t.strip())
        for number, document in documents:
            where, place = f"line {number}", {"line": number}
            if _ESCAPED.search(document):
                yield RecordError(where, "not UTF-8 text", place)
                continue
            yield Located(where, {"text": document}, place)


def _numbered_lines(raw: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Each line without its ending; a byte that is not UTF-8 kept as a surrogate escape, to be reported."""
    for number, line in enumerate(raw, start=1):
        data = line.removeprefix(_BOM) if number == 1 else line
        yield number, data.decode("utf-8", "surrogateescape").rstrip("\r\n")


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


def write_encoded(
    chunks: Iterable[Encoded], path: Path, file_type: str, spreadsheet_safe: bool = False, round_trip: bool = False
) -> int:
    """Writes the chunks in order; returns the number of records. `spreadsheet_safe` applies to CSV
    and TSV cells (see core.table_cells); so does `round_trip` (raw exports): text that would read
    back as JSON is written as a JSON string. Training exports leave text as it is."""
    if file_type not in FILE_TYPES:
        raise InvalidInput(
            _("Unknown file type '{kind}': use one of {names}.").format(kind=file_type, names=", ".join(FILE_TYPES))
        )
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
            delimiter = "," if file_type == "csv" else "\t"
            _table_from_spool(spool, path, list(columns), delimiter, spreadsheet_safe, round_trip)
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


def _table_from_spool(
    spool: Path, path: Path, columns: list[str], delimiter: str, spreadsheet_safe: bool, round_trip: bool
) -> None:
    with replacing(path) as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
        writer.writerow([table_cell(c, spreadsheet_safe) for c in columns])
        for record in _spooled(spool):
            writer.writerow([table_cell(_flat(record.get(c), round_trip), spreadsheet_safe) for c in columns])


def _flat(value: Any, round_trip: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(value) if round_trip else value
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
                        record[key] = _flat(record[key], False)
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
