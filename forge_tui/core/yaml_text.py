"""A small YAML writer for the config files of trainer bundles: mappings, lists and scalars only.

Strings are written as JSON strings (valid YAML, whatever they hold); floats always carry a decimal
point, since YAML 1.1 readers (PyYAML) take `5e-06` for a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

INDENT = "  "


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.10f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    return json.dumps(str(value), ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return not isinstance(value, Mapping) and (isinstance(value, str) or not isinstance(value, Sequence))


def _lines(data: Mapping[str, Any], depth: int) -> list[str]:
    pad = INDENT * depth
    lines: list[str] = []
    for key, value in data.items():
        if _is_scalar(value):
            lines.append(f"{pad}{key}: {scalar(value)}")
        elif isinstance(value, Mapping):
            lines.append(f"{pad}{key}:")
            lines.extend(_lines(value, depth + 1))
        elif all(_is_scalar(item) for item in value):
            lines.append(f"{pad}{key}: [{', '.join(scalar(item) for item in value)}]")
        else:
            lines.append(f"{pad}{key}:")
            for item in value:
                inner = _lines(item, depth + 2)
                lines.append(f"{pad}{INDENT}- {inner[0].lstrip()}")
                lines.extend(inner[1:])
    return lines


def dump(data: Mapping[str, Any], header: str = "") -> str:
    """`data` as a YAML document; `header` (lines of text) goes first as comments."""
    comments = [f"# {line}".rstrip() for line in header.splitlines()]
    return "\n".join([*comments, *_lines(data, 0)]) + "\n"
