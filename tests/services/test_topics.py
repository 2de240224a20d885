"""Expanding a seed topic into subtopics with the fake Ollama server: structured output, a second
level, and answers in plain text."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.generation import TOPIC_TEMPLATE, GenerationSpec, plan_items
from forge_tui.core.topic_tree import leaves, topic_source
from forge_tui.services.backends import BackendService
from forge_tui.services.topics import expand_topic
from tests.fake_ollama import FakeOllama


@pytest.fixture
async def backend(fake: FakeOllama) -> AsyncIterator[BackendService]:
    service = BackendService(BackendSettings(base_url=fake.base_url, max_retries=0))
    yield service
    await service.aclose()


async def test_a_seed_topic_gets_k_subtopics_by_structured_output(backend: BackendService, fake: FakeOllama) -> None:
    root = await expand_topic(backend, "llama3.2", "  ocean   science ", 4, seed=3)
    assert root.topic == "ocean science"
    assert len(root.children) == 4 and len(set(leaves([root]))) == 4
    [request] = fake.requests
    assert request["format"]["properties"]["subtopics"]["maxItems"] == 4
    assert request["messages"][1]["content"] == "Topic: ocean science"


async def test_two_levels_give_k_times_k_leaves_that_plan_a_topic_job(backend: BackendService) -> None:
    root = await expand_topic(backend, "llama3.2", "ocean science", 3, depth=2, language="zh-TW")
    assert all(len(child.children) == 3 for child in root.children)
    source = topic_source([root])
    assert 6 <= len(source.values) <= 9  # leaves repeated across branches are kept once
    spec = GenerationSpec(template=TOPIC_TEMPLATE, count=18, dataset_id=1, model="m", sources={"topic": source})
    assert {item.slots["topic"] for item in plan_items(spec)} == set(source.values)


async def test_a_plain_text_answer_is_read_as_a_list(backend: BackendService, fake: FakeOllama) -> None:
    fake.fixed_reply = "Here are the subtopics:\n1. Tides\n2. Currents\n3. Tides\n4. Ocean science"
    root = await expand_topic(backend, "llama3.2", "Ocean science", 3)
    assert [c.topic for c in root.children] == ["Tides", "Currents"]


async def test_no_subtopics_and_bad_arguments_are_sentences(backend: BackendService, fake: FakeOllama) -> None:
    fake.fixed_reply = ""
    with pytest.raises(ForgeError, match="The model gave no subtopics of 'tides'"):
        await expand_topic(backend, "llama3.2", "tides", 3)
    with pytest.raises(InvalidInput, match="needs a seed topic"):
        await expand_topic(backend, "llama3.2", "  ", 3)
    with pytest.raises(InvalidInput, match="1 to 50 subtopics"):
        await expand_topic(backend, "llama3.2", "tides", 0)
    with pytest.raises(InvalidInput, match="1 or 2 levels"):
        await expand_topic(backend, "llama3.2", "tides", 3, depth=3)
