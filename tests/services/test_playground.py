"""The Playground's conversation against the fake Ollama: streaming, thinking, a tool call answered by
hand, edit and branch; saved as one example that exports to the chat and preference formats."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ToolDef
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.backends import BackendService
from forge_tui.services.exporting import export
from forge_tui.services.playground import ChatOptions, Playground, model_names
from forge_tui.services.workspace import Workspace
from tests.db_bytes import db_files, found_in, marker
from tests.fake_ollama import FakeOllama

WEATHER = ToolDef(
    name="get_weather",
    description="The weather in a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


@pytest.fixture
async def client(fake: FakeOllama) -> AsyncIterator[BackendService]:
    service = BackendService(BackendSettings(base_url=fake.base_url, max_retries=0, max_tokens=500))
    yield service
    await service.aclose()


def dataset_id(workspace: Workspace) -> int:
    dataset = workspace.datasets.current()
    assert dataset is not None
    return dataset.id


def exported(workspace: Workspace, fmt: str, tmp_path: Path) -> list[dict[str, Any]]:
    out = tmp_path / f"{fmt}.jsonl"
    export(workspace.examples, dataset_id(workspace), FORMATS[fmt], out)
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


async def test_a_tool_conversation_saved_exports_to_openai_chat_with_its_tool_turns(
    client: BackendService, fake: FakeOllama, workspace: Workspace, tmp_path: Path
) -> None:
    changes: list[int] = []
    chat = Playground(ChatOptions(model="llama3.2", system_prompt="Be brief.", seed=3, tools=[WEATHER]))
    chat.listener = lambda: changes.append(1)
    chat.say("What is the weather in Oslo?")
    call_turn = await chat.reply(client)
    assert [c.name for c in call_turn.tool_calls] == ["get_weather"]
    assert chat.pending_call() is not None and not chat.wants_answer()
    chat.say('{"temperature": 4}')  # typed by the user as the tool's answer
    assert chat.turns[-1].role == "tool" and chat.turns[-1].name == "get_weather"
    assert chat.wants_answer()
    answer = await chat.reply(client)
    assert answer.content and not answer.tool_calls and answer.error is None
    assert len(changes) > 5  # streamed: the listener heard every piece
    assert fake.requests[-1]["options"]["num_predict"] == 500  # the max tokens of Settings

    saved = chat.save(workspace.examples, dataset_id(workspace))
    example = workspace.examples.get(saved.example_id)
    assert not saved.updated
    assert example.meta.source is ExampleSource.PLAYGROUND and example.meta.review is ReviewState.ACCEPTED
    assert example.meta.model == "llama3.2" and example.meta.params["seed"] == 3
    assert example.content.system_prompt == "Be brief." and example.content.output == answer.content

    [record] = exported(workspace, "openai-chat", tmp_path)
    messages = record["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    call = messages[2]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather" and isinstance(call["function"]["arguments"], str)
    assert messages[3] == {"role": "tool", "tool_call_id": call["id"], "content": '{"temperature": 4}'}
    assert messages[4]["content"] == answer.content
    assert record["tools"][0]["function"]["name"] == "get_weather"


async def test_a_tool_conversation_exports_to_sharegpt_llamafactory_and_mlx_chat(
    client: BackendService, workspace: Workspace, tmp_path: Path
) -> None:
    chat = Playground(ChatOptions(model="qwen3:0.6b", seed=2, tools=[WEATHER]))
    chat.say("Weather in Oslo?")
    await chat.reply(client)
    chat.say("Rain")
    answer = await chat.reply(client)
    chat.save(workspace.examples, dataset_id(workspace))

    [sharegpt] = exported(workspace, "sharegpt", tmp_path)
    assert [t["from"] for t in sharegpt["conversations"]] == ["human", "function_call", "observation", "gpt"]
    assert sharegpt["conversations"][2]["value"] == "Rain"
    assert "get_weather" in sharegpt["tools"]
    [v1] = exported(workspace, "llamafactory-v1", tmp_path)
    assert [m["role"] for m in v1["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert [p["type"] for p in v1["messages"][1]["content"]][-1] == "tool_call"
    [mlx] = exported(workspace, "mlx-chat", tmp_path)
    assert [m["role"] for m in mlx["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert mlx["messages"][3]["content"].endswith(answer.content)  # the thinking before it, as <think> text


async def test_branch_keeps_the_old_answer_as_a_rejected_alternative_in_the_preference_export(
    client: BackendService, workspace: Workspace, tmp_path: Path
) -> None:
    chat = Playground(ChatOptions(model="llama3.2", temperature=0.9))
    chat.say("Name a colour.")
    first = (await chat.reply(client)).content
    chat.say("Another one?")
    old = (await chat.reply(client)).content
    chat.options.seed = 99  # another seed, another answer from the fake
    rejected = chat.branch(3)
    assert rejected == [old] and len(chat.turns) == 3
    new = (await chat.reply(client, rejected)).content
    assert new != old and chat.turns[-1].rejected == [old]

    chat.save(workspace.examples, dataset_id(workspace))
    [record] = exported(workspace, "openai-preference", tmp_path)
    prompt = record["input"]["messages"]
    assert [m["content"] for m in prompt] == ["Name a colour.", first, "Another one?"]
    assert record["preferred_output"] == [{"role": "assistant", "content": new}]
    assert record["non_preferred_output"] == [{"role": "assistant", "content": old}]
    [trl] = exported(workspace, "trl-preference", tmp_path)
    assert trl["rejected"] == [{"role": "assistant", "content": old}]


async def test_editing_a_message_drops_what_followed_and_the_model_answers_again(client: BackendService) -> None:
    chat = Playground(ChatOptions(model="llama3.2", seed=1))
    chat.say("First question")
    await chat.reply(client)
    chat.say("Second question")
    await chat.reply(client)
    assert chat.edit(0, "A better first question") is True
    assert [t.content for t in chat.turns] == ["A better first question"]
    again = await chat.reply(client)
    assert again.content and len(chat.turns) == 2


async def test_editing_an_answer_fixes_it_in_place(client: BackendService) -> None:
    chat = Playground(ChatOptions(model="llama3.2"))
    chat.say("One")
    await chat.reply(client)
    chat.say("Two")
    await chat.reply(client)
    assert chat.edit(1, "  A fixed answer ") is False
    assert [t.content for t in chat.turns][1:] == ["A fixed answer", "Two", chat.turns[3].content]


async def test_thinking_is_kept_apart_from_the_answer_and_saved_as_reasoning(
    client: BackendService, workspace: Workspace
) -> None:
    chat = Playground(ChatOptions(model="qwen3:0.6b", seed=5))
    chat.say("Think first.")
    answer = await chat.reply(client)
    assert answer.thinking and "<think>" not in answer.content
    example = workspace.examples.get(chat.save(workspace.examples, dataset_id(workspace)).example_id)
    assert example.content.reasoning == answer.thinking


async def test_a_failed_answer_stays_as_its_error_and_is_not_saved(
    client: BackendService, fake: FakeOllama, workspace: Workspace
) -> None:
    chat = Playground(ChatOptions(model="no-such-model"))
    chat.say("Hello")
    failed = await chat.reply(client)
    assert failed.error and not failed.streaming
    with pytest.raises(InvalidInput, match="does not end with an answer"):
        chat.save(workspace.examples, dataset_id(workspace))
    chat.options.model = "llama3.2"
    await chat.reply(client)  # the failed answer makes way for the new one
    assert [t.role for t in chat.turns] == ["user", "assistant"] and chat.turns[1].error is None


async def test_an_answer_asked_again_after_a_failed_branch_keeps_the_rejected_alternative(
    client: BackendService,
) -> None:
    chat = Playground(ChatOptions(model="llama3.2"))
    chat.say("Hello")
    old = (await chat.reply(client)).content
    chat.options.model = "no-such-model"
    failed = await chat.reply(client, chat.branch(1))
    assert failed.error and failed.rejected == [old]
    chat.options.model = "llama3.2"
    again = await chat.reply(client)  # Enter on an empty field, after a failure
    assert again.error is None and again.rejected == [old] and len(chat.turns) == 2


async def test_an_example_opened_continues_and_saving_updates_it(
    client: BackendService, workspace: Workspace, tmp_path: Path
) -> None:
    content = ExampleContent(
        system_prompt="Be kind.",
        user_prompt="And now?",
        turns=[
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "And now?"},
        ],
        output="Now this.",
        rejected=["Go away."],
        slots={"topic": "greetings"},
        extra={"origin": "import"},
    )
    meta = ExampleMeta(
        model="llama3.2", params={"temperature": 0.2, "seed": 8, "variation": 2}, source=ExampleSource.IMPORT
    )
    example_id = workspace.examples.add(dataset_id(workspace), content, meta)
    chat = Playground.from_example(workspace.examples.get(example_id), default_model="qwen3:0.6b")
    assert chat.options.system_prompt == "Be kind." and chat.options.temperature == 0.2 and chat.options.seed == 8
    assert [t.content for t in chat.turns] == ["Hi", "Hello!", "And now?", "Now this."]
    assert chat.turns[-1].rejected == ["Go away."]

    chat.options.model = "qwen3:0.6b"
    chat.use_tools([WEATHER], None, "")
    chat.say("One more thing")
    last = await chat.reply(client)
    saved = chat.save(workspace.examples, dataset_id(workspace))
    assert saved.updated and saved.example_id == example_id
    assert workspace.examples.count(dataset_id(workspace)) == 1
    updated = workspace.examples.get(example_id)
    assert updated.content.output == last.content and updated.content.user_prompt == "One more thing"
    assert updated.content.slots == {"topic": "greetings"} and updated.content.extra == {"origin": "import"}
    # The old last answer's alternative stays with that answer, now an earlier turn.
    assert updated.content.turns[3] == {"role": "assistant", "content": "Now this.", "rejected": ["Go away."]}
    assert updated.meta.review is ReviewState.ACCEPTED and updated.meta.source is ExampleSource.IMPORT
    # How it was made now: the model and tools of the last answer; parameters the Playground does not set stay.
    assert updated.meta.model == "qwen3:0.6b" and updated.meta.params["variation"] == 2
    assert updated.meta.params["tools"][0]["function"]["name"] == "get_weather"

    [record] = exported(workspace, "openai-chat", tmp_path)
    assert [m["role"] for m in record["messages"]] == ["system", *["user", "assistant"] * 3]
    assert "rejected" not in json.dumps(record)


async def test_an_example_gone_meanwhile_is_saved_as_a_new_one(client: BackendService, workspace: Workspace) -> None:
    example_id = workspace.examples.add(dataset_id(workspace), ExampleContent(user_prompt="Q", output="A"))
    chat = Playground.from_example(workspace.examples.get(example_id), default_model="llama3.2")
    workspace.examples.delete(dataset_id(workspace), [example_id])
    saved = chat.save(workspace.examples, dataset_id(workspace))
    assert not saved.updated and saved.example_id != example_id
    assert chat.save(workspace.examples, dataset_id(workspace)).updated  # and a second save updates that one


async def test_tool_calls_edited_into_bad_json_are_refused_and_the_answer_stays(client: BackendService) -> None:
    chat = Playground(ChatOptions(model="llama3.2", tools=[WEATHER]))
    chat.say("Weather?")
    answer = await chat.reply(client)
    calls = list(answer.tool_calls)
    with pytest.raises(ForgeError, match="line 1"):
        chat.edit(1, "fixed", '[{"name": "get_weather", "arguments": {')
    assert chat.turns[1].tool_calls == calls and chat.turns[1].content == answer.content
    assert chat.edit(1, "", '[{"name": "get_weather", "arguments": {"city": "Bergen"}}]') is False
    assert chat.turns[1].tool_calls[0].arguments == {"city": "Bergen"}


async def test_without_a_model_nothing_is_sent_and_the_message_waits(client: BackendService, fake: FakeOllama) -> None:
    chat = Playground(ChatOptions(model=""))
    chat.say("Hello there")
    with pytest.raises(InvalidInput, match="Choose a model"):
        await chat.reply(client)
    assert [t.role for t in chat.turns] == ["user"] and fake.requests == []


def test_nothing_typed_is_refused_and_nothing_changes() -> None:
    chat = Playground(ChatOptions(model="llama3.2"))
    with pytest.raises(InvalidInput):
        chat.say("   ")
    with pytest.raises(InvalidInput):
        chat.branch(0)
    assert chat.turns == []


async def test_the_models_of_every_endpoint_are_offered_and_a_silent_one_gives_those_it_listed_before(
    fake: FakeOllama,
) -> None:
    alone = BackendSettings(base_url=fake.base_url)
    assert await model_names(alone) == ["llama3.2:latest", "qwen3:0.6b"]
    endpoints = [
        Endpoint(name="here", url=fake.base_url, models=["old:1b"]),
        Endpoint(name="gone", url="http://127.0.0.1:9", models=["saved:7b", "qwen3:0.6b"]),
    ]
    both = BackendSettings(endpoints=endpoints, connect_timeout=2)
    assert await model_names(both) == ["llama3.2:latest", "qwen3:0.6b", "saved:7b"]


async def test_a_saved_conversation_and_its_update_leave_no_plaintext_in_the_database(
    client: BackendService, workspace: Workspace
) -> None:
    secret = marker()
    tool = ToolDef(name=f"tool_{secret.lower()}", parameters={"type": "object", "properties": {}})
    chat = Playground(ChatOptions(model="llama3.2", system_prompt=f"system {secret}"))
    chat.say(f"question {secret}")
    await chat.reply(client)
    saved = chat.save(workspace.examples, dataset_id(workspace))
    chat.use_tools([tool], None, "")
    chat.edit(1, f"answer {secret}")
    assert chat.save(workspace.examples, dataset_id(workspace)).updated
    assert found_in(db_files(workspace.home), secret) == []
    updated = workspace.examples.get(saved.example_id)
    assert secret in updated.content.output and secret.lower() in json.dumps(updated.meta.params)
