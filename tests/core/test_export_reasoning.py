"""Reasoning on export: each format's default, the three ways (drop, field, think-tags) and the
formats that have no field for it; custom formats see reasoning, extras and desirability."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from forge_tui.core.custom_formats import custom_format
from forge_tui.core.errors import InvalidInput
from forge_tui.core.export_formats import FORMATS, REASONING_MODES
from forge_tui.core.models import Example, ExampleContent, ExampleMeta

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def example(content: ExampleContent, desirability: bool | None = None) -> Example:
    meta = ExampleMeta(model="qwen3", desirability=desirability)
    return Example(id="e1", dataset_id=1, content=content, meta=meta, created_at=NOW, updated_at=NOW)


THINKING = example(
    ExampleContent(
        system_prompt="Be kind.",
        user_prompt="Hi?",
        output="Hello!",
        reasoning="They greet me.",
        rejected=["Go away."],
    ),
    desirability=True,
)
TURNS = example(
    ExampleContent(
        user_prompt="And 3+3?",
        output="6",
        reasoning="Add again.",
        turns=[
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning": "Add."},
            {"role": "user", "content": "And 3+3?"},
        ],
    )
)


def records(name: str, ex: Example, reasoning: str | None = None) -> list[dict[str, Any]]:
    return list(FORMATS[name].records(ex, reasoning))


def test_openai_chat_carries_reasoning_content_by_default() -> None:
    (record,) = records("openai-chat", TURNS)
    assert record["messages"] == [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Add."},
        {"role": "user", "content": "And 3+3?"},
        {"role": "assistant", "content": "6", "reasoning_content": "Add again."},
    ]
    (pair,) = records("openai-preference", THINKING)
    assert pair["preferred_output"] == [
        {"role": "assistant", "content": "Hello!", "reasoning_content": "They greet me."}
    ]
    assert pair["non_preferred_output"] == [{"role": "assistant", "content": "Go away."}]


def test_think_tags_go_before_each_answer_and_drop_leaves_none() -> None:
    (tagged,) = records("openai-chat", TURNS, "think-tags")
    assert [m["content"] for m in tagged["messages"] if m["role"] == "assistant"] == [
        "<think>Add.</think>\n4",
        "<think>Add again.</think>\n6",
    ]
    (dropped,) = records("openai-chat", TURNS, "drop")
    assert "reasoning" not in json.dumps(dropped) and "<think>" not in json.dumps(dropped)
    assert [m["content"] for m in dropped["messages"]] == ["2+2?", "4", "And 3+3?", "6"]


def test_each_format_has_its_default() -> None:
    defaults = {name: fmt.reasoning for name, fmt in FORMATS.items()}
    assert defaults == {
        "openai-chat": "field",
        "openai-preference": "field",
        "mlx-chat": "think-tags",
        "mlx-completions": "think-tags",
        "mlx-text": "think-tags",
        "sharegpt": "think-tags",
        "alpaca": "drop",
        "trl-preference": "think-tags",
        "trl-kto": "think-tags",
        "llamafactory-v1": "field",
        "llamafactory-v1-dpo": "field",
        "llama2": "think-tags",
        "mistral": "think-tags",
        "raw": "field",
    }
    assert records("mlx-text", THINKING) == [{"text": "Hi?\n\n<think>They greet me.</think>\nHello!"}]
    assert records("mlx-completions", THINKING) == [
        {"prompt": "Hi?", "completion": "<think>They greet me.</think>\nHello!"}
    ]
    assert records("alpaca", THINKING)[0]["output"] == "Hello!"
    assert records("alpaca", THINKING, "think-tags")[0]["output"] == "<think>They greet me.</think>\nHello!"
    assert records("mistral", TURNS)[0]["text"] == (
        "<s>[INST] 2+2? [/INST]<think>Add.</think>\n4</s>[INST] And 3+3? [/INST]<think>Add again.</think>\n6</s>"
    )
    conversations = records("sharegpt", TURNS)[0]["conversations"]
    assert conversations[-1] == {"from": "gpt", "value": "<think>Add again.</think>\n6"}
    (chosen,) = records("trl-preference", THINKING)
    assert chosen["chosen"] == [{"role": "assistant", "content": "<think>They greet me.</think>\nHello!"}]
    (field,) = records("trl-preference", THINKING, "field")
    assert field["chosen"] == [{"role": "assistant", "content": "Hello!", "reasoning_content": "They greet me."}]


def test_a_format_without_a_field_refuses_it_in_a_sentence() -> None:
    for name, fmt in FORMATS.items():
        assert fmt.reasoning in fmt.reasoning_modes and set(fmt.reasoning_modes) <= set(REASONING_MODES), name
    without = {name for name, fmt in FORMATS.items() if "field" not in fmt.reasoning_modes}
    assert without == {"mlx-completions", "mlx-text", "sharegpt", "alpaca", "llama2", "mistral"}
    with pytest.raises(
        InvalidInput, match=r"^The mlx-text format has no field for reasoning: choose think-tags or drop\.$"
    ):
        FORMATS["mlx-text"].reasoning_mode("field")
    with pytest.raises(InvalidInput, match=r"^Reasoning is written as drop, field or think-tags, not 'tags'\.$"):
        FORMATS["openai-chat"].reasoning_mode("tags")
    assert FORMATS["alpaca"].reasoning_mode(None) == "drop"


def test_an_example_without_reasoning_is_the_same_every_way() -> None:
    plain = example(ExampleContent(user_prompt="Hi?", output="Hello!"))
    for name, fmt in FORMATS.items():
        written = {mode: list(fmt.records(plain, mode)) for mode in fmt.reasoning_modes}
        assert len({json.dumps(r, sort_keys=True) for r in written.values()}) == 1, name


def test_custom_formats_see_reasoning_extras_and_desirability() -> None:
    body = (
        '{"r": {{ example.reasoning | tojson }}, "img": {{ example.extra.images | tojson }}, '
        '"good": {{ example.meta.desirability | tojson }}, "also": {{ example.desirability | tojson }}, '
        '"rc": {{ messages[-1].reasoning_content | tojson }}, "out": {{ example.output | tojson }}}'
    )
    fmt = custom_format("mine", body)
    content = THINKING.content.model_copy(update={"extra": {"images": ["a.png"]}})
    ex = THINKING.model_copy(update={"content": content})
    assert list(fmt.records(ex)) == [
        {"r": "They greet me.", "img": ["a.png"], "good": True, "also": True, "rc": "They greet me.", "out": "Hello!"}
    ]
    fmt_think = list(custom_format("mine", '{"out": {{ example.output | tojson }}}').records(ex, "think-tags"))
    assert fmt_think == [{"out": "<think>They greet me.</think>\nHello!"}]
