"""Templates as TOML and JSON files: round trips, and clear messages for bad files."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_tui.core import template_files
from forge_tui.core.starters import starter_templates
from forge_tui.core.templates import SlotDef, TemplateError, TemplateInfo, WeightedValue


@pytest.mark.parametrize("file_type", ["toml", "json"])
def test_every_starter_round_trips(file_type: str) -> None:
    for starter in starter_templates():
        text = template_files.dump(starter, file_type)
        assert template_files.parse(text, file_type) == starter


def test_toml_is_readable_with_multiline_prompts() -> None:
    weather = next(t for t in starter_templates() if t.is_tool_calling)
    multi = weather.model_copy(update={"user_prompt": "Line one {{ city }}\nLine two {{ when }}\n"})
    text = template_files.dump(multi, "toml")
    assert 'name = "Tool call: weather"' in text
    assert '"""' in text and "Line two {{ when }}" in text  # a multi-line string, not "\n" escapes
    assert "[[slots]]" in text and "[[tools]]" in text
    assert template_files.parse(text, "toml") == multi


printable = st.text(st.characters(exclude_categories=["Cs", "Cc"]), max_size=30)
values = st.lists(
    st.builds(WeightedValue, value=printable, weight=st.floats(0, 100, allow_nan=False)),
    max_size=3,
)
slot_names = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)


@given(
    name=printable.filter(lambda n: " ".join(n.split()) == n and n),
    system=st.text(st.characters(exclude_categories=["Cs"], exclude_characters="{}%#\r"), max_size=60),
    slots=st.lists(
        st.builds(SlotDef, name=slot_names, description=printable, default=printable, values=values),
        max_size=3,
        unique_by=lambda s: s.name,
    ),
    file_type=st.sampled_from(["toml", "json"]),
)
def test_any_template_round_trips(name: str, system: str, slots: list[SlotDef], file_type: str) -> None:
    template = TemplateInfo(
        name=name, system_prompt=system, user_prompt=" ".join("{{ " + s.name + " }}" for s in slots), slots=slots
    )
    assert template_files.parse(template_files.dump(template, file_type), file_type) == template


@pytest.mark.parametrize(
    ("text", "file_type", "message"),
    [
        ('{"name": "x",\n "user_prompt": "hi",\n', "json", "line 3: not valid JSON"),
        ('name = "x"\nuser_prompt = \n', "toml", "not valid TOML.*line 2"),
        ('user_prompt = "hi"\n', "toml", "needs a name"),
        ('name = "x"\nuser_prompt = "{{ a"\n', "toml", "user prompt"),
        ('name = "x"\ncolour = "red"\n', "toml", r"unknown keys \['colour'\]"),
        ('name = "x"\n[[slots]]\nname = "has space"\n', "toml", "slot 1: name: a slot name is"),
        ('name = "x"\n[[slots]]\nname = "a"\n[[slots]]\nname = "a"\n', "toml", "two slots are named 'a'"),
        ('name = "x"\ntool_calling = true\n', "toml", "needs at least one tool"),
        ('{"name": "x", "tools": [{"name": "t", "parameters": {"type": "array"}}]}', "json", "tool 1: .*object"),
        ("[1, 2]", "json", "holds one object"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, file_type: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        template_files.parse(text, file_type)


def test_file_type_comes_from_the_extension_else_the_content() -> None:
    assert template_files.file_type_of("a.JSON", "") == "json"
    assert template_files.file_type_of("a.toml", "{") == "toml"
    assert template_files.file_type_of("template", '  {"name": "x"}') == "json"
    assert template_files.file_type_of("template", 'name = "x"') == "toml"


def test_a_schema_with_null_cannot_be_toml_and_says_to_use_json() -> None:
    weather = next(t for t in starter_templates() if t.is_tool_calling)
    tool = weather.tools[0].model_copy(
        update={"parameters": {"type": "object", "properties": {"x": {"type": ["string", "null"], "default": None}}}}
    )
    nullable = weather.model_copy(update={"tools": [tool]})
    with pytest.raises(TemplateError, match=r"export it as \.json"):
        template_files.dump(nullable, "toml")
    assert template_files.parse(template_files.dump(nullable, "json"), "json") == nullable
