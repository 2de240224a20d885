"""The audition session against the fake Ollama server: paraphrase, stream cards, fail in one card,
regenerate, cancel, and add the starred cards to a dataset."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat import ToolCall
from forge_tui.core.errors import InvalidInput
from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.core.starters import starter_templates
from forge_tui.core.templates import SlotDef, TemplateError, TemplateInfo, TemplateLimitError
from forge_tui.services.accounts import AccountService
from forge_tui.services.audition import AuditionSession, BatchSpec, BatchState, Card, CardState
from forge_tui.services.backends import BackendService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

TOPIC = TemplateInfo(
    name="Topic",
    system_prompt="You are terse.",
    user_prompt="Explain {{ topic }} to {{ who }}.",
    slots=[SlotDef(name="topic", default="tides"), SlotDef(name="who", default="a child")],
)


@pytest.fixture
async def backend(fake: FakeOllama) -> AsyncIterator[BackendService]:
    service = BackendService(BackendSettings(base_url=fake.base_url, max_retries=0))
    yield service
    await service.aclose()


def session_for(backend: BackendService, **spec: object) -> tuple[AuditionSession, list[Card | None]]:
    events: list[Card | None] = []
    values: dict[str, object] = {
        "template": TOPIC,
        "slots": {"topic": "the moon"},
        "model": "llama3.2",
        "paraphrase_model": "qwen3:0.6b",
        "seed": 11,
    }
    values.update(spec)
    session = AuditionSession(backend, BatchSpec(**values), concurrency=4, listener=events.append)  # type: ignore[arg-type]
    return session, events


async def test_paraphrase_then_one_streamed_card_per_variation(backend: BackendService, fake: FakeOllama) -> None:
    session, events = session_for(backend, batch=3)
    assert session.original == "Explain the moon to a child."
    await session.run()
    assert session.state is BatchState.DONE and session.error is None
    assert len(session.variations) == 4 and session.variations[0] == session.original
    assert len(set(session.variations)) == 4
    assert [c.variation for c in session.cards] == [1, 2, 3]
    paraphrase_request = fake.requests[0]
    assert paraphrase_request["model"] == "qwen3:0.6b"
    assert paraphrase_request["format"]["properties"]["variations"]["maxItems"] == 3
    for card in session.cards:
        assert card.state is CardState.DONE and card.output and card.error is None
        assert card.usage is not None and card.usage.completion_tokens and card.usage.prompt_tokens
        assert card.seconds is not None
    sent = {r["messages"][-1]["content"]: r for r in fake.requests[1:]}
    assert set(sent) == set(session.variations[1:])
    assert all(r["messages"][0] == {"role": "system", "content": "You are terse."} for r in sent.values())
    assert len({r["options"]["seed"] for r in sent.values()}) == 3  # each card its own seed
    # Tokens arrive one by one: far more events than cards.
    assert sum(1 for e in events if e is not None) > 3 * 10


async def test_no_paraphrase_model_means_the_prompt_as_written(backend: BackendService, fake: FakeOllama) -> None:
    session, _ = session_for(backend, batch=2, paraphrase_model=None)
    await session.run()
    assert [c.prompt for c in session.cards] == [session.original] * 2
    assert session.cards[0].output != session.cards[1].output  # other seeds, other answers
    assert all(r["model"] == "llama3.2" for r in fake.requests)


async def test_one_card_fails_while_the_others_finish(backend: BackendService, fake: FakeOllama) -> None:
    fake.token_latency = 0.005
    fake.faults_by_seed = {12: "fail", 13: "404"}  # cards 1 and 2 (batch seed 11 + index)
    session, _ = session_for(backend, batch=4)
    await session.run()
    states = [c.state for c in session.cards]
    assert states == [CardState.DONE, CardState.FAILED, CardState.FAILED, CardState.DONE]
    assert "Ollama stopped with an error" in (session.cards[1].error or "")
    assert session.cards[1].output  # what arrived before the failure stays visible
    assert "not found — pull it with `ollama pull llama3.2`" in (session.cards[2].error or "")
    fake.faults_by_seed = {}
    session.regenerate(1)  # a failed card is retried, not rejected
    await session.wait()
    assert session.cards[1].state is CardState.DONE and session.cards[1].rejected_here == []


async def test_a_stalled_card_times_out_in_its_card(fake: FakeOllama) -> None:
    fake.faults_by_seed = {12: "stall"}  # card 2 gets 3 pieces, then the server goes quiet
    settings = BackendSettings(base_url=fake.base_url, max_retries=0, between_tokens_timeout=0.5)
    async with BackendService(settings) as backend:
        session, _ = session_for(backend, batch=3, paraphrase_model=None)
        await session.run()
    assert [c.state for c in session.cards] == [CardState.DONE, CardState.FAILED, CardState.DONE]
    assert "0.5 s" in (session.cards[1].error or "") and session.cards[1].output
    for _ in range(100):  # the server notices the closed connection on its own thread
        if fake.disconnects:
            break
        await asyncio.sleep(0.02)
    assert fake.disconnects == 1  # the stalled request was let go, not left open


async def test_max_tokens_from_settings_is_sent_with_every_request(backend: BackendService, fake: FakeOllama) -> None:
    session, _ = session_for(backend, batch=2)
    await session.run()
    assert [r["options"]["num_predict"] for r in fake.requests] == [1024] * 3  # paraphrase and both cards
    assert session.example_for(session.cards[0])[1].params["max_tokens"] == 1024
    fake.requests.clear()
    fake.endless = True  # a model that never stops: the cap ends its answer
    session, _ = session_for(backend, batch=1, paraphrase_model=None, max_tokens=12)
    await session.run()
    assert [r["options"]["num_predict"] for r in fake.requests] == [12]
    card = session.cards[0]
    assert card.state is CardState.DONE and card.usage is not None and card.usage.completion_tokens == 12
    assert card.finish_reason == "length" and card.cut_at_max_tokens


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_a_card_knows_whether_max_tokens_cut_its_answer(fake: FakeOllama, kind: str) -> None:
    fake.endless = True
    settings = BackendSettings(kind=kind, base_url=fake.base_url, max_retries=0, max_tokens=5)  # type: ignore[arg-type]
    async with BackendService(settings) as backend:
        session, _ = session_for(backend, batch=1, paraphrase_model=None, model="llama3.2:latest")
        await session.run()
        card = session.cards[0]
        assert card.state is CardState.DONE and card.finish_reason == "length" and card.cut_at_max_tokens
        fake.endless, fake.fixed_reply = False, "Done."
        session.regenerate(0)  # a model that stops on its own: no mark
        await session.wait()
    assert card.state is CardState.DONE and card.finish_reason == "stop" and not card.cut_at_max_tokens


async def test_paraphrasing_works_against_a_server_that_refuses_json_schema_and_remembers_it(
    workspace: Workspace, fake: FakeOllama
) -> None:
    fake.accepted_formats = ("text", "json_object")  # llama-cpp-python's server
    settings = workspace.settings.save_backend(
        BackendSettings(kind="openai", base_url=fake.base_url, max_retries=0, paraphrase_model="qwen3:0.6b")
    )
    remember = workspace.settings.remember_structured_output
    async with BackendService(workspace.settings.backend(), remember=remember) as backend:
        session, _ = session_for(backend, batch=3, model="llama3.2:latest")
        await session.run()
        assert session.state is BatchState.DONE and session.error is None
        assert len(set(session.variations[1:])) == 3 and session.paraphrase_note is None
        formats = [(r.get("response_format") or {}).get("type") for r in fake.requests if r["model"] == "qwen3:0.6b"]
        assert formats == ["json_schema", "json_object"]
        fake.requests.clear()
        session, _ = session_for(backend, batch=2, seed=12, model="llama3.2:latest")
        await session.run()
        assert session.state is BatchState.DONE
        assert [r["response_format"]["type"] for r in fake.requests if "response_format" in r] == ["json_object"]

    # Saved with the account: a form saved from an older copy keeps it, and the next process starts there.
    workspace.settings.save_backend(settings.model_copy(update={"max_tokens": 300}))
    saved = workspace.settings.backend()
    assert saved.structured_output == {f"openai {fake.base_url}/v1": "json_object"} and saved.max_tokens == 300
    fake.requests.clear()
    async with BackendService(saved) as backend:
        session, _ = session_for(backend, batch=2, seed=13, model="llama3.2:latest")
        await session.run()
    assert [r["response_format"]["type"] for r in fake.requests if "response_format" in r] == ["json_object"]


async def test_an_endless_answer_stops_at_its_time_limit_in_its_card(fake: FakeOllama) -> None:
    fake.endless, fake.token_latency = True, 0.01
    settings = BackendSettings(base_url=fake.base_url, max_retries=0, answer_time_limit=0.5, max_tokens=100_000)
    async with BackendService(settings) as backend:
        session, _ = session_for(backend, batch=2, paraphrase_model=None)
        started = time.monotonic()
        await session.run()
    assert time.monotonic() - started < 3
    assert session.state is BatchState.DONE
    for card in session.cards:
        assert card.state is CardState.FAILED
        assert card.error == "Stopped after 0.5 s: the answer's time limit"
        assert len(card.output.split()) > 5  # what was streamed stays in the card


async def test_missing_model_is_refused_before_any_generation(backend: BackendService, fake: FakeOllama) -> None:
    session, _ = session_for(backend, model="ghost")
    await session.run()
    assert session.state is BatchState.FAILED and session.cards == []
    assert session.error == "model 'ghost' not found — pull it with `ollama pull ghost`"
    assert fake.requests == []


async def test_a_dead_server_is_a_batch_error_with_a_fix() -> None:
    async with BackendService(BackendSettings(base_url="http://127.0.0.1:9", max_retries=0)) as dead:
        session, _ = session_for(dead)
        await session.run()
    assert session.state is BatchState.FAILED
    assert "not answering at http://127.0.0.1:9" in (session.error or "")


async def test_regenerate_keeps_rejected_answers_per_prompt(backend: BackendService) -> None:
    session, _ = session_for(backend, batch=2)
    await session.run()
    first = session.cards[0].output
    session.regenerate(0)
    await session.wait()
    second = session.cards[0].output
    assert second and second != first and session.cards[0].rejected_here == [first]
    session.regenerate(0)
    await session.wait()
    assert session.cards[0].rejected_here == [first, second]
    session.use_variation(0, 0)  # the original prompt: its own (empty) history
    await session.wait()
    assert session.cards[0].prompt == session.original and session.cards[0].rejected_here == []
    assert session.cards[0].rejected[session.variations[1]] == [first, second]


async def test_cancel_stops_every_request_and_leaves_no_task(backend: BackendService, fake: FakeOllama) -> None:
    fake.token_latency = 0.05
    session, _ = session_for(backend, batch=3, paraphrase_model=None)
    run = asyncio.create_task(session.run())
    for _ in range(100):
        if sum(1 for c in session.cards if c.parts) == 3:
            break
        await asyncio.sleep(0.02)
    await session.cancel()
    assert run.done() and session.running == 0
    assert session.state is BatchState.CANCELLED
    assert all(c.state is CardState.CANCELLED for c in session.cards)
    mine = [t for t in asyncio.all_tasks() if t.get_name().startswith("audition-card")]
    assert mine == []
    for _ in range(50):
        if fake.disconnects >= 3:
            break
        await asyncio.sleep(0.02)
    assert fake.disconnects == 3  # the server saw every stream close


async def test_add_starred_writes_exactly_the_starred_cards(home: Home, backend: BackendService) -> None:
    unlocked = AccountService(home).unlock(*_alice(home))
    workspace = Workspace.open(home, unlocked)
    dataset = workspace.datasets.current()
    assert dataset is not None
    session, _ = session_for(backend, batch=3)
    await session.run()
    first = session.cards[0].output
    session.regenerate(0)
    await session.wait()
    session.star(0)
    session.star(2)
    session.edit_output(2, "An edited answer.")
    kept = [session.cards[0].output, "An edited answer."]
    session.regenerate(1)  # streaming again: it cannot be starred or edited until it finishes
    with pytest.raises(InvalidInput, match="Only a finished answer"):
        session.star(1)
    with pytest.raises(InvalidInput, match="Wait for the answer"):
        session.edit_output(1, "x")
    added = await session.add_starred(workspace.examples, dataset.id)
    assert added == 2 and session.cards == []
    stored = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    assert [e.content.output for e in stored] == kept
    one, two = stored
    assert one.content.rejected == [first] and two.content.rejected == []
    assert one.content.system_prompt == "You are terse." and one.content.slots == {
        "topic": "the moon",
        "who": "a child",
    }
    assert one.content.user_prompt == session.variations[1]
    assert one.meta.model == "llama3.2" and one.meta.completion_tokens and one.meta.template_id is None
    assert one.meta.params["seed"] != two.meta.params["seed"] and one.meta.params["batch_seed"] == 11
    assert two.meta.params["edited"] is True and one.meta.params["paraphrase_model"] == "qwen3:0.6b"
    # A person chose them: accepted, from Audition (jobs add unreviewed ones).
    assert {(e.meta.source, e.meta.review, e.meta.job_id) for e in stored} == {
        (ExampleSource.AUDITION, ReviewState.ACCEPTED, None)
    }


async def test_tool_calling_cards_validate_calls_against_the_schema(backend: BackendService) -> None:
    weather = next(t for t in starter_templates() if t.is_tool_calling)
    session, _ = session_for(backend, template=weather, slots={}, batch=2, paraphrase_model=None)
    assert session.original == "What's the weather like in Lisbon today?"
    await session.run()
    card = session.cards[0]
    assert card.state is CardState.DONE and card.tool_calls and card.tool_calls[0].name == "get_weather"
    assert card.tool_problems == []
    with pytest.raises(TemplateError, match=r"city.*required"):
        session.edit_tool_calls(0, '[{"name": "get_weather", "arguments": {"unit": "celsius"}}]')
    with pytest.raises(TemplateError, match="not one of the template's tools"):
        session.edit_tool_calls(0, '{"name": "get_time", "arguments": {}}')
    with pytest.raises(TemplateError, match="line 1"):
        session.edit_tool_calls(0, "[{")
    session.edit_tool_calls(0, '[{"name": "get_weather", "arguments": {"city": "Porto", "unit": "celsius"}}]')
    assert session.cards[0].calls == [ToolCall(name="get_weather", arguments={"city": "Porto", "unit": "celsius"})]
    content, meta = session.example_for(session.cards[0])
    assert content.tool_calls == [{"name": "get_weather", "arguments": {"city": "Porto", "unit": "celsius"}}]
    assert meta.params["tools"][0]["function"]["name"] == "get_weather"
    session.regenerate(0)  # a tool-call answer is rejected as its calls in JSON
    await session.wait()
    assert json.loads(session.cards[0].rejected_here[0])["tool_calls"][0]["arguments"]["city"] == "Porto"


def test_missing_slot_without_default_is_refused(backend: BackendService) -> None:
    template = TOPIC.model_copy(update={"slots": [SlotDef(name="topic")]})
    with pytest.raises(TemplateError, match="slot 'who' has no value"):
        session_for(backend, template=template, slots={"topic": "x"})


@pytest.mark.parametrize(
    ("prompt", "limit"),
    [
        ("{{ lipsum(n=10**6) }}", "lipsum() is not available"),
        ("{{ (9 ** (9 ** 8)) % 7 }}", "limit of 1,000 digits"),
        ("{{ 'x' * 10**9 }}", "limit of 1,000,000 characters"),
        ("{{ topic * (who | int) }}", "limit of 1,000,000 characters"),  # a slot value can pass a limit too
    ],
)
def test_a_template_that_passes_a_limit_is_refused_before_any_request(
    backend: BackendService, fake: FakeOllama, prompt: str, limit: str
) -> None:
    template = TOPIC.model_copy(update={"user_prompt": prompt})
    started = time.monotonic()
    with pytest.raises(TemplateLimitError, match=re.escape(limit)):
        session_for(backend, template=template, slots={"who": "1000000000"})
    assert time.monotonic() - started < 1.0
    assert fake.requests == []


def _alice(home: Home) -> tuple[str, str]:
    AccountService(home).create_user("alice", "Alice", PASSWORD)
    return "alice", PASSWORD


async def test_presets_ask_stored_examples_again(home: Home, backend: BackendService, fake: FakeOllama) -> None:
    from forge_tui.services.audition import presets_from

    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    from forge_tui.core.models import ExampleContent, ExampleMeta

    turns = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "And now?"},
    ]
    workspace.examples.add_many(
        dataset.id,
        [
            (ExampleContent(system_prompt="Terse.", user_prompt="Q1", output="old", rejected=["worse"]), ExampleMeta()),
            (ExampleContent(user_prompt="And now?", output="old 2", turns=turns), ExampleMeta()),
        ],
    )
    stored = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    session, _ = session_for(backend, presets=presets_from(stored))
    await session.run()
    assert [c.prompt for c in session.cards] == ["Q1", "And now?"] and all(
        c.state is CardState.DONE for c in session.cards
    )
    assert fake.requests[0]["messages"] == [{"role": "system", "content": "Terse."}, {"role": "user", "content": "Q1"}]
    assert [m["content"] for m in fake.requests[1]["messages"]] == ["Hi", "Hello.", "And now?"]
    session.star(0)
    session.regenerate(1)
    await session.wait()
    session.star(1)
    # Only the answer rejected in this batch: "worse" was stored with the example before.
    assert [(card.index, answer) for card, _, answer in session.rejected_answers()] == [
        (1, session.cards[1].rejected_here[0])
    ]
    await session.add_starred(workspace.examples, dataset.id)
    added = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)][2:]
    assert added[0].content.system_prompt == "Terse." and added[0].content.rejected == ["worse"]
    assert added[1].content.turns == turns and len(added[1].content.rejected) == 1


@pytest.mark.parametrize(
    ("kind", "think_in_content"),
    [("ollama", False), ("openai", False), ("openai", True)],
    ids=["ollama-think-tags", "openai-reasoning-field", "openai-think-tags"],
)
async def test_the_models_thinking_is_stored_as_reasoning_and_stars_are_desirable(
    home: Home, fake: FakeOllama, kind: str, think_in_content: bool
) -> None:
    fake.think_in_content = think_in_content
    unlocked = AccountService(home).unlock(*_alice(home))
    workspace = Workspace.open(home, unlocked)
    dataset = workspace.datasets.current()
    assert dataset is not None
    settings = BackendSettings(kind=kind, base_url=fake.base_url, max_retries=0)  # type: ignore[arg-type]
    async with BackendService(settings) as backend:
        session, _ = session_for(backend, model="qwen3:0.6b", paraphrase_model=None, batch=2)
        await session.run()
        thoughts = [card.reasoning for card in session.cards]
        assert all(t.startswith("Okay, the user wants something about the") for t in thoughts), thoughts
        session.star(1)
        assert session.example_for(session.cards[0])[1].desirability is None  # not starred: not judged
        assert await session.add_starred(workspace.examples, dataset.id) == 1
    (stored,) = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    assert stored.content.reasoning == thoughts[1]
    assert stored.content.output and "think" not in stored.content.output
    assert stored.meta.desirability is True


async def test_rejected_answers_are_added_as_undesirable_examples(home: Home, backend: BackendService) -> None:
    unlocked = AccountService(home).unlock(*_alice(home))
    workspace = Workspace.open(home, unlocked)
    dataset = workspace.datasets.current()
    assert dataset is not None
    session, _ = session_for(backend, batch=3)
    await session.run()
    rejected = {0: session.cards[0].output, 2: session.cards[2].output}
    session.regenerate(0)
    session.regenerate(2)
    await session.wait()
    session.star(0)  # card 2 is not starred: its rejected answer still counts
    kept = session.cards[0].output
    assert await session.add_with_rejected(workspace.examples, dataset.id) == (1, 2)
    assert session.cards == []
    stored = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]
    summary = [(e.content.user_prompt, e.content.output, e.meta.desirability) for e in stored]
    assert summary == [
        (session.variations[1], kept, True),
        (session.variations[1], rejected[0], False),
        (session.variations[3], rejected[2], False),
    ]
    # The undesirable ones too were chosen by a person (as KTO negatives): accepted, so export keeps them.
    assert {(e.meta.source, e.meta.review) for e in stored} == {(ExampleSource.AUDITION, ReviewState.ACCEPTED)}
    assert stored[0].content.rejected == [rejected[0]]  # the preference pair stays too
    undesirable = stored[1]
    assert undesirable.content.rejected == [] and undesirable.content.system_prompt == "You are terse."
    assert undesirable.content.slots == {"topic": "the moon", "who": "a child"}
    assert undesirable.meta.params["rejected_answer"] is True and undesirable.meta.params["variation"] == 1
    with pytest.raises(InvalidInput, match="Nothing to add"):
        await session.add_with_rejected(workspace.examples, dataset.id)
