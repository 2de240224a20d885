"""How big a value a template step would build, worked out before the step runs.

Jinja's sandbox keeps a template away from Python internals, not from building a gigabyte of text
with one operator, filter or method call. The sandbox (core.sandbox) asks here before each step whose
result can be much larger than its inputs and refuses it when the estimate passes a limit; every
other result is measured after the fact with `sized`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from forge_tui.i18n import _

# Characters a render may write, and the longest text or list it may build (the "1 MB" limit).
SIZE_LIMIT = 1_000_000
# Digits of the largest number a template may build (Python's own str() limit is 4300 digits).
DIGIT_LIMIT = 1_000
BIT_LIMIT = int(DIGIT_LIMIT * 3.3219280948873626)  # log2(10) bits per digit

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_DIGITS = re.compile(r"\d+")
_SEQUENCES = (str, list, tuple, dict, set, frozenset)


class LimitExceeded(Exception):
    """A render went past one of the sandbox's limits; the message names the limit."""


def size_error() -> LimitExceeded:
    return LimitExceeded(
        _("the template built a text or list longer than the limit of {limit} characters or items").format(
            limit=f"{SIZE_LIMIT:,}"
        )
    )


def number_error() -> LimitExceeded:
    return LimitExceeded(
        _("the template built a number longer than the limit of {limit} digits").format(limit=f"{DIGIT_LIMIT:,}")
    )


def sized(value: Any) -> Any:
    """The value, if it is within the size and digit limits."""
    if isinstance(value, _SEQUENCES) and len(value) > SIZE_LIMIT:
        raise size_error()
    if isinstance(value, int) and value.bit_length() > BIT_LIMIT:
        raise number_error()
    return value


def refuse_over(size: int) -> None:
    if size > SIZE_LIMIT:
        raise size_error()


def _ints(values: Sequence[Any] | Mapping[str, Any]) -> int:
    items = values.values() if isinstance(values, Mapping) else values
    return sum(abs(v) for v in items if isinstance(v, int))


def _percent_size(fmt: str, args: Any) -> int:
    """An upper bound of `fmt % args` beyond the arguments' own text: the widths and precisions."""
    widths = sum(int(n) for spec in _PERCENT_SPEC.findall(fmt) for n in spec if n.isdigit())
    if "*" in fmt and isinstance(args, tuple):
        widths += _ints(args)
    return len(fmt) + widths


def binop(operator: str, left: Any, right: Any) -> None:
    """Refuses `*`, `**` and `%` whose result would pass a limit (`+` only adds two sizes)."""
    numbers = isinstance(left, int) and isinstance(right, int)
    if operator == "**" and numbers and right > 0 and abs(left) > 1:
        if right * left.bit_length() > BIT_LIMIT:
            raise number_error()
    elif operator == "*":
        if numbers and left.bit_length() + right.bit_length() > BIT_LIMIT:
            raise number_error()
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, str | list | tuple) and isinstance(times, int):
                refuse_over(len(sequence) * times)
    elif operator == "%" and isinstance(left, str):
        refuse_over(_percent_size(left, right))


def format_call(fmt: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> None:
    """Refuses a `str.format` call whose field widths add up past the size limit."""
    widths = 0
    for _text, _field, spec, _conversion in string.Formatter().parse(fmt):
        if spec:
            widths += sum(int(n) for n in _DIGITS.findall(spec))
            if "{" in spec:  # a width taken from the arguments
                widths += _ints(args) + _ints(kwargs)
    refuse_over(len(fmt) + widths)


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _json_lines(value: Any) -> int:
    """How many lines indented JSON of the value has, times its depth: a bound of the indents."""
    total, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        total += depth
        if isinstance(item, Mapping):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        if total > SIZE_LIMIT:
            break
    return total


# The filters whose result can be much larger than their input; filter_size knows each of them.
MULTIPLYING_FILTERS = frozenset(
    {"center", "indent", "replace", "join", "wordwrap", "slice", "batch", "tojson", "format"}
)


def filter_size(name: str, value: Any, args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """A bound of the result's size for MULTIPLYING_FILTERS; 0 for the others."""

    def arg(position: int, key: str, default: Any) -> Any:
        return args[position] if len(args) > position else kwargs.get(key, default)

    text = value if isinstance(value, str) else ""
    if name == "center":
        width = arg(0, "width", 80)
        return max(len(text), width) if isinstance(width, int) else 0
    if name == "indent":
        width = arg(0, "width", 4)
        prefix = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        return len(text) + prefix * _lines(text)
    if name == "replace":
        return replace_size(text, arg(0, "old", ""), arg(1, "new", ""))
    if name == "join":
        separator = arg(0, "d", "")
        count = len(value) if isinstance(value, _SEQUENCES) else 0
        return len(separator) * count if isinstance(separator, str) else 0
    if name == "wordwrap":
        width, wrapstring = arg(0, "width", 79), arg(3, "wrapstring", None)
        if not isinstance(width, int) or width <= 0 or not isinstance(wrapstring, str | None):
            return 0
        return len(text) + (len(text) // width + _lines(text)) * len(wrapstring or "\n")
    if name in ("slice", "batch"):
        count = arg(0, "slices" if name == "slice" else "linecount", 0)
        return count if isinstance(count, int) else 0
    if name == "tojson":
        indent = arg(0, "indent", None)
        return indent * _json_lines(value) if isinstance(indent, int) and indent > 0 else 0
    if name == "format" and isinstance(value, str):
        return _percent_size(value, tuple(args) or dict(kwargs))
    return 0


def method_size(name: str, text: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> int:
    """The same for the str methods a template can call."""
    first = args[0] if args else next(iter(kwargs.values()), None)
    if name in ("center", "ljust", "rjust", "zfill"):
        return max(len(text), first) if isinstance(first, int) else 0
    if name == "expandtabs":
        tabsize = first if isinstance(first, int) else 8
        return len(text) + text.count("\t") * tabsize
    if name == "replace":
        return replace_size(text, first, args[1] if len(args) > 1 else kwargs.get("new", ""))
    if name == "join":
        return len(text) * len(first) if isinstance(first, _SEQUENCES) else 0
    if name == "translate" and isinstance(first, Mapping):
        longest = max((len(v) if isinstance(v, str) else 1 for v in first.values()), default=1)
        return len(text) * longest
    return 0


def replace_size(text: str, old: Any, new: Any) -> int:
    if not (isinstance(old, str) and isinstance(new, str)):
        return 0
    return len(text) + (text.count(old) if old else len(text) + 1) * len(new)
