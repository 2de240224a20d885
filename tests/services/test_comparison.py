"""The side-by-side audition against two fake Ollama servers: both models get the same prompts, a pick
saves a preference example (the better answer chosen, the other rejected) that exports as a preference
dataset, blind rows are stored by model not by column, and a second pick replaces the first."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.services.audition import BatchSpec, BatchState
from forge_tui.services.backends import BackendService
from forge_tui.services.comparison import ComparisonSession, Contender, Pick
from forge_tui.services.exporting import export
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama

TOPIC = TemplateInfo(
    name="Topic",
    system_prompt="You are terse.",
    user_prompt="Explain {{ topic }}.",
    slots=[SlotDef(name="topic", default="tides")],
)
BASE = Contender("llama3.2", "base-box")
TUNED = Contender("llama3.2", "tuned-box")  # the same name on another server: still two contenders


@pytest.fixture
async def clients() -> AsyncIterator[tuple[FakeOllama, FakeOllama, BackendService, BackendService]]:
    with FakeOllama() as one, FakeOllama() as two:
        # The same model name on both servers answers alike: the second server's model is "tuned".
        two.replies_by_prompt_substring = {"terse": "A tuned answer about the topic."}
        a = BackendService(BackendSettings(base_url=one.base_url, max_retries=0))
        b = BackendService(BackendSettings(base_url=two.base_url, max_retries=0))
        yield one, two, a, b
        await a.aclose()
        await b.aclose()


def comparison(a: BackendService, b: BackendService, blind: bool = False, **spec: object) -> ComparisonSession:
    values: dict[str, object] = {"template": TOPIC, "slots": {"topic": "the moon"}, "model": "", "batch": 3, "seed": 5}
    values.update(spec)
    return ComparisonSession((a, b), (BASE, TUNED), BatchSpec(**values), 4, blind=blind)  # type: ignore[arg-type]


def stored(workspace: Workspace, dataset_id: int) -> list[Example]:
    return [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]


async def test_both_models_get_the_same_prompts_and_seeds(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService],
) -> None:
    one, two, a, b = clients
    session = comparison(a, b, paraphrase_model="qwen3:0.6b")
    await session.run()
    assert session.state is BatchState.DONE and len(session.rows) == 3
    asked_a = [r for r in one.requests if r.get("model") == "llama3.2"]
    asked_b = [r for r in two.requests if r.get("model") == "llama3.2"]
    assert len(asked_a) == len(asked_b) == 3
    key = lambda r: (json.dumps(r["messages"]), r["options"]["seed"])  # noqa: E731
    assert sorted(map(key, asked_a)) == sorted(map(key, asked_b))
    assert not [r for r in two.requests if r.get("model") == "qwen3:0.6b"]  # paraphrased once, by side A
    for i in range(3):
        shown = session.shown(i)
        assert shown.left.prompt == shown.right.prompt
        assert shown.right.output == "A tuned answer about the topic." != shown.left.output


async def test_a_pick_saves_a_preference_pair_that_exports(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService], workspace: Workspace, tmp_path: Path
) -> None:
    _one, _two, a, b = clients
    dataset = workspace.datasets.create("compared").id
    session = comparison(a, b)
    await session.run()
    row = await session.pick(workspace.examples, dataset, 0, Pick.RIGHT)
    await session.pick(workspace.examples, dataset, 1, Pick.LEFT)
    await session.pick(workspace.examples, dataset, 2, Pick.NEITHER)
    assert row.winner == 1 and session.tally().wins == (1, 1) and session.tally().neither == 1
    first, second = stored(workspace, dataset)
    assert first.content.output == "A tuned answer about the topic."
    assert first.content.rejected == [session.shown(0).left.output]
    assert second.content.output == session.shown(1).left.output
    assert second.content.rejected == ["A tuned answer about the topic."]
    assert first.content.user_prompt == "Explain the moon." and first.content.system_prompt == "You are terse."
    assert (first.meta.source, first.meta.review, first.meta.desirability) == (
        ExampleSource.COMPARE,
        ReviewState.ACCEPTED,
        True,
    )
    assert first.meta.params["compare"] == {
        "chosen_model": "llama3.2",
        "chosen_endpoint": "tuned-box",
        "rejected_model": "llama3.2",
        "rejected_endpoint": "base-box",
        "blind": False,
    }
    out = tmp_path / "pairs.jsonl"
    export(workspace.examples, dataset, FORMATS["trl-preference"], out)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["prompt"][-1]["content"], r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in records] == [
        ("Explain the moon.", "A tuned answer about the topic.", session.shown(0).left.output),
        ("Explain the moon.", session.shown(1).left.output, "A tuned answer about the topic."),
    ]
    out = tmp_path / "openai.jsonl"
    export(workspace.examples, dataset, FORMATS["openai-preference"], out)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


async def test_blind_rows_are_stored_by_model_not_by_column(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService], workspace: Workspace
) -> None:
    _one, _two, a, b = clients
    dataset = workspace.datasets.create("blind").id
    session = comparison(a, b, blind=True, batch=8)
    await session.run()
    swapped = [r.index for r in session.rows if r.swapped]
    assert 0 < len(swapped) < 8  # drawn per row from the batch seed
    index = swapped[0]
    assert session.shown(index).left_contender == TUNED
    await session.pick(workspace.examples, dataset, index, Pick.LEFT)
    [example] = stored(workspace, dataset)
    assert example.content.output == "A tuned answer about the topic."
    assert example.meta.params["compare"]["chosen_endpoint"] == "tuned-box" and session.tally().wins == (0, 1)


async def test_a_second_pick_replaces_the_first_and_neither_removes_it(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService], workspace: Workspace
) -> None:
    _one, _two, a, b = clients
    dataset = workspace.datasets.create("again").id
    session = comparison(a, b, batch=1)
    await session.run()
    await session.pick(workspace.examples, dataset, 0, Pick.LEFT)
    await session.pick(workspace.examples, dataset, 0, Pick.RIGHT)
    [example] = stored(workspace, dataset)
    assert example.content.output == "A tuned answer about the topic." and session.tally().wins == (0, 1)
    await session.pick(workspace.examples, dataset, 0, Pick.NEITHER)
    assert stored(workspace, dataset) == [] and session.tally().neither == 1
    await asyncio.gather(*(session.pick(workspace.examples, dataset, 0, Pick.LEFT) for _ in range(3)))
    assert len(stored(workspace, dataset)) == 1  # quick picks one after another, never side by side


async def test_a_row_cannot_be_picked_before_both_answers_finish(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService], workspace: Workspace
) -> None:
    one, _two, a, b = clients
    one.faults_by_seed = {5: "drop"}  # row 1 of side A breaks off
    session = comparison(a, b, batch=1)
    await session.run()
    with pytest.raises(InvalidInput, match="Wait for both answers"):
        await session.pick(workspace.examples, workspace.datasets.create("x").id, 0, Pick.RIGHT)
    one.faults_by_seed = {}
    assert session.retry(0) == 1
    await session.sides[0].wait()  # type: ignore[index]
    assert session.shown(0).left.output


def test_the_same_contender_twice_is_refused(
    clients: tuple[FakeOllama, FakeOllama, BackendService, BackendService],
) -> None:
    _one, _two, a, b = clients
    with pytest.raises(InvalidInput, match="two different models"):
        ComparisonSession((a, b), (BASE, BASE), BatchSpec(template=TOPIC, slots={}, model=""), 4)
