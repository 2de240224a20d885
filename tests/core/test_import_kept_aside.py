"""Import parsing loses nothing (issue 14): fields no shape maps are kept in `extra`, KTO labels become
desirability, reasoning comes from `reasoning_content`, `<think>` and LLaMA-Factory v1 parts, and v1
records (tool_call parts, chosen/rejected_messages) import whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.import_shapes import Mapping, ShapeError, parse
from forge_tui.core.kept_aside import summary_name

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "issue14"

# One record of every shape, each with a field no shape maps.
SHAPED: dict[str, dict[str, Any]] = {
    "openai-chat": {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    "llamafactory-v1": {
        "messages": [
            {"role": "user", "content": [{"type": "text", "value": "q"}]},
            {"role": "assistant", "content": [{"type": "text", "value": "a"}]},
        ]
    },
    "llamafactory-v1-preference": {
        "chosen_messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "good"}],
        "rejected_messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "bad"}],
    },
    "openai-preference": {
        "input": {"messages": [{"role": "user", "content": "q"}]},
        "preferred_output": [{"role": "assistant", "content": "good"}],
        "non_preferred_output": [{"role": "assistant", "content": "bad"}],
    },
    "sharegpt": {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "system": "s"},
    "sharegpt-preference": {
        "conversations": [{"from": "human", "value": "q"}],
        "chosen": {"from": "gpt", "value": "good"},
        "rejected": {"from": "gpt", "value": "bad"},
    },
    "trl-preference": {"prompt": "q", "chosen": "good", "rejected": "bad"},
    "alpaca": {"instruction": "i", "input": "x", "output": "a", "system": "s", "history": [["q0", "a0"]]},
    "alpaca-preference": {"instruction": "i", "input": "", "chosen": "good", "rejected": "bad"},
    "alpaca-seed-task": {"instruction": "i", "instances": [{"input": "x", "output": "a"}]},
    "prompt-completion": {"prompt": "q", "completion": "a"},
    "text": {"text": "a document"},
    "raw": {"system_prompt": "", "user_prompt": "q", "output": "a"},
}
KNOWN = {
    "messages", "tools", "model", "input", "preferred_output", "non_preferred_output", "chosen_messages",
    "rejected_messages", "conversations", "system", "chosen", "rejected", "prompt", "completion", "text",
    "instruction", "output", "history", "instances", "label", "kto_tag", "system_prompt", "user_prompt", "slots",
    "tool_calls", "turns", "reasoning", "params", "prompt_tokens", "completion_tokens", "desirability", "id",
    "created_at", "updated_at", "extra",
}  # fmt: skip


@pytest.mark.parametrize("shape", list(SHAPED))
def test_every_shape_keeps_a_field_it_does_not_map(shape: str) -> None:
    record = {**SHAPED[shape], "images": ["a.jpg"], "source": {"site": "x", "n": 3}}
    parsed = parse(record)
    assert parsed.shape == {"alpaca-seed-task": "alpaca", "sharegpt-preference": "sharegpt"}.get(shape, shape)
    assert parsed.items
    for content, _ in parsed.items:
        assert content.extra["images"] == ["a.jpg"] and content.extra["source"] == {"site": "x", "n": 3}
        assert set(content.extra) == {"images", "source"}, shape  # and nothing the shape mapped


def test_mapped_records_keep_the_fields_not_mapped() -> None:
    items = parse({"q": "Why?", "a": "Because.", "lang": "en"}, Mapping.parse("user_prompt=q,output=a")).items
    assert [(c.user_prompt, c.output, c.extra) for c, _ in items] == [("Why?", "Because.", {"lang": "en"})]


def test_message_level_fields_are_kept_by_path() -> None:
    record = {
        "messages": [
            {"role": "system", "content": "be brief", "loss_weight": 0.0},
            {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url", "image_url": "x"}],
             "name": "ann"},
            {"role": "assistant", "content": "a cat", "weight": 1, "loss_weight": 1.0},
        ]
    }  # fmt: skip
    ((content, _),) = parse(record).items
    assert (content.system_prompt, content.user_prompt, content.output) == ("be brief", "look", "a cat")
    assert content.extra == {
        "messages[0].loss_weight": 0.0,
        "messages[1].content[1]": {"type": "image_url", "image_url": "x"},
        "messages[1].name": "ann",
        "messages[2].weight": 1,
        "messages[2].loss_weight": 1.0,
    }
    assert summary_name("messages[2].loss_weight") == "messages[].loss_weight"
    sharegpt = {"conversations": [{"from": "human", "value": "q", "lang": "en"}, {"from": "gpt", "value": "a"}]}
    assert parse(sharegpt).items[0][0].extra == {"conversations[0].lang": "en"}
    seeds = {"instruction": "i", "instances": [{"input": "x", "output": "a", "note": 1}, {"input": "y", "output": "b"}],
             "id": "seed_1"}  # fmt: skip
    assert [c.extra for c, _ in parse(seeds).items] == [{"id": "seed_1", "instances[0].note": 1}, {"id": "seed_1"}]


@pytest.mark.parametrize(
    ("label", "expected"),
    [(True, True), (False, False), ("true", True), ("False", False), (" TRUE ", True)],
)
def test_kto_label_and_tag_become_desirability(label: Any, expected: bool) -> None:
    for record in (
        {"prompt": "The sky is", "completion": " blue.", "label": label},  # TRL unpaired preference
        {"instruction": "i", "input": "", "output": "o", "kto_tag": label},  # LLaMA-Factory, Alpaca style
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "label": label},
        {"prompt": [{"role": "user", "content": "q"}], "completion": [{"role": "assistant", "content": "a"}],
         "label": label},
    ):  # fmt: skip
        ((content, meta),) = parse(record).items
        assert meta.desirability is expected and content.extra == {}


def test_a_label_that_is_not_true_or_false_is_kept_aside() -> None:
    ((content, meta),) = parse({"text": "great film", "label": "positive"}).items
    assert meta.desirability is None and content.extra == {"label": "positive"}
    ((content, meta),) = parse({"text": "t", "label": 1}).items
    assert meta.desirability is None and content.extra == {"label": 1}


def test_kto_demo_file_keeps_its_labels() -> None:
    records = json.loads((SAMPLES / "kto_demo.json").read_text(encoding="utf-8"))
    flags = [meta.desirability for record in records for _, meta in parse(record).items]
    assert (flags.count(True), flags.count(False), len(flags)) == (4, 4, 8)


def test_reasoning_from_reasoning_content_think_tags_and_v1_parts() -> None:
    user = {"role": "user", "content": "2+2?"}
    vllm = {"messages": [user, {"role": "assistant", "content": "4", "reasoning_content": "add them"}]}
    qwen = {"messages": [user, {"role": "assistant", "content": "<think>\nadd them\n</think>\n\n4"}]}
    v1 = {"messages": [user, {"role": "assistant", "content": [{"type": "reasoning", "value": "add them"},
                                                               {"type": "text", "value": "4"}]}]}  # fmt: skip
    alpaca = {"instruction": "2+2?", "output": "<think>add them</think>4"}
    completion = {"prompt": "2+2?", "completion": "<think>add them</think>\n4"}
    sharegpt = {
        "conversations": [{"from": "human", "value": "2+2?"}, {"from": "gpt", "value": "<think>add them</think>4"}]
    }
    for record in (vllm, qwen, v1, alpaca, completion, sharegpt):
        ((content, _),) = parse(record).items
        assert (content.output, content.reasoning) == ("4", "add them"), record
    later = {"messages": [{"role": "assistant", "content": "4 <think>not at the start</think>"}]}
    later["messages"].insert(0, user)
    assert parse(later).items[0][0].reasoning == ""  # only a leading block is reasoning


def test_an_earlier_answer_keeps_its_reasoning_in_its_turn() -> None:
    record = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "<think>first</think>one"},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "two", "reasoning_content": "second"},
        ]
    }
    ((content, _),) = parse(record).items
    assert content.turns[1] == {"role": "assistant", "content": "one", "reasoning": "first"}
    assert (content.output, content.reasoning) == ("two", "second")


def test_v1_reasoning_and_tool_call_parts_import_whole() -> None:
    lines = (SAMPLES / "reasoning_tool_use_demo.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = [parse(json.loads(line)) for line in lines]
    assert [p.shape for p in parsed] == ["llamafactory-v1"] * 3
    ((first, meta),) = parsed[0].items
    assert first.system_prompt == "You can look up the weather." and first.user_prompt == "Is it raining in Oslo?"
    assert first.turns[1] == {
        "role": "assistant", "content": "", "reasoning": "I need the current weather for Oslo.",
        "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}],
    }  # fmt: skip
    assert (first.output, first.reasoning) == ("Yes, it is raining in Oslo.", "The tool says it rains.")
    assert meta.params["tools"][0]["function"]["name"] == "get_weather"
    assert first.extra == {f"messages[{i}].loss_weight": w for i, w in enumerate([0.0, 0.0, 1.0, 0.0, 1.0])}
    ((last, _),) = parsed[2].items
    assert last.tool_calls == [
        {"name": "get_weather", "arguments": {"city": "Lima"}},  # an object as value
        {"name": "get_weather", "arguments": {"city": "Quito"}},  # JSON text, arguments JSON text too
    ]
    assert last.reasoning == "Two cities, two calls."


def test_v1_preference_pairs_keep_loss_weights_and_rejected_reasoning() -> None:
    lines = (SAMPLES / "v1_dpo_demo.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = [parse(json.loads(line)) for line in lines]
    assert [p.shape for p in parsed] == ["llamafactory-v1-preference"] * 3
    ((content, _),) = parsed[0].items
    assert (content.user_prompt, content.output, content.reasoning) == (
        "Is 91 prime?", "No: 91 = 7 * 13.", "Try small primes: 7 * 13 = 91.",
    )  # fmt: skip
    assert content.rejected == ["<think>\nIt looks prime.\n</think>\n\nYes, 91 is prime."]
    assert content.extra == {
        "chosen_messages[0].loss_weight": 0.0, "chosen_messages[1].loss_weight": 1.0,
        "rejected_messages[0].loss_weight": 0.0, "rejected_messages[1].loss_weight": 1.0,
    }  # fmt: skip
    ((with_system, _),) = parsed[2].items
    assert (with_system.system_prompt, with_system.output, with_system.rejected) == (
        "Answer in one word.", "Blue.", ["Green."],
    )  # fmt: skip


def test_a_rejected_side_of_several_messages_keeps_them() -> None:
    record = {
        "prompt": [{"role": "user", "content": "weather?"}],
        "chosen": [{"role": "assistant", "content": "Sunny."}],
        "rejected": [
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "w", "arguments": "{}"}}]},
            {"role": "tool", "content": "rain"},
            {"role": "assistant", "content": "Rainy."},
        ],
    }
    ((content, _),) = parse(record).items
    assert content.rejected == ["Rainy."]
    assert content.extra["rejected[0]"]["tool_calls"] == [{"name": "w", "arguments": {}}]
    assert content.extra["rejected[1]"] == {"role": "tool", "content": "rain"}


def test_a_raw_export_record_reads_back_as_the_same_example() -> None:
    record = {
        "id": "0190abc", "created_at": "2025-01-01T00:00:00", "system_prompt": "s", "user_prompt": "u",
        "slots": {"city": "Oslo"}, "output": "o", "tool_calls": [], "rejected": ["r"], "turns": [],
        "reasoning": "because", "model": "m", "params": {"temperature": 0.2}, "prompt_tokens": 3,
        "completion_tokens": None, "desirability": False, "images": ["x.png"], "messages[1].loss_weight": 1.0,
        "extra": {"output": "a field named like one of raw's own"},
    }  # fmt: skip
    parsed = parse(record)
    ((content, meta),) = parsed.items
    assert parsed.shape == "raw"
    assert content.model_dump() == {
        "system_prompt": "s", "user_prompt": "u", "slots": {"city": "Oslo"}, "output": "o", "tool_calls": [],
        "rejected": ["r"], "turns": [], "reasoning": "because",
        "extra": {"images": ["x.png"], "messages[1].loss_weight": 1.0, "output": "a field named like one of raw's own"},
    }  # fmt: skip
    assert (meta.model, meta.params, meta.prompt_tokens, meta.completion_tokens, meta.desirability) == (
        "m", {"temperature": 0.2}, 3, None, False,
    )  # fmt: skip
    from_csv = {"system_prompt": "", "user_prompt": "u", "output": "o", "slots": "", "prompt_tokens": "12",
                "desirability": "true", "params": ""}  # fmt: skip
    ((content, meta),) = parse(from_csv).items
    assert (content.slots, meta.prompt_tokens, meta.desirability, meta.params) == ({}, 12, True, {})
    with pytest.raises(ShapeError, match="'prompt_tokens' must be a whole number"):
        parse({**from_csv, "prompt_tokens": "many"})


_names = st.text(st.characters(codec="utf-8", categories=["L", "N", "P"]), min_size=1, max_size=12).filter(
    lambda n: n not in KNOWN
)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    shape=st.sampled_from(list(SHAPED)),
    unknown=st.dictionaries(_names, _values, min_size=1, max_size=4),
    in_message=st.dictionaries(_names.filter(lambda n: n not in ("role", "content", "from", "value")), _values,
                               max_size=3),
)  # fmt: skip
def test_parsing_keeps_every_unknown_field(shape: str, unknown: dict[str, Any], in_message: dict[str, Any]) -> None:
    """Hypothesis: whatever unknown fields a record of any shape holds, at the top or in a message,
    every one comes out in `extra` with its value as read."""
    record = json.loads(json.dumps({**SHAPED[shape], **unknown}))
    expected = dict(unknown)
    if shape in ("openai-chat", "llamafactory-v1"):
        record["messages"][0].update(in_message)
        expected.update({f"messages[0].{k}": v for k, v in in_message.items()})
    items = parse(record).items
    assert items
    for content, _ in items:
        for name, value in expected.items():
            assert content.extra[name] == value, name
