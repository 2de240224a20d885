"""Tool JSON typed in an editor: the shared prologue, tool definitions, and the calls built on it."""

from __future__ import annotations

import pytest

from forge_tui.core.templates import TemplateError
from forge_tui.core.tool_json import json_items, parse_tools, tools_text
from forge_tui.services.audition import parse_tool_calls

WEATHER = '{"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}'


@pytest.mark.parametrize(
    ("text", "items"),
    [("", []), ("  \n", []), ("[]", []), ('{"a": 1}', [{"a": 1}]), ("[1, 2]", [1, 2]), ("3", [3])],
)
def test_items_are_none_one_or_a_list(text: str, items: list[object]) -> None:
    assert json_items(text) == items


def test_a_syntax_error_names_its_line() -> None:
    with pytest.raises(TemplateError) as caught:
        json_items('[{"name": "x",\n  "parameters": {\n')
    assert caught.value.line == 3 and str(caught.value).startswith("line 3: ")


def test_tools_parse_one_or_many_and_read_back_what_they_show() -> None:
    assert parse_tools("") == []
    [tool] = parse_tools(WEATHER)
    assert tool.name == "get_weather"
    assert parse_tools(tools_text([tool])) == [tool]
    assert tools_text([]) == ""


def test_two_tools_of_one_name_are_refused() -> None:
    with pytest.raises(TemplateError, match="two tools are named 'get_weather'"):
        parse_tools(f"[{WEATHER}, {WEATHER}]")


def test_tool_calls_share_the_prologue() -> None:
    assert parse_tool_calls("") == []
    [call] = parse_tool_calls('{"name": "get_weather", "arguments": "{\\"city\\": \\"Oslo\\"}"}')
    assert (call.name, call.arguments) == ("get_weather", {"city": "Oslo"})
    with pytest.raises(TemplateError) as caught:
        parse_tool_calls("[\n{")
    assert caught.value.line == 2
    with pytest.raises(TemplateError, match="call 1: a call is an object"):
        parse_tool_calls("[1]")
