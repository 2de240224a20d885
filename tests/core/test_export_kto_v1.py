"""The trl-kto and llamafactory-v1 formats, written from TRL's "Dataset formats" (unpaired preference,
conversational) and LLaMA-Factory's v1 sample types (messages of typed parts, loss_weight, tools as
JSON text, chosen_messages / rejected_messages)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleContent, ExampleMeta

NOW = datetime(2026, 11, 23, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def example(content: ExampleContent, desirability: bool | None = None, tools: bool = False) -> Example:
    meta = ExampleMeta(model="m", desirability=desirability, params={"tools": TOOLS} if tools else {})
    return Example(id="e1", dataset_id=1, content=content, meta=meta, created_at=NOW, updated_at=NOW)


def records(name: str, ex: Example, reasoning: str | None = None) -> list[dict[str, Any]]:
    return list(FORMATS[name].records(ex, reasoning))


def test_trl_kto_writes_prompt_completion_label_from_desirability() -> None:
    content = ExampleContent(system_prompt="Be kind.", user_prompt="Hi?", output="Go away.", rejected=["x"])
    kto = FORMATS["trl-kto"]
    assert records("trl-kto", example(content, desirability=False)) == [
        {
            "prompt": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi?"}],
            "completion": [{"role": "assistant", "content": "Go away."}],
            "label": False,
        }
    ]
    assert records("trl-kto", example(content, desirability=True))[0]["label"] is True
    unlabelled = example(content)
    assert not kto.keeps(unlabelled) and records("trl-kto", unlabelled) == []
    assert kto.needs == "a desirability label" and kto.keeps(example(content, desirability=False))


def test_trl_kto_reasoning_is_think_tags_by_default_or_reasoning_content() -> None:
    ex = example(ExampleContent(user_prompt="2+2?", output="4", reasoning="Add."), desirability=True)
    assert records("trl-kto", ex)[0]["completion"] == [{"role": "assistant", "content": "<think>Add.</think>\n4"}]
    assert records("trl-kto", ex, "field")[0]["completion"] == [
        {"role": "assistant", "content": "4", "reasoning_content": "Add."}
    ]


REASONING_TOOL_USE = example(
    ExampleContent(
        system_prompt="You can look up the weather.",
        user_prompt="Thanks. And Bergen?",
        output="Rain in Bergen.",
        reasoning="Read the result.",
        tool_calls=[],
        turns=[
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": "",
                "reasoning": "I need the tool.",
                "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
            },
            {"role": "tool", "content": '{"sky": "clear"}'},
            {"role": "assistant", "content": "Clear in Oslo."},
            {"role": "user", "content": "Thanks. And Bergen?"},
        ],
        extra={"messages[6].loss_weight": 0.5, "messages[4].loss_weight": 0.25},
    ),
    tools=True,
)


def test_llamafactory_v1_parts_in_order_with_loss_weights_and_tools() -> None:
    (record,) = records("llamafactory-v1", REASONING_TOOL_USE)
    call = json.dumps({"name": "get_weather", "arguments": {"city": "Oslo"}})
    assert record == {
        "messages": [
            {
                "role": "system",
                "content": [{"type": "text", "value": "You can look up the weather."}],
                "loss_weight": 0.0,
            },
            {"role": "user", "content": [{"type": "text", "value": "Weather in Oslo?"}], "loss_weight": 0.0},
            {
                "role": "assistant",
                "content": [{"type": "reasoning", "value": "I need the tool."}, {"type": "tool_call", "value": call}],
                "loss_weight": 1.0,
            },
            {"role": "tool", "content": [{"type": "text", "value": '{"sky": "clear"}'}], "loss_weight": 0.0},
            {"role": "assistant", "content": [{"type": "text", "value": "Clear in Oslo."}], "loss_weight": 0.25},
            {"role": "user", "content": [{"type": "text", "value": "Thanks. And Bergen?"}], "loss_weight": 0.0},
            {
                "role": "assistant",
                "content": [
                    {"type": "reasoning", "value": "Read the result."},
                    {"type": "text", "value": "Rain in Bergen."},
                ],
                "loss_weight": 0.5,
            },
        ],
        "tools": json.dumps(TOOLS),
    }
    (tagged,) = records("llamafactory-v1", REASONING_TOOL_USE, "think-tags")
    assert tagged["messages"][-1]["content"] == [
        {"type": "text", "value": "<think>Read the result.</think>\nRain in Bergen."}
    ]
    assert all(part["type"] != "reasoning" for m in tagged["messages"] for part in m["content"])


def test_a_turn_keeps_its_own_loss_weight() -> None:
    content = REASONING_TOOL_USE.content
    turns = [*content.turns[:3], {**content.turns[3], "loss_weight": 0.75}, content.turns[4]]
    ex = example(content.model_copy(update={"turns": turns, "extra": {}}))
    assert [m["loss_weight"] for m in records("llamafactory-v1", ex)[0]["messages"]] == [0, 0, 1, 0, 0.75, 0, 1]


def test_llamafactory_v1_dpo_pairs_share_the_prompt() -> None:
    content = ExampleContent(
        user_prompt="Hi?",
        output="Hello!",
        reasoning="Be warm.",
        rejected=["Go away.", "No."],
        extra={"rejected_messages[1].loss_weight": 2.0},
    )
    pairs = records("llamafactory-v1-dpo", example(content))
    user = {"role": "user", "content": [{"type": "text", "value": "Hi?"}], "loss_weight": 0.0}
    assert pairs[1] == {
        "chosen_messages": [
            user,
            {
                "role": "assistant",
                "content": [{"type": "reasoning", "value": "Be warm."}, {"type": "text", "value": "Hello!"}],
                "loss_weight": 1.0,
            },
        ],
        "rejected_messages": [
            user,
            {"role": "assistant", "content": [{"type": "text", "value": "No."}], "loss_weight": 2.0},
        ],
    }
    assert len(pairs) == 2 and FORMATS["llamafactory-v1-dpo"].preference


@pytest.mark.skipif(not DATA.is_dir(), reason=f"the sample datasets are not at {DATA}")
def test_llamafactory_v1_writes_the_published_demo_lines_back() -> None:
    """Every line of LLaMA-Factory's v1_sft_demo.jsonl (user, then assistant, text parts only) is what
    the format writes for the same conversation."""
    for line in (DATA / "v1_sft_demo.jsonl").read_text(encoding="utf-8").splitlines():
        original = json.loads(line)
        user, answer = ("".join(p["value"] for p in m["content"]) for m in original["messages"])
        assert records("llamafactory-v1", example(ExampleContent(user_prompt=user, output=answer))) == [original]
