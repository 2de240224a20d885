"""The review queue: its order by score (unscored last) or time, decisions written behind the cards,
one undo per bulk decision, cards opened before they are asked for, cluster sizes, fix with the reason."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import ForgeError
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.dedup import DedupService
from forge_tui.services.review_queue import ReviewOrder, ReviewQueue, cluster_sizes, fix_answer
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama

# Example i has score SCORES[i] (None: not judged); example 6 is accepted already.
SCORES = (7.0, 2.0, None, 9.0, 4.0, None, 1.0)


def judged(score: float) -> Judgement:
    return Judgement(rubric="overall", model="judge", score=score, reason=f"scored {score:g} for a reason")


def dataset_of(workspace: Workspace) -> tuple[int, list[str]]:
    dataset = workspace.datasets.current()
    assert dataset is not None
    items = [
        (
            ExampleContent(user_prompt=f"question {i}", output=f"answer {i}"),
            ExampleMeta(review=ReviewState.ACCEPTED if i == 6 else ReviewState.UNREVIEWED),
        )
        for i in range(len(SCORES))
    ]
    ids = workspace.examples.add_many(dataset.id, items)
    workspace.examples.set_judgements(
        dataset.id, [(i, judged(s)) for i, s in zip(ids, SCORES, strict=True) if s is not None]
    )
    return dataset.id, ids


def wait(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the reader never got there"
        time.sleep(0.005)


@pytest.fixture
def queues() -> Iterator[list[ReviewQueue]]:
    made: list[ReviewQueue] = []
    yield made
    for queue in made:
        queue.close()


def opened(workspace: Workspace, dataset_id: int, made: list[ReviewQueue], **options: object) -> ReviewQueue:
    queue = ReviewQueue(workspace.examples, dataset_id, **options)  # type: ignore[arg-type]
    made.append(queue)
    queue.start()
    wait(lambda: queue.ready and (queue.total == 0 or queue.current() is not None))
    return queue


def test_order_by_score_either_way_unscored_last_and_by_time(workspace: Workspace, queues: list[ReviewQueue]) -> None:
    dataset_id, ids = dataset_of(workspace)
    worst = opened(workspace, dataset_id, queues)  # unreviewed only: example 6 is accepted
    assert worst.ids == [ids[i] for i in (1, 4, 0, 3, 2, 5)]
    best = opened(workspace, dataset_id, queues, order=ReviewOrder.BEST_FIRST)
    assert best.ids == [ids[i] for i in (3, 0, 4, 1, 2, 5)]
    by_time = opened(workspace, dataset_id, queues, order=ReviewOrder.BY_TIME)
    assert by_time.ids == ids[:6]
    card = worst.current()
    assert card is not None and isinstance(card.example, Example)
    assert card.example.content.output == "answer 1" and card.judgement is not None
    assert card.judgement.reason == "scored 2 for a reason" and card.cluster_size is None
    worst.reorder(ReviewOrder.BY_TIME)
    wait(lambda: worst.ready and worst.current() is not None)
    assert worst.ids == ids[:6] and worst.position == 0


def stored(workspace: Workspace, ids: list[str]) -> list[ReviewState]:
    return [workspace.examples.get(i).meta.review for i in ids]


def test_decisions_are_written_behind_the_cards_and_undone(workspace: Workspace, queues: list[ReviewQueue]) -> None:
    dataset_id, ids = dataset_of(workspace)
    queue = opened(workspace, dataset_id, queues)
    assert queue.decide(ReviewState.ACCEPTED) and queue.decide(ReviewState.REJECTED)  # examples 1 and 4
    assert queue.position == 2 and queue.counts[ReviewState.UNREVIEWED] == 4
    queue.flush()
    assert stored(workspace, [ids[1], ids[4]]) == [ReviewState.ACCEPTED, ReviewState.REJECTED]
    undone = queue.undo()
    assert undone is not None and queue.position == 1  # back at the card rejected
    queue.flush()
    assert stored(workspace, [ids[1], ids[4]]) == [ReviewState.ACCEPTED, ReviewState.UNREVIEWED]

    # Bulk: at or above 7 accepted (examples 0 and 3), in one decision that one undo takes back.
    high = queue.scored(at_least=7)
    assert sorted(high) == sorted([ids[0], ids[3]])
    assert queue.decide_many(high, ReviewState.ACCEPTED) == 2
    low = queue.scored(below=4)  # example 1 (2.0, accepted before): unscored ones are left alone
    assert queue.decide_many(low, ReviewState.REJECTED) == 1
    queue.flush()
    accepted, rejected, unreviewed = ReviewState.ACCEPTED, ReviewState.REJECTED, ReviewState.UNREVIEWED
    assert stored(workspace, ids[:6]) == [accepted, rejected, unreviewed, accepted, unreviewed, unreviewed]
    queue.undo()
    queue.undo()
    queue.flush()
    assert stored(workspace, ids[:6]) == [ReviewState.UNREVIEWED, ReviewState.ACCEPTED] + [ReviewState.UNREVIEWED] * 4
    assert queue.counts[ReviewState.ACCEPTED] == 1 and queue.counts[ReviewState.UNREVIEWED] == 5


def test_the_next_card_is_open_before_it_is_asked_for(workspace: Workspace, queues: list[ReviewQueue]) -> None:
    dataset = workspace.datasets.current()
    assert dataset is not None
    meta = ExampleMeta(review=ReviewState.UNREVIEWED)
    items = [(ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), meta) for i in range(40)]
    workspace.examples.add_many(dataset.id, items)
    queue = opened(workspace, dataset.id, queues, order=ReviewOrder.BY_TIME, ahead=3)
    first_reads = queue.reads
    for step in range(39):
        queue.flush()  # the reader has caught up with the last key; the next key finds its card open
        reads = queue.reads
        assert queue.is_open(queue.ids[step + 1]), f"card {step + 1} was not opened ahead"
        assert queue.decide(ReviewState.ACCEPTED) if step % 2 else queue.move(1)
        assert queue.current() is not None and queue.reads == reads  # shown without a read
    assert queue.reads > first_reads  # the window moved along
    assert not queue.move(1)


def test_cluster_sizes_come_from_the_last_dedup(workspace: Workspace, queues: list[ReviewQueue]) -> None:
    dataset = workspace.datasets.current()
    assert dataset is not None
    texts = [("What is 2+2?", "Four."), ("what is 2 + 2", "four"), ("WHAT IS 2+2?", "Four!"), ("Sky?", "Blue.")]
    texts += [("sky", "blue"), ("Unrelated", "Entirely different words here.")]
    items = [(ExampleContent(user_prompt=q, output=a), ExampleMeta(review=ReviewState.UNREVIEWED)) for q, a in texts]
    ids = workspace.examples.add_many(dataset.id, items)
    assert cluster_sizes(workspace.examples, ids) == {}  # no dedup has run
    DedupService(workspace.home, workspace.unlocked, workspace.examples).find(dataset.id, exact_only=True)
    expected = {ids[0]: 3, ids[1]: 3, ids[2]: 3, ids[3]: 2, ids[4]: 2}
    assert cluster_sizes(workspace.examples, ids) == expected
    card = opened(workspace, dataset.id, queues).current()
    assert card is not None and card.cluster_size == expected.get(card.example.id)


async def test_fix_rewrites_the_answer_and_keeps_the_old_one_rejected(
    workspace: Workspace, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset_id, ids = dataset_of(workspace)
    example = workspace.examples.get(ids[1])
    settings = BackendSettings(base_url=fake.base_url, generation_model="llama3.2")
    judgement = workspace.examples.judgements(dataset_id, [ids[1]])[ids[1]]
    with pytest.raises(ForgeError, match="no judge's reason"):
        await fix_answer(workspace.examples, settings, None, example, None)
    fixed = await fix_answer(workspace.examples, settings, None, example, judgement)
    assert fixed.content.output and fixed.content.output != "answer 1"
    assert fixed.content.rejected == ["answer 1"]
    assert workspace.examples.get(ids[1]).content == fixed.content
    asked = " ".join(str(m["content"]) for m in fake.requests[-1]["messages"])
    assert "answer 1" in asked and judgement.reason in asked
