"""Each built-in format writes exactly the shape of its published spec; import reads every shape
back; a Hypothesis property checks the round trip through the conversation formats."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.import_shapes import examples_from
from forge_tui.core.models import Example, ExampleContent, ExampleMeta

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def example(content: ExampleContent, tools: bool = False) -> Example:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    meta = ExampleMeta(model="llama3.2", params={"tools": TOOLS} if tools else {})
    return Example(id="e1", dataset_id=1, content=content, meta=meta, created_at=now, updated_at=now)


SIMPLE = example(
    ExampleContent(system_prompt="Be kind.", user_prompt="Hi?", output="Hello!", rejected=["Go away.", "No."])
)
TOOL = example(
    ExampleContent(user_prompt="Weather in Oslo?", tool_calls=[{"name": "get_weather", "arguments": {"city": "Oslo"}}]),
    tools=True,
)
OSLO = {"city": "Oslo"}
MULTI = example(
    ExampleContent(
        user_prompt="And tomorrow?",
        output="Rain.",
        turns=[
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
            },
            {"role": "tool", "content": '{"sky": "clear"}'},
            {"role": "assistant", "content": "Clear."},
            {"role": "user", "content": "And tomorrow?"},
        ],
    ),
    tools=True,
)


def render(name: str, ex: Example) -> list[dict[str, Any]]:
    return list(FORMATS[name].render(ex))


def test_openai_chat_with_tools_and_string_arguments() -> None:
    assert render("openai-chat", TOOL) == [
        {
            "messages": [
                {"role": "user", "content": "Weather in Oslo?"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                        }
                    ],
                },
            ],
            "tools": TOOLS,
        }
    ]
    (multi,) = render("openai-chat", MULTI)
    assert multi["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear"}'}
    assert [m["role"] for m in multi["messages"]] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    assert render("mlx-chat", TOOL) == render("openai-chat", TOOL)


def test_openai_preference_one_record_per_rejected_answer() -> None:
    records = render("openai-preference", SIMPLE)
    assert records[0] == {
        "input": {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi?"}]},
        "preferred_output": [{"role": "assistant", "content": "Hello!"}],
        "non_preferred_output": [{"role": "assistant", "content": "Go away."}],
    }
    assert [r["non_preferred_output"][0]["content"] for r in records] == ["Go away.", "No."]
    assert render("openai-preference", TOOL) == []


def test_trl_preference_conversational() -> None:
    assert render("trl-preference", SIMPLE)[1] == {
        "prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi?"}],
        "chosen": [{"role": "assistant", "content": "Hello!"}],
        "rejected": [{"role": "assistant", "content": "No."}],
    }


def test_mlx_completions_and_text() -> None:
    assert render("mlx-completions", SIMPLE) == [{"prompt": "Hi?", "completion": "Hello!"}]
    assert render("mlx-text", SIMPLE) == [{"text": "Hi?\n\nHello!"}]


def test_sharegpt_with_function_call_and_observation() -> None:
    (record,) = render("sharegpt", MULTI)
    assert record["conversations"] == [
        {"from": "human", "value": "Weather in Oslo?"},
        {"from": "function_call", "value": '{"name": "get_weather", "arguments": {"city": "Oslo"}}'},
        {"from": "observation", "value": '{"sky": "clear"}'},
        {"from": "gpt", "value": "Clear."},
        {"from": "human", "value": "And tomorrow?"},
        {"from": "gpt", "value": "Rain."},
    ]
    assert json.loads(record["tools"]) == [TOOLS[0]["function"]]
    assert render("sharegpt", SIMPLE)[0]["system"] == "Be kind."


def test_alpaca_with_system_and_history() -> None:
    assert render("alpaca", SIMPLE) == [{"instruction": "Hi?", "input": "", "output": "Hello!", "system": "Be kind."}]
    (record,) = render("alpaca", MULTI)
    assert record["history"] == [["Weather in Oslo?", "Clear."]]
    assert (record["instruction"], record["output"]) == ("And tomorrow?", "Rain.")


def test_inst_text_formats() -> None:
    assert render("llama2", SIMPLE) == [{"text": "<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi? [/INST] Hello! </s>"}]
    assert render("mistral", SIMPLE) == [{"text": "<s>[INST] Be kind.\n\nHi? [/INST]Hello!</s>"}]
    assert render("llama2", MULTI) == [
        {"text": "<s>[INST] Weather in Oslo? [/INST] Clear. </s><s>[INST] And tomorrow? [/INST] Rain. </s>"}
    ]


def test_raw_has_every_field() -> None:
    (record,) = render("raw", SIMPLE)
    assert record["rejected"] == ["Go away.", "No."] and record["model"] == "llama3.2" and record["id"] == "e1"


def back(name: str, ex: Example) -> list[ExampleContent]:
    return [content for record in render(name, ex) for content, _ in examples_from(record)]


def test_import_reads_back_what_export_writes() -> None:
    for name in ("openai-chat", "sharegpt"):
        (content,) = back(name, MULTI)
        assert content.turns[1]["tool_calls"][0]["arguments"] == {"city": "Oslo"}
        assert (content.user_prompt, content.output) == ("And tomorrow?", "Rain.")
    for name in ("openai-preference", "trl-preference"):
        assert [c.rejected for c in back(name, SIMPLE)] == [["Go away."], ["No."]]
        assert {(c.system_prompt, c.user_prompt, c.output) for c in back(name, SIMPLE)} == {
            ("Be kind.", "Hi?", "Hello!")
        }


TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)


@settings(max_examples=150, deadline=None)
@given(system=st.one_of(st.just(""), TEXT), user=TEXT, output=TEXT, rejected=st.lists(TEXT, max_size=2))
def test_round_trip_property(system: str, user: str, output: str, rejected: list[str]) -> None:
    content = ExampleContent(system_prompt=system, user_prompt=user, output=output, rejected=rejected)
    ex = example(content)
    for name in ("openai-chat", "sharegpt"):
        (again,) = back(name, ex)
        assert (again.system_prompt, again.user_prompt, again.output) == (system, user, output)
    for name in ("openai-preference", "trl-preference"):
        assert [c.rejected[0] for c in back(name, ex)] == rejected
