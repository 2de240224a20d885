"""The filter language of `datasets filter` and the Examples screen: comparisons over an example's
columns joined by and/or/not, parsed by hand (no eval).

    score >= 7 and review != rejected and model =~ 'qwen'
    (source = import or source = job) and not answer ~ "sorry"
    slot:topic = 'physics' and tokens < 500 and flag = none

Columns: score, review, source, model, kto, flag, tokens, prompt_tokens, rejected, created (plain
columns, tested in SQL) and prompt, answer, system, slot:NAME (sealed content, tested after opening).
Operators: = != < <= > >= (exact), ~ (contains) and =~ (regular expression), both case-insensitive.
`none` is the missing value: `score = none` takes the unjudged examples. A missing value matches
no other comparison. Values: numbers, bare words, or strings in single or double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.i18n import _

MAX_EXPRESSION = 2000
MAX_PATTERN = 200  # a regular expression longer than this is refused (bounded matching cost)
OPERATORS = ("=~", "!=", "<=", ">=", "=", "<", ">", "~")
KEYWORDS = ("and", "or", "not")
NONE = "none"
_KTO = {"desirable": 1, "true": 1, "undesirable": 0, "false": 0}


class FilterError(ValueError):
    """A bad expression: one sentence naming the position (1-based) and what is wrong."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # number, text, enum (= and != only), kto
    sql: str | None  # the SQL expression on the example table; None for sealed content
    values: tuple[str, ...] = ()  # an enum's values


_PLAIN = (
    Column("score", "number", "score"),
    Column("review", "enum", "review", tuple(ReviewState)),
    Column("source", "enum", "source", tuple(ExampleSource)),
    Column("model", "text", "model"),
    Column("kto", "kto", "desirability", ("desirable", "undesirable", NONE)),
    Column("flag", "text", "language_flag"),
    Column("tokens", "number", "completion_tokens"),
    Column("prompt_tokens", "number", "prompt_tokens"),
    Column("rejected", "number", "rejected_count"),
    Column("created", "text", "created_at"),
)
_CONTENT = (Column("prompt", "text", None), Column("answer", "text", None), Column("system", "text", None))
# The sealed column each content column opens (slot:NAME opens "slots").
SEALED_COLUMN = {"prompt": "user_prompt", "answer": "output", "system": "system_prompt", "slot": "slots"}
COLUMNS: dict[str, Column] = {c.name: c for c in (*_PLAIN, *_CONTENT)}
COLUMN_NAMES = ", ".join([*COLUMNS, "slot:NAME"])
SQL_FUNCTIONS = ("forge_contains", "forge_regexp")


@dataclass(frozen=True)
class Compare:
    column: Column
    slot: str  # the slot's name for slot:NAME, else ""
    op: str
    value: str | float | int | None

    @property
    def content(self) -> bool:
        return self.column.sql is None


@dataclass(frozen=True)
class Not:
    inner: Expr


@dataclass(frozen=True)
class BoolOp:
    op: str  # and, or
    parts: tuple[Expr, ...]


Expr = Compare | Not | BoolOp


@dataclass(frozen=True)
class Filter:
    """A parsed expression and the text it came from."""

    text: str
    expr: Expr

    @property
    def needs_content(self) -> bool:
        return _needs_content(self.expr)

    def sql(self) -> tuple[str, tuple[Any, ...]]:
        """The part of the expression SQL can test (the top-level conjuncts over plain columns) as a
        WHERE fragment that starts with " AND ", and its parameters; "" when none can."""
        parts = self.expr.parts if isinstance(self.expr, BoolOp) and self.expr.op == "and" else (self.expr,)
        sql, params = "", list[Any]()
        for part in parts:
            if not _needs_content(part):
                fragment, values = _to_sql(part)
                sql += f" AND ({fragment})"
                params += values
        return sql, tuple(params)

    @property
    def sealed_columns(self) -> tuple[str, ...]:
        """The sealed example columns the in-memory test needs opened (SEALED_COLUMN's values)."""
        return tuple(sorted({SEALED_COLUMN[c.column.name] for c in _comparisons(self.expr) if c.content}))

    def matches(self, example: Example) -> bool:
        return evaluate(self.expr, values_of(example))


def _comparisons(expr: Expr) -> list[Compare]:
    if isinstance(expr, Compare):
        return [expr]
    if isinstance(expr, Not):
        return _comparisons(expr.inner)
    return [c for part in expr.parts for c in _comparisons(part)]


def _needs_content(expr: Expr) -> bool:
    if isinstance(expr, Compare):
        return expr.content
    if isinstance(expr, Not):
        return _needs_content(expr.inner)
    return any(_needs_content(p) for p in expr.parts)


# ---- values of an example, and the in-memory test -------------------------------------------------


def stored_time(moment: datetime) -> str:
    """As the example table stores a time (store.examples._stored_time)."""
    return f"{moment:%Y-%m-%d %H:%M:%S.%f}"


