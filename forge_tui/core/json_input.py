"""JSON text from files people bring, parsed without trusting it.

The json module recurses once per level of nesting (a line of 100,000 `[` raises RecursionError),
and stored copies are written by orjson, which stops at 255 levels: a value nested deeper than
MAX_DEPTH is refused. A `\\ud800` escape parses to a lone surrogate, which cannot be encoded to be
stored: refused too. `elements` splits an array or object into its items without parsing them, so
that one bad item of a JSON file can be skipped while the others are read.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from forge_tui.i18n import _

MAX_DEPTH = 100

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^][{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{},]', re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BLANK = " \t\r\n"
_NOT_BLANK = re.compile(r"[^ \t\r\n]")


class JsonProblem(ValueError):
    """Why a JSON text cannot be read, as a phrase: "not valid JSON (Expecting value at column 3)"."""


class NotJson(JsonProblem):
    """The text is not JSON at all (as opposed to JSON nested too deep or holding a lone surrogate):
    callers tell the two apart by type, since the phrase is in the interface language."""


def closes(text: str) -> bool:
    """Whether every array and object opened in `text` (strings left out) is closed, in order."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    levels = list(accumulate(map(_STEP.__getitem__, brackets)))
    return not levels or (levels[-1] == 0 and min(levels) >= 0)


def too_deep(limit: int = MAX_DEPTH) -> str:
    return _("nested deeper than {limit} levels").format(limit=limit)


def loads(text: str, limit: int = MAX_DEPTH) -> Any:
    """The value of a JSON text nested at most `limit` deep; raises JsonProblem."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.lineno == 1:
            message = _("not valid JSON ({problem} at column {column})")
        else:
            message = _("not valid JSON ({problem} at line {line}, column {column})")
        raise NotJson(message.format(problem=exc.msg, line=exc.lineno, column=exc.colno)) from None
    except RecursionError:  # the json module's own guard, some 1,000 levels down
        raise JsonProblem(too_deep(limit)) from None
    # Fewer brackets than the limit cannot nest deeper: most lines are not walked.
    if text.count("[") + text.count("{") > limit and _depth(value, limit) > limit:
        raise JsonProblem(too_deep(limit))
    if "\\" in text and _SURROGATE_ESCAPE.search(text) and _holds_surrogate(value):
        raise JsonProblem(_("holds a lone surrogate escape (\\ud800 to \\udfff), which is not text"))
    return value


def _depth(value: Any, limit: int) -> int:
    """How deep arrays and objects nest in `value` (`[]` is 1), counted up to limit + 1, a level
    at a time."""
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level and depth <= limit:
        depth += 1
        level = [
            inner
            for outer in level
            for inner in (outer.values() if type(outer) is dict else outer)
            if type(inner) is dict or type(inner) is list
        ]
    return depth


def _holds_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


@dataclass
class Container:
    """The items of an array (or members of an object) found by `elements`: their spans in the
    text, blank ones left out; `end` is just past the closing bracket, None when the text ends
    first (then the last span runs to the end of the text)."""

    spans: list[tuple[int, int]]
    end: int | None


def elements(text: str, start: int) -> Container:
    """Splits the array or object whose bracket is at `start` at its top-level commas, reading
    strings and brackets only (no recursion, nothing parsed)."""
    spans: list[tuple[int, int]] = []
    depth = 0
    begin = start + 1

    def add(stop: int) -> None:
        first = begin
        while first < stop and text[first] in _BLANK:
            first += 1
        last = stop
        while last > first and text[last - 1] in _BLANK:
            last -= 1
        if first < last:
            spans.append((first, last))

    for token in _TOKEN.finditer(text, start + 1):
        char = text[token.start()]
        if char == '"':
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                add(token.start())
                return Container(spans, token.end())
            depth -= 1
        elif depth == 0:  # a comma between items
            add(token.start())
            begin = token.end()
    add(len(text))
    return Container(spans, None)


def first_value(text: str, start: int = 0) -> int:
    """The index of the first character from `start` on that is not JSON whitespace (len(text) if none)."""
    found = _NOT_BLANK.search(text, start)
    return found.start() if found else len(text)


def object_member(text: str, begin: int, end: int) -> tuple[str | None, int]:
    """The name of the object member spanning text[begin:end] and where its value starts; None
    (and `end`) when the span is not `"name": value`."""
    key = _STRING.match(text, begin, end)
    colon = first_value(text, key.end()) if key else end
    if key is None or colon >= end or text[colon] != ":":
        return None, end
    try:
        name = loads(key.group())
    except JsonProblem:
        return None, end
    return name, first_value(text, colon + 1)
