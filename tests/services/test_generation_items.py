"""One generation job item against the fake Ollama server, for every kind of example: single,
multi-turn (T turns), preference, pretraining, tool-calling with schema-invalid calls, and the
output language (zh-TW answers in Simplified Chinese flagged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.generation import ExampleKind, GenerationSpec, ItemFailed, PlannedItem, plan_items
from forge_tui.core.models import ExampleSource, ReviewState
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.services.backends import BackendService, BackendUnavailable, ModelNotFound
from forge_tui.services.generation import generate_item
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.services.generation_templates import SIMPLIFIED, TOOLS

TEMPLATE = TemplateInfo(
    id=3,
    name="Explain",
    system_prompt="You are terse.",
    user_prompt="Explain {{ topic }} to {{ who }}.",
    slots=[SlotDef(name="topic", default="tides"), SlotDef(name="who", default="a child")],
)
TRADITIONAL = "潮汐是由月球和太陽的引力造成的。海水每天漲落兩次，台灣的漁民會依照潮汐安排出海的時間。"


@pytest.fixture
async def backend(fake: FakeOllama) -> AsyncIterator[BackendService]:
    service = BackendService(BackendSettings(base_url=fake.base_url, max_retries=0))
    yield service
    await service.aclose()


def spec(**overrides: Any) -> GenerationSpec:
    values: dict[str, Any] = {"template": TEMPLATE, "count": 1, "dataset_id": 1, "model": "llama3.2", "seed": 5}
    values.update(overrides)
    return GenerationSpec(**values)


def item(slots: dict[str, str] | None = None, seed: int = 41) -> PlannedItem:
    return PlannedItem(idx=0, slots=slots or {"topic": "the moon", "who": "a child"}, seed=seed)


def chat_messages(fake: FakeOllama) -> list[list[dict[str, Any]]]:
    return [request["messages"] for request in fake.requests]


async def test_single_answer_is_an_unreviewed_job_example(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(), item())
    content, meta = made.content, made.meta
    assert content.system_prompt == "You are terse."
    assert content.user_prompt == "Explain the moon to a child."
    assert content.slots == {"topic": "the moon", "who": "a child"}
    assert content.output and not content.turns and not content.rejected
    assert meta.source is ExampleSource.JOB and meta.review is ReviewState.UNREVIEWED
    assert meta.model == "llama3.2" and meta.template_id == 3 and meta.language_flag is None
    assert meta.params["seed"] == 41 and meta.params["kind"] == "single" and meta.params["max_tokens"] == 1024
    assert meta.prompt_tokens and meta.completion_tokens
    assert made.finish_reason == "stop"
    assert fake.requests[0]["options"]["seed"] == 41 and fake.requests[0]["options"]["num_predict"] == 1024
    again = await generate_item(backend, spec(), item())
    assert again.content == content  # the same item asks the same request


async def test_thinking_goes_to_reasoning_and_max_tokens_cut_is_reported(backend: BackendService) -> None:
    made = await generate_item(backend, spec(model="qwen3:0.6b"), item())
    assert made.content.reasoning.startswith("Okay, the user wants")
    assert "<think>" not in made.content.output and made.content.output
    cut = await generate_item(backend, spec(max_tokens=3), item())
    assert cut.finish_reason == "length"


async def test_a_paraphrased_prompt_is_the_prompt_kept(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(paraphrase_model="qwen3:0.6b"), item())
    assert "format" in fake.requests[0]
    assert made.content.user_prompt != "Explain the moon to a child."
    assert fake.requests[1]["messages"][-1]["content"] == made.content.user_prompt
    assert made.meta.params["paraphrase_model"] == "qwen3:0.6b"


async def test_multi_turn_has_t_user_turns_each_answered(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(kind=ExampleKind.MULTI_TURN, turns=3), item())
    turns = made.content.turns
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert turns[0]["content"] == "Explain the moon to a child."
    assert made.content.user_prompt == turns[-1]["content"] != turns[0]["content"]
    assert made.content.output and all(t["content"] for t in turns)
    assert len(fake.requests) == 5  # 3 answers and 2 messages written by the simulated user
    simulated = fake.requests[1]["messages"]
    assert "You play the user" in simulated[0]["content"] and "Explain the moon" in simulated[1]["content"]
    last = fake.requests[4]["messages"]
    assert [m["role"] for m in last] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert made.meta.params["turns"] == 3


async def test_multi_turn_is_stored_as_a_conversation(
    backend: BackendService, workspace: Workspace, fake: FakeOllama
) -> None:
    dataset = workspace.datasets.create("Generated")
    made = await generate_item(backend, spec(kind=ExampleKind.MULTI_TURN, turns=2), item())
    [example_id] = workspace.examples.add_many(dataset.id, [(made.content, made.meta)])
    stored = workspace.examples.get(example_id)
    assert stored.content == made.content


async def test_preference_keeps_two_answers_from_two_temperatures(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(kind=ExampleKind.PREFERENCE, second_temperature=1.3), item())
    assert made.content.output and made.content.rejected[0]
    assert made.content.output != made.content.rejected[0]
    assert [r["options"]["temperature"] for r in fake.requests] == [0.8, 1.3]
    assert made.meta.params["second_temperature"] == 1.3


async def test_preference_from_a_second_model(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(kind=ExampleKind.PREFERENCE, second_model="qwen3:0.6b"), item())
    assert [r["model"] for r in fake.requests] == ["llama3.2", "qwen3:0.6b"]
    assert "<think>" not in made.content.rejected[0]
    assert made.meta.params["second_model"] == "qwen3:0.6b"


async def test_pretraining_text_is_a_document_without_chat_turns(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(kind=ExampleKind.PRETRAINING), item())
    assert made.content.output and not made.content.turns and not made.content.tool_calls
    assert made.meta.params["kind"] == "pretraining"


async def test_tool_calls_fit_the_schema(backend: BackendService, fake: FakeOllama) -> None:
    made = await generate_item(backend, spec(template=TOOLS, kind=ExampleKind.TOOL_CALLING), item({}))
    [call] = made.content.tool_calls
    assert call["name"] == "get_weather" and set(call["arguments"]) == {"city", "unit"}
    assert made.meta.params["tools"][0]["function"]["name"] == "get_weather"
    assert "tool_retry" not in made.meta.params and len(fake.requests) == 1


async def test_a_schema_invalid_tool_call_is_retried_once(backend: BackendService, fake: FakeOllama) -> None:
    fake.invalid_tool_calls = 1
    made = await generate_item(backend, spec(template=TOOLS, kind=ExampleKind.TOOL_CALLING), item({}))
    assert set(made.content.tool_calls[0]["arguments"]) == {"city", "unit"}
    assert made.meta.params["tool_retry"] is True
    assert len(fake.requests) == 2 and fake.requests[0]["options"]["seed"] != fake.requests[1]["options"]["seed"]


async def test_a_tool_call_invalid_twice_fails_the_item_with_the_reason(
    backend: BackendService, fake: FakeOllama
) -> None:
    fake.invalid_tool_calls = 2
    with pytest.raises(ItemFailed) as failed:
        await generate_item(backend, spec(template=TOOLS, kind=ExampleKind.TOOL_CALLING), item({}))
    assert failed.value.reason.startswith("Tool call invalid after a retry: get_weather")
    assert "'city' is a required property" in failed.value.reason
    assert len(fake.requests) == 2


async def test_a_tool_call_answered_with_text_fails_the_item(backend: BackendService, fake: FakeOllama) -> None:
    fake.fixed_reply = "I cannot check the weather."
    with pytest.raises(ItemFailed, match="answered without calling a tool"):
        await generate_item(backend, spec(template=TOOLS, kind=ExampleKind.TOOL_CALLING), item({}))


async def test_zh_tw_answers_in_simplified_chinese_are_flagged(backend: BackendService, fake: FakeOllama) -> None:
    zh = spec(language="zh-TW")
    fake.fixed_reply = SIMPLIFIED
    made = await generate_item(backend, zh, item())
    assert made.meta.language_flag == "Simplified Chinese"
    assert made.meta.params["language"] == "zh-TW"
    assert fake.requests[0]["messages"][0]["content"] == "You are terse.\n\nAnswer in Traditional Chinese (zh-TW)."
    fake.fixed_reply = TRADITIONAL
    assert (await generate_item(backend, zh, item())).meta.language_flag is None
    fake.fixed_reply = "Tides come twice a day because the moon pulls on the sea."
    english = await generate_item(backend, zh, item())
    assert english.meta.language_flag == "written in Latin script, not Traditional Chinese (zh-TW)"


async def test_a_job_planned_from_the_spec_runs_item_by_item(backend: BackendService) -> None:
    job = spec(count=3, sources={"topic": {"type": "values", "values": ["tides", "comets", "eclipses"]}})
    made = [await generate_item(backend, job, planned) for planned in plan_items(job)]
    assert sorted(m.content.slots["topic"] for m in made) == ["comets", "eclipses", "tides"]


async def test_item_failures_and_transport_failures_are_told_apart(backend: BackendService, fake: FakeOllama) -> None:
    broken = TEMPLATE.model_copy(update={"user_prompt": "{{ topic.missing.deeper }}"})
    with pytest.raises(ItemFailed, match="cannot be rendered"):
        await generate_item(backend, spec(template=broken), item())
    fake.fixed_reply = ""
    with pytest.raises(ItemFailed, match="empty answer"):
        await generate_item(backend, spec(), item())
    with pytest.raises(ModelNotFound):
        await generate_item(backend, spec(model="missing:1b"), item())
    fake.stop()
    with pytest.raises(BackendUnavailable):
        await generate_item(backend, spec(), item())