def values_of(example: Example) -> dict[str, Any]:
    """Every column's value as SQL would see it (kto as 1/0/None); slots under "slot:NAME"."""
    meta, content = example.meta, example.content
    values: dict[str, Any] = {
        "score": meta.score,
        "review": meta.review.value,
        "source": meta.source.value,
        "model": meta.model,
        "kto": None if meta.desirability is None else int(meta.desirability),
        "flag": meta.language_flag,
        "tokens": meta.completion_tokens,
        "prompt_tokens": meta.prompt_tokens,
        "rejected": len(content.rejected),
        "created": stored_time(example.created_at),
        "prompt": content.user_prompt,
        "answer": content.output,
        "system": content.system_prompt,
    }
    values.update({f"slot:{name}": value for name, value in content.slots.items()})
    return values


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def contains(value: Any, needle: Any) -> int:
    """SQL function forge_contains: 1 when `needle` is in `value` ignoring case."""
    return int(value is not None and str(needle).casefold() in str(value).casefold())


def regexp(value: Any, pattern: Any) -> int:
    """SQL function forge_regexp: 1 when the (checked, length-capped) pattern matches in `value`."""
    return int(value is not None and _pattern(str(pattern)).search(str(value)) is not None)


def sql_functions() -> dict[str, Callable[[Any, Any], int]]:
    """The functions compiled SQL calls; the store registers them on every connection."""
    return {"forge_contains": contains, "forge_regexp": regexp}


def _compare(have: Any, op: str, want: Any) -> bool:
    if want is None:
        return (have is None) == (op == "=")
    if have is None:
        return False
    if op == "~":
        return bool(contains(have, want))
    if op == "=~":
        return bool(regexp(have, want))
    if isinstance(want, str):
        have = str(have)
    elif isinstance(have, str):
        return False  # SQL: a number sorts before any text, so only != holds; kept simple here
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: bool(a == b),
        "!=": lambda a, b: bool(a != b),
        "<": lambda a, b: bool(a < b),
        "<=": lambda a, b: bool(a <= b),
        ">": lambda a, b: bool(a > b),
        ">=": lambda a, b: bool(a >= b),
    }
    return ops[op](have, want)


def evaluate(expr: Expr, values: Mapping[str, Any]) -> bool:
    if isinstance(expr, Compare):
        key = f"slot:{expr.slot}" if expr.column.name == "slot" else expr.column.name
        return _compare(values.get(key), expr.op, expr.value)
    if isinstance(expr, Not):
        return not evaluate(expr.inner, values)
    if expr.op == "and":
        return all(evaluate(p, values) for p in expr.parts)
    return any(evaluate(p, values) for p in expr.parts)


# ---- SQL --------------------------------------------------------------------------------------------


def _to_sql(expr: Expr) -> tuple[str, list[Any]]:
    """Two-valued SQL (a NULL never reaches NOT), so SQL and evaluate() agree."""
    if isinstance(expr, Not):
        inner, params = _to_sql(expr.inner)
        return f"NOT ({inner})", params
    if isinstance(expr, BoolOp):
        fragments, params = [], list[Any]()
        for part in expr.parts:
            fragment, values = _to_sql(part)
            fragments.append(f"({fragment})")
            params += values
        return f" {expr.op.upper()} ".join(fragments), params
    column = expr.column.sql
    assert column is not None
    if expr.value is None:
        return f"{column} IS {'NULL' if expr.op == '=' else 'NOT NULL'}", []
    if expr.op == "~":
        return f"({column} IS NOT NULL AND forge_contains({column}, ?))", [expr.value]
    if expr.op == "=~":
        return f"({column} IS NOT NULL AND forge_regexp({column}, ?))", [expr.value]
    return f"({column} IS NOT NULL AND {column} {expr.op} ?)", [expr.value]


