"""Template rendering in the sandbox, slot extraction, tool schemas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_tui.core.templates import (
    SlotDef,
    TemplateError,
    TemplateInfo,
    TemplateSecurityError,
    check_tool,
    check_tool_arguments,
    dummy_values,
    render,
    slot_names,
    slot_warnings,
)


def test_slots_come_from_the_ast_in_order_of_use() -> None:
    source = "Write a {{ tone }} answer about {{ topic | upper }}.{% if extra %} {{ extra }}{% endif %} {{ tone }}"
    assert slot_names(source) == ["tone", "topic", "extra"]
    # Loop variables and names set inside the template are not slots; text that looks like one is not either.
    assert slot_names("{% for item in items %}{{ item }}{% endfor %}{% set x = 1 %}{{ x }} {{ '{{ fake }}' }}") == [
        "items"
    ]


def test_render_and_missing_slot() -> None:
    assert render("Hi {{ name }}!", {"name": "Bo"}) == "Hi Bo!"
    with pytest.raises(TemplateError, match="slot 'topic' has no value") as info:
        render("line one\nabout {{ topic }}", {})
    assert info.value.line == 2


def test_syntax_errors_name_the_line() -> None:
    with pytest.raises(TemplateError) as info:
        render("ok\n{% if %}", {})
    assert info.value.line == 2 and "line 2" in str(info.value)


def test_an_unknown_filter_is_a_template_error_naming_the_line() -> None:
    template = TemplateInfo(name="t", user_prompt="fine\n{{ topic | nonsense }}")
    with pytest.raises(TemplateError, match="nonsense") as info:
        template.check()
    assert info.value.line == 2 and "user prompt" in str(info.value)
    with pytest.raises(TemplateError, match="No filter named 'nonsense'"):
        slot_names("{{ x | nonsense }}")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ joiner.__init__.__globals__.os }}",
        "{{ lipsum.__globals__['os'].popen('id').read() }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ value.__class__.__base__.__subclasses__() }}",
        "{% set x = [].append(1) %}",
    ],
)
def test_template_injection_is_refused(payload: str) -> None:
    with pytest.raises(TemplateSecurityError, match="not allowed in a template"):
        render(payload, {"value": "v"})


def test_reaching_through_methods_is_refused_too() -> None:
    with pytest.raises(TemplateError, match="has no attribute '__self__'"):
        render("{{ ''.format.__self__ }}", {})


def test_warnings_for_undefined_and_unused_slots() -> None:
    slots = [SlotDef(name="topic"), SlotDef(name="unused")]
    assert slot_warnings("{{ topic }} {{ tone }}", slots) == [
        "'tone' is used in the prompt but not defined as a slot",
        "slot 'unused' is defined but not used in the prompt",
    ]


def test_dummy_values_use_defaults_else_placeholders() -> None:
    slots = [SlotDef(name="topic", default="tea")]
    assert dummy_values(slots, ["topic", "tone"]) == {"topic": "tea", "tone": "<tone>"}


def test_slot_names_are_checked() -> None:
    with pytest.raises(ValueError):
        SlotDef(name="has space")


slot_name = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n not in {"range", "dict", "lipsum", "cycler", "joiner", "namespace", "loop", "self", "true", "false",
                        "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else"}
)  # fmt: skip
slot_value = st.text(min_size=1, max_size=40).filter(lambda v: "\r" not in v)


@given(
    st.lists(st.tuples(st.text(alphabet="abc .,!\n", max_size=12), slot_name), min_size=1, max_size=5),
    st.data(),
)
def test_any_values_render_into_a_valid_template(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    source = "".join(f"{text}{{{{ {name} }}}}" for text, name in parts)
    names = slot_names(source)
    values = {name: data.draw(slot_value, label=name) for name in names}
    rendered = render(source, values)
    for value in values.values():
        assert value in rendered


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}


def test_tool_schemas_are_checked() -> None:
    tool = check_tool(WEATHER)
    assert tool.name == "get_weather" and tool.parameters["required"] == ["city"]
    assert check_tool_arguments(tool, {"city": "Oslo"}) == []
    assert sorted(check_tool_arguments(tool, {"unit": "k"})) == [
        "arguments: 'city' is a required property",
        "unit: 'k' is not one of ['c', 'f']",
    ]
    bad = [
        ({"name": "has space"}, "needs a name"),
        ({"name": "t", "parameters": {"type": "array"}}, 'type": "object"'),
        ({"name": "t", "parameters": {"type": "object", "properties": {"a": {"type": "strng"}}}}, "properties/a/type"),
        ({"name": "t", "parameters": {"type": "object", "properties": {}, "required": ["a"]}}, "not among"),
        ([], "a tool is a JSON object"),
    ]
    for raw, message in bad:
        with pytest.raises(TemplateError, match=message):
            check_tool(raw)
