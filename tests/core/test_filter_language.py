"""The filter language: grammar, precedence, every operator, bad expressions, and SQL against the in-memory test."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.filter_language import (
    MAX_PATTERN,
    BoolOp,
    Compare,
    FilterError,
    Not,
    evaluate,
    parse,
    sql_functions,
    values_of,
)
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState


def example(**meta: Any) -> Example:
    slots = meta.pop("slots", {"topic": "physics"})
    output = meta.pop("output", "The answer is 42.")
    content = ExampleContent(user_prompt="What is it?", output=output, slots=slots, rejected=["no"])
    return Example(
        id="e1",
        dataset_id=1,
        content=content,
        meta=ExampleMeta(**meta),
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        updated_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
    )


def test_and_binds_tighter_than_or_and_parentheses_group() -> None:
    expr = parse("score >= 7 or review = accepted and model = 'a'").expr
    assert isinstance(expr, BoolOp) and expr.op == "or"
    assert isinstance(expr.parts[1], BoolOp) and expr.parts[1].op == "and"
    grouped = parse("(score >= 7 or review = accepted) and not model = a").expr
    assert isinstance(grouped, BoolOp) and grouped.op == "and"
    assert isinstance(grouped.parts[0], BoolOp) and isinstance(grouped.parts[1], Not)


def test_the_issue_example_parses_and_matches() -> None:
    wanted = parse("score>=7 and review!=rejected and model=~'qwen'")
    assert wanted.matches(example(score=8, review=ReviewState.UNREVIEWED, model="Qwen2.5:7b"))
    assert not wanted.matches(example(score=8, review=ReviewState.REJECTED, model="qwen2.5"))
    assert not wanted.matches(example(score=6.5, model="qwen2.5"))
    assert not wanted.matches(example(score=None, model="qwen2.5"))


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("score = 7", True),
        ("score != 7", False),
        ("score < 7.5", True),
        ("score <= 7", True),
        ("score > 7", False),
        ("score >= 7", True),
        ("model ~ LLAMA", True),
        ("model =~ '^llama3\\.\\d'", True),
        ("model =~ '^qwen'", False),
        ('answer ~ "answer is"', True),
        ("prompt =~ 'what'", True),
        ("slot:topic = physics", True),
        ("slot:topic = Physics", False),
        ("slot:missing = none", True),
        ("slot:missing != x", False),
        ("kto = desirable", True),
        ("kto = undesirable", False),
        ("flag = none", True),
        ("flag != none", False),
        ("tokens >= 100", True),
        ("prompt_tokens = none", True),
        ("rejected = 1", True),
        ("created >= '2026-03-01'", True),
        ("created < '2026-03-01'", False),
        ("source = import", True),
        ("not source = import", False),
        ("review = accepted", True),
    ],
)
def test_every_operator_and_column(text: str, taken: bool) -> None:
    chosen = example(
        score=7, model="llama3.2:1b", desirability=True, completion_tokens=120, source=ExampleSource.IMPORT
    )
    assert parse(text).matches(chosen) is taken


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("scroe >= 7", "Unknown column 'scroe' at 1: the columns are score, review"),
        ("score >= 7 and modle = x", "Unknown column 'modle' at 16"),
        ("score >= high", "'score' takes a number at 10, not 'high'."),
        ("review = maybe", "Unknown value 'maybe' for 'review' at 10: the values are accepted, unreviewed, rejected."),
        ("score 7", "Expected an operator after 'score' at 7"),
        ("(score >= 7", "Missing ')' at 12 for the '(' at 1."),
        ("score >= 7 model = a", "Unexpected 'model' at 12: join comparisons with and/or."),
        ("model = 'qwen", "Unclosed ' at 9"),
        ("model =~ '('", "Bad regular expression for 'model' at 10"),
        ("score < none", "Only = and != compare 'score' at 9 with none."),
        ("review < accepted", "Only = and != compare 'review' at 10."),
        ("score ~ 7", "~ needs a text column, not 'score' at 9."),
        ("", "The expression is empty"),
        ("score >= 7 and", "Expected a column at 15, found 'the end'"),
        ("slot: = a", "A slot column needs a name at 1"),
        ("score # 7", "Unexpected '#' at 7"),
    ],
)
def test_bad_expressions_name_the_position_and_column(text: str, message: str) -> None:
    with pytest.raises(FilterError) as raised:
        parse(text)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 300


def test_a_long_pattern_is_refused() -> None:
    with pytest.raises(FilterError, match="longer than"):
        parse(f"model =~ '{'a' * (MAX_PATTERN + 1)}'")


def test_content_columns_stay_out_of_sql() -> None:
    wanted = parse("score >= 7 and answer ~ sorry and (model = a or prompt ~ b)")
    assert wanted.needs_content
    sql, params = wanted.sql()
    assert "score" in sql and "model" not in sql and params == (7,)
    assert not parse("score >= 7 or review = accepted").needs_content


# ---- SQL and the in-memory test agree ----------------------------------------------------------------

_PLAIN_ROW = ("score", "review", "source", "model", "kto", "flag", "tokens", "prompt_tokens", "rejected", "created")
_SQL_NAMES = (
    "score", "review", "source", "model", "desirability", "language_flag", "completion_tokens", "prompt_tokens",
    "rejected_count", "created_at",
)  # fmt: skip
_text = st.text(alphabet="abcQWEN.:-_ 7é", max_size=6)
_rows = st.fixed_dictionaries(
    {
        "score": st.none() | st.floats(1, 10).map(lambda f: round(f, 1)),
        "review": st.sampled_from([s.value for s in ReviewState]),
        "source": st.sampled_from([s.value for s in ExampleSource]),
        "model": _text,
        "kto": st.sampled_from([None, 0, 1]),
        "flag": st.none() | _text,
        "tokens": st.none() | st.integers(0, 50),
        "prompt_tokens": st.none() | st.integers(0, 50),
        "rejected": st.integers(0, 3),
        "created": st.sampled_from(["2026-01-01 00:00:00.000000", "2026-06-01 10:00:00.000000"]),
    }
)
_word = st.text(alphabet="abcqwen7é", min_size=1, max_size=4)
_comparisons = st.one_of(
    st.builds(lambda op, v: f"score {op} {v}", st.sampled_from(["=", "!=", "<", "<=", ">", ">="]), st.integers(1, 10)),
    st.builds(lambda op, v: f"score {op} none", st.sampled_from(["=", "!="]), st.none()),
    st.builds(lambda op, v: f"review {op} {v}", st.sampled_from(["=", "!="]), st.sampled_from(list(ReviewState))),
    st.builds(lambda op, v: f"source {op} {v}", st.sampled_from(["=", "!="]), st.sampled_from(list(ExampleSource))),
    st.builds(lambda op, v: f"model {op} '{v}'", st.sampled_from(["=", "!=", "<", ">=", "~", "=~"]), _word),
    st.builds(lambda op, v: f"flag {op} '{v}'", st.sampled_from(["=", "!=", "~"]), _word),
    st.builds(lambda op: f"flag {op} none", st.sampled_from(["=", "!="])),
    st.builds(lambda v: f"kto = {v}", st.sampled_from(["desirable", "undesirable", "none"])),
    st.builds(lambda op, v: f"tokens {op} {v}", st.sampled_from(["<", ">=", "="]), st.integers(0, 50)),
    st.builds(lambda op, v: f"rejected {op} {v}", st.sampled_from(["<", "!="]), st.integers(0, 3)),
    st.builds(lambda v: f"created >= '{v}'", st.sampled_from(["2026-01-01", "2026-03"])),
)
_expressions = st.recursive(
    _comparisons,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a}) and ({b})", inner, inner),
        st.builds(lambda a, b: f"{a} or {b}", inner, inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=6,
)


def _table(rows: list[dict[str, Any]]) -> sqlite3.Connection:
    connection = sqlite3.connect(":memory:")
    for name, function in sql_functions().items():
        connection.create_function(name, 2, function, deterministic=True)
    connection.execute(f"CREATE TABLE example (i INTEGER, {', '.join(_SQL_NAMES)})")
    connection.executemany(
        f"INSERT INTO example VALUES (?, {', '.join('?' * len(_SQL_NAMES))})",
        [(i, *(row[name] for name in _PLAIN_ROW)) for i, row in enumerate(rows)],
    )
    return connection


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(_rows, max_size=8), text=_expressions)
def test_sql_and_memory_agree(rows: list[dict[str, Any]], text: str) -> None:
    wanted = parse(text)
    sql, params = wanted.sql()
    connection = _table(rows)
    by_sql = [i for (i,) in connection.execute(f"SELECT i FROM example WHERE 1{sql} ORDER BY i", params)]
    assert by_sql == [i for i, row in enumerate(rows) if evaluate(wanted.expr, row)]


def test_values_of_names_every_column() -> None:
    values = values_of(example(score=3, completion_tokens=5))
    assert set(_PLAIN_ROW) <= set(values) and values["slot:topic"] == "physics" and values["rejected"] == 1
    assert isinstance(parse("slot:topic = a").expr, Compare)