# ---- parsing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # word, string, number, op, lparen, rparen, end
    text: str
    pos: int  # 1-based


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            found.append(_Token("lparen" if ch == "(" else "rparen", ch, i + 1))
            i += 1
        elif ch in "'\"":
            end = text.find(ch, i + 1)
            if end < 0:
                raise FilterError(
                    _("Unclosed {quote} at {pos}: close the quoted value with {quote}.").format(quote=ch, pos=i + 1)
                )
            found.append(_Token("string", text[i + 1 : end], i + 1))
            i = end + 1
        elif op := next((o for o in OPERATORS if text.startswith(o, i)), None):
            found.append(_Token("op", op, i + 1))
            i += len(op)
        elif m := _NUMBER.match(text, i):
            found.append(_Token("number", m.group(), i + 1))
            i = m.end()
        elif m := _WORD.match(text, i):
            found.append(_Token("word", m.group(), i + 1))
            i = m.end()
        else:
            raise FilterError(
                _("Unexpected '{text}' at {pos}: write column operator value, e.g. score >= 7.").format(
                    text=ch, pos=i + 1
                )
            )
    found.append(_Token("end", "", len(text) + 1))
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "word" and self.tok.text.lower() == word:
            self.i += 1
            return True
        return False

    def expression(self) -> Expr:
        parts = [self.conjunction()]
        while self.keyword("or"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("or", tuple(parts))

    def conjunction(self) -> Expr:
        parts = [self.negation()]
        while self.keyword("and"):
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else BoolOp("and", tuple(parts))

    def negation(self) -> Expr:
        if self.keyword("not"):
            return Not(self.negation())
        if self.tok.kind == "lparen":
            opened = self.take()
            inner = self.expression()
            if self.tok.kind != "rparen":
                raise FilterError(
                    _("Missing ')' at {pos} for the '(' at {opened}.").format(pos=self.tok.pos, opened=opened.pos)
                )
            self.take()
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        tok = self.take()
        if tok.kind != "word" or tok.text.lower() in KEYWORDS:
            if not tok.text:
                raise FilterError(
                    _("Expected a column at {pos}, found 'the end': the columns are {columns}.").format(
                        pos=tok.pos, columns=COLUMN_NAMES
                    )
                )
            raise FilterError(
                _("Expected a column at {pos}, found '{text}': the columns are {columns}.").format(
                    pos=tok.pos, text=tok.text, columns=COLUMN_NAMES
                )
            )
        name, slot = tok.text.lower(), ""
        if name.startswith("slot:"):
            slot = tok.text[5:]
            if not slot:
                raise FilterError(_("A slot column needs a name at {pos}, e.g. slot:topic.").format(pos=tok.pos))
            column = Column("slot", "text", None)
        elif name in COLUMNS:
            column = COLUMNS[name]
        else:
            raise FilterError(
                _("Unknown column '{text}' at {pos}: the columns are {columns}.").format(
                    text=tok.text[:40], pos=tok.pos, columns=COLUMN_NAMES
                )
            )
        op = self.take()
        if op.kind != "op":
            raise FilterError(
                _("Expected an operator after '{column}' at {pos}: one of {operators}.").format(
                    column=column.name, pos=op.pos, operators=" ".join(OPERATORS)
                )
            )
        value = self.take()
        if value.kind not in ("word", "string", "number"):
            raise FilterError(_("Expected a value for '{column}' at {pos}.").format(column=column.name, pos=value.pos))
        return Compare(column, slot, op.text, _value(column, op, value))


def _value(column: Column, op: _Token, tok: _Token) -> str | float | int | None:
    where = {"column": column.name, "pos": tok.pos}
    if tok.kind == "word" and tok.text.lower() == NONE:
        if op.text not in ("=", "!="):
            raise FilterError(_("Only = and != compare '{column}' at {pos} with none.").format(**where))
        return None
    if op.text in ("~", "=~"):
        if column.kind not in ("text", "enum"):
            raise FilterError(_("{op} needs a text column, not '{column}' at {pos}.").format(op=op.text, **where))
        if op.text == "=~":
            if len(tok.text) > MAX_PATTERN:
                raise FilterError(
                    _("The pattern for '{column}' at {pos} is longer than {limit} characters.").format(
                        limit=MAX_PATTERN, **where
                    )
                )
            try:
                _pattern(tok.text)
            except re.error as exc:
                raise FilterError(
                    _("Bad regular expression for '{column}' at {pos}: {problem}.").format(problem=exc, **where)
                ) from None
        return tok.text
    if column.kind in ("enum", "kto"):
        if op.text not in ("=", "!="):
            raise FilterError(_("Only = and != compare '{column}' at {pos}.").format(**where))
        if column.kind == "kto":
            if tok.text.lower() not in _KTO:
                raise FilterError(
                    _("Unknown value '{text}' for '{column}' at {pos}: use desirable, undesirable or none.").format(
                        text=tok.text[:40], **where
                    )
                )
            return _KTO[tok.text.lower()]
        if tok.text.lower() not in column.values:
            raise FilterError(
                _("Unknown value '{text}' for '{column}' at {pos}: the values are {values}.").format(
                    text=tok.text[:40], values=", ".join(column.values), **where
                )
            )
        return tok.text.lower()
    if column.kind == "number":
        if tok.kind != "number":
            raise FilterError(
                _("'{column}' takes a number at {pos}, not '{text}'.").format(text=tok.text[:40], **where)
            )
        return float(tok.text) if "." in tok.text else int(tok.text)
    return tok.text


def parse(text: str) -> Filter:
    """Raises FilterError (one sentence with the position) for a bad expression."""
    if len(text) > MAX_EXPRESSION:
        raise FilterError(_("The expression is longer than {limit} characters.").format(limit=MAX_EXPRESSION))
    if not text.strip():
        raise FilterError(
            _("The expression is empty: write column operator value, e.g. score >= 7 ({columns}).").format(
                columns=COLUMN_NAMES
            )
        )
    parser = _Parser(text)
    expr = parser.expression()
    if parser.tok.kind != "end":
        raise FilterError(
            _("Unexpected '{text}' at {pos}: join comparisons with and/or.").format(
                text=parser.tok.text[:40], pos=parser.tok.pos
            )
        )
    return Filter(text, expr)
