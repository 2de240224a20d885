"""The sandbox's limits: hostile templates are refused quickly, with the limit named; ordinary ones
still render."""

from __future__ import annotations

import time

import pytest

from forge_tui.core import sandbox
from forge_tui.core.custom_formats import checked_format
from forge_tui.core.templates import SlotDef, TemplateError, TemplateInfo, TemplateLimitError, compile_source, render

# The three templates of the report: each hung the app or took a gigabyte.
LIPSUM = "{{ lipsum(n=10**6) }}"
POWER = "{{ (9 ** (9 ** 8)) % 7 }}"
REPEAT = "{{ 'x' * 10**9 }}"

SIZE = "limit of 1,000,000 characters or items"
STEPS = "limit of 100,000 loop steps and calls"


def refused(source: str, values: dict[str, str] | None = None) -> str:
    """The limit error's message, after checking it came within a second."""
    started = time.monotonic()
    with pytest.raises(TemplateLimitError) as info:
        render(source, values or {})
    assert time.monotonic() - started < 1.0
    return str(info.value)


def test_the_three_reported_templates_are_refused_quickly_with_the_limit_named() -> None:
    assert "lipsum() is not available in templates" in refused(LIPSUM)
    assert "limit of 1,000 digits" in refused(POWER)
    assert SIZE in refused(REPEAT)


def test_compiling_runs_no_template_arithmetic() -> None:
    # Jinja folds constant expressions while it compiles: `9 ** (9 ** 8)` took minutes there.
    for source in (POWER, REPEAT, "{{ 'x' | center(1000000000) }}", "{{ '%0999999999d' % 1 }}"):
        started = time.monotonic()
        compile_source(source)
        assert time.monotonic() - started < 0.5, source


@pytest.mark.parametrize(
    ("source", "limit"),
    [
        ("{{ 'x' | center(1000000000) }}", SIZE),
        ("{{ '%0999999999d' % 1 }}", SIZE),
        ("{{ '{:>999999999}'.format(1) }}", SIZE),
        ("{{ ('\t' * 100000).expandtabs(1000000) }}", SIZE),
        ("{{ ('a' * 1000) | replace('a', 'b' * 10000) }}", SIZE),
        ("{{ [[1, 2], [3]] | tojson(indent=1000000) }}", SIZE),
        ("{{ [1] * 10**7 }}", SIZE),
        # Doubling a text until it fills memory: in a namespace, through a macro, with `~`.
        (
            "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
            SIZE,
        ),
        ("{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ d('x', 40) }}", SIZE),
        ("{% set a = s ~ s %}{% set b = a ~ a %}{% set c = b ~ b %}{{ c | length }}", SIZE),
        ("{% for i in range(1000) %}{{ s }}{% endfor %}", "wrote more than the limit of 1,000,000 characters"),
        ("{% for i in range(100000) %}" + "x" * 100 + "{% endfor %}", "wrote more than the limit"),
        ("{{ 10 ** 5000 }}", "limit of 1,000 digits"),
        ("{{ range(10**9) | list }}", "range() is limited to 100,000 numbers"),
        ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", STEPS),
        ("{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}", STEPS),
    ],
)
def test_limits(source: str, limit: str) -> None:
    assert limit in refused(source, {"s": "y" * 400_000})


def test_the_steps_of_a_recursive_loop_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "STEP_LIMIT", 1_000)  # each step of a recursive loop is slow: fewer of them
    tree = "{% for x in [1] recursive %}{% if loop.depth < 50 %}{{ loop([1, 2, 3, 4]) }}{% endif %}{% endfor %}"
    assert "limit of 1,000 loop steps" in refused(tree)


def test_a_slow_render_stops_at_its_time_limit() -> None:
    slow = "{% for i in range(100000) %}{{ (s * 100) | length }}{% endfor %}"
    started = time.monotonic()
    with sandbox.time_limit(0.3), pytest.raises(TemplateLimitError, match=r"time limit of 0\.3 s"):
        render(slow, {"s": "y" * 9_000})
    assert time.monotonic() - started < 1.5


def test_a_render_stops_when_asked() -> None:
    with sandbox.time_limit(60, stop=lambda: True), pytest.raises(TemplateError, match="stopped"):
        render("{% for i in range(10) %}{{ i }}{% endfor %}", {})


def test_ordinary_templates_still_render() -> None:
    source = (
        "{% for x in items %}{{ loop.index }}:{{ x | upper }}{{ ', ' if not loop.last }}{% endfor %}|"
        "{{ 'a' ~ 1 ~ name }}|{{ '%5d' % 3 }}|{{ '{:>4}'.format('b') }}|{{ 2 ** 10 }}|{{ 'ab' * 3 }}|"
        "{{ items | map('upper') | join('-') }}|{{ [1, 2] | tojson }}|{{ 'x' | center(5) }}|"
        "{% for x in [1, [2, [3]]] recursive %}{% if x is iterable %}{{ loop(x) }}{% else %}{{ x }}{% endif %}"
        "{% endfor %}|{% set ns = namespace(n=0) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}"
        "{{ ns.n }}|{{ dict(a=1) | tojson }}|{{ cycler('p', 'q').next() }}"
    )
    assert render(source, {"items": ["a", "b"], "name": "n"}) == (
        '1:A, 2:B|a1n|    3|   b|1024|ababab|A-B|[1, 2]|  x  |123|6|{"a": 1}|p'
    )


def test_saving_refuses_a_template_that_passes_a_limit_with_its_preview_values() -> None:
    for source in (LIPSUM, POWER, REPEAT):
        with pytest.raises(TemplateLimitError, match="user prompt"):
            TemplateInfo(name="t", user_prompt=source).check()
    with pytest.raises(TemplateLimitError, match="system prompt: line 2"):
        TemplateInfo(name="t", system_prompt="ok\n" + REPEAT, user_prompt="hi").check()
    # The slot's default is what the check renders with.
    slot = SlotDef(name="n", default="1000000000")
    with pytest.raises(TemplateLimitError):
        TemplateInfo(name="t", user_prompt="{{ 'x' * (n | int) }}", slots=[slot]).check()
    # Other render errors may depend on real values: they do not stop a save.
    TemplateInfo(name="t", user_prompt="{{ data.field }} {{ 1 / (n | int) }}").check()


def test_a_custom_format_that_passes_a_limit_is_refused_when_checked() -> None:
    for body in (LIPSUM, POWER, REPEAT, '{"q": {{ (example.user_prompt * 10**7) | tojson }}}'):
        started = time.monotonic()
        with pytest.raises(TemplateLimitError):
            checked_format("f", body)
        assert time.monotonic() - started < 1.0
    checked_format("f", '{"q": {{ example.user_prompt | tojson }}}')
    checked_format("f", "{{ example.missing.field }}")  # depends on the data: left to the export


def test_deep_nesting_and_recursion_are_a_sentence() -> None:
    with pytest.raises(TemplateError, match="the template calls itself too deeply"):
        render("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", {})
    with pytest.raises(TemplateError, match="the template nests too deeply"):
        render("{{ " + "(" * 500 + "1" + ")" * 500 + " }}", {})
