"""Which columns of a Parquet file become JSON values, and how.

Text, numbers, booleans, lists, structs and maps of them are read as they are. Timestamps (pandas
writes `timestamp[ns]`, which Python's datetime cannot hold), dates and times become ISO-8601 text;
decimals become text, so no digit is lost. Any other type (binary, durations, extension types) has
no JSON form: that column is left out, by name, and the import says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]

from forge_tui.core.json_input import MAX_DEPTH, too_deep

_AS_IS, _CONVERT = "as is", "convert"


@dataclass
class ColumnPlan:
    """The columns to read, those of them that need converting, and those left out (name, type)."""

    kept: list[str] = field(default_factory=list)
    converted: set[str] = field(default_factory=set)
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def records(self, batch: pa.RecordBatch) -> list[dict[str, Any]]:
        if not self.converted:
            return list(batch.to_pylist())
        columns = [
            readable(batch.column(i)) if name in self.converted else batch.column(i)
            for i, name in enumerate(batch.schema.names)
        ]
        return list(pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pylist())


def plan(schema: pa.Schema) -> ColumnPlan:
    found = ColumnPlan()
    for column in schema:
        how = _how(column.type, 1)
        if how is None:
            found.left_out.append((column.name, str(column.type)))
        elif how == "deep":
            found.left_out.append((column.name, too_deep()))
        else:
            found.kept.append(column.name)
            if how == _CONVERT:
                found.converted.add(column.name)
    return found


def _how(kind: pa.DataType, depth: int) -> str | None:
    """_AS_IS, _CONVERT, "deep" (nested deeper than MAX_DEPTH) or None (no JSON form)."""
    types = pa.types
    if depth > MAX_DEPTH:
        return "deep"
    if isinstance(kind, pa.ExtensionType):
        return None
    if types.is_dictionary(kind):
        return _how(kind.value_type, depth)
    if (
        types.is_null(kind) or types.is_boolean(kind) or types.is_integer(kind) or types.is_floating(kind)
        or types.is_string(kind) or types.is_large_string(kind)
    ):  # fmt: skip
        return _AS_IS
    if types.is_timestamp(kind) or types.is_date(kind) or types.is_time(kind) or types.is_decimal(kind):
        return _CONVERT
    if types.is_list(kind) or types.is_large_list(kind) or types.is_fixed_size_list(kind):
        return _how(kind.value_type, depth + 1)
    if types.is_struct(kind):
        inner = [_how(kind.field(i).type, depth + 1) for i in range(kind.num_fields)]
        if None in inner or "deep" in inner:
            return None if None in inner else "deep"
        return _CONVERT if _CONVERT in inner else _AS_IS
    if types.is_map(kind):
        inner = [_how(kind.key_type, depth + 1), _how(kind.item_type, depth + 1)]
        return _AS_IS if inner == [_AS_IS, _AS_IS] else None
    return None


def readable(array: pa.Array) -> pa.Array:
    """`array` with its timestamps, dates, times and decimals (at any depth) as text."""
    import pyarrow.compute as pc  # type: ignore[import-untyped]  # only for Parquet files: ~10 MB at start-up

    kind = array.type
    types = pa.types
    if types.is_dictionary(kind):
        return readable(array.dictionary_decode())
    if types.is_timestamp(kind):
        text = array.cast(pa.string())  # "2024-01-02 03:04:05.123456789", "…Z" in UTC, "…+0100"
        text = pc.replace_substring_regex(text, pattern=r"^(-?\d{4,}-\d\d-\d\d) ", replacement=r"\1T")
        return pc.replace_substring_regex(text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2")
    if types.is_date(kind) or types.is_time(kind) or types.is_decimal(kind):
        return array.cast(pa.string())
    if types.is_fixed_size_list(kind):
        return readable(array.cast(pa.list_(kind.value_type)))
    if types.is_list(kind) or types.is_large_list(kind):
        values = readable(array.values)
        return type(array).from_arrays(array.offsets, values, mask=array.is_null())
    if types.is_struct(kind):
        children = [readable(child) for child in array.flatten()]
        names = [kind.field(i).name for i in range(kind.num_fields)]
        return pa.StructArray.from_arrays(children, names=names, mask=array.is_null())
    return array
