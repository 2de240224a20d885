"""Duplicate examples of a real dataset: planted rewordings found, clusters stored (ids only),
dropping is a reversible rejection, keep rules."""

from __future__ import annotations

import random

import pytest
from rich.cells import cell_len

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput
from forge_tui.core.judging import Judgement
from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.backends import BackendService
from forge_tui.services.dedup import DedupService, KeepRule
from forge_tui.services.workspace import Workspace
from tests.dedup_texts import reword, text
from tests.fake_ollama import FakeOllama


def service(workspace: Workspace) -> DedupService:
    return DedupService(workspace.home, workspace.unlocked, workspace.examples)


def add(
    workspace: Workspace, dataset: int, answers: list[str], review: ReviewState = ReviewState.UNREVIEWED
) -> list[str]:
    items = [
        (ExampleContent(user_prompt="Tell me about the town.", output=a), ExampleMeta(review=review)) for a in answers
    ]
    return workspace.examples.add_many(dataset, items)


def test_planted_rewordings_are_found_stored_and_unrelated_examples_are_not(workspace: Workspace) -> None:
    rng = random.Random(4)
    dataset = workspace.datasets.create("town").id
    originals = [text(rng) for _ in range(60)]
    ids = add(workspace, dataset, originals)
    copies = add(workspace, dataset, [reword(rng, originals[i]) for i in range(0, 60, 6)])
    exact = add(workspace, dataset, [originals[1].upper()])
    planted = {frozenset((ids[i], copy)) for i, copy in zip(range(0, 60, 6), copies, strict=True)}
    planted.add(frozenset((ids[1], exact[0])))

    found = service(workspace).find(dataset, 0.8)

    assert {frozenset(c.members) for c in found} == planted
    assert [c.exact for c in found if exact[0] in c.members] == [True]
    stored = service(workspace).clusters(dataset)
    assert stored == found
    assert all(0.8 <= c.lowest <= 1.0 and c.between(*c.members) is not None for c in stored)
    assert originals[0].encode() not in workspace.home.db_path.read_bytes()  # ids and numbers only


def test_dropping_is_a_rejection_that_can_be_undone(workspace: Workspace) -> None:
    rng = random.Random(8)
    dataset = workspace.datasets.create("drops").id
    base = text(rng, 50, 60)
    (accepted,) = add(workspace, dataset, [base], ReviewState.ACCEPTED)
    (unreviewed,) = add(workspace, dataset, [reword(rng, base)])
    (copy,) = add(workspace, dataset, [base + " "], ReviewState.ACCEPTED)
    dedup = service(workspace)
    (cluster,) = dedup.find(dataset)
    assert cluster.members == [accepted, unreviewed, copy]

    assert dedup.keep(cluster.id, [unreviewed]) == 2
    assert workspace.examples.review_counts(dataset)[ReviewState.REJECTED] == 2
    (kept,) = dedup.clusters(dataset)
    assert kept.decision == "kept" and kept.dropped == {accepted: ReviewState.ACCEPTED, copy: ReviewState.ACCEPTED}

    assert dedup.keep_all(cluster.id) == 2
    states = {i: workspace.examples.get(i).meta.review for i in cluster.members}
    assert states == {accepted: ReviewState.ACCEPTED, unreviewed: ReviewState.UNREVIEWED, copy: ReviewState.ACCEPTED}

    assert dedup.keep(cluster.id, [copy]) == 2
    assert dedup.undo(cluster.id) == 2
    assert {i: workspace.examples.get(i).meta.review for i in cluster.members} == states
    assert dedup.clusters(dataset)[0].decision == "open"
    with pytest.raises(InvalidInput):
        dedup.keep(cluster.id, ["not-a-member"])


def test_keep_rules_pick_first_best_score_or_longest(workspace: Workspace) -> None:
    rng = random.Random(12)
    dataset = workspace.datasets.create("rules").id
    base = text(rng, 60, 70)
    first, scored, longest = add(workspace, dataset, [base, reword(rng, base), base + " Indeed so."])
    judgement = Judgement(rubric="overall", model="j", score=9.0, criteria={}, reason="good", verdict=None)
    workspace.examples.set_judgements(dataset, [(scored, judgement)])
    dedup = service(workspace)
    (cluster,) = dedup.find(dataset)
    assert dedup.chosen(dataset, cluster, KeepRule.FIRST) == first
    assert dedup.chosen(dataset, cluster, KeepRule.BEST_SCORE) == scored
    assert dedup.chosen(dataset, cluster, KeepRule.LONGEST) == longest
    counts = dedup.resolve_all(dataset, KeepRule.LONGEST)
    assert (counts.clusters, counts.dropped) == (1, 2)
    assert dedup.resolve_all(dataset, KeepRule.LONGEST).clusters == 0  # decided clusters stay decided
    # Rejected examples are out of the next run.
    assert dedup.find(dataset) == []


def test_exact_only_and_a_bad_threshold(workspace: Workspace) -> None:
    rng = random.Random(1)
    dataset = workspace.datasets.create("exact").id
    base = text(rng, 60, 70)
    a, _near, c = add(workspace, dataset, [base, reword(rng, base), base.lower()])
    assert [cl.members for cl in service(workspace).find(dataset, exact_only=True)] == [[a, c]]
    with pytest.raises(InvalidInput, match="threshold"):
        service(workspace).find(dataset, 1.5)


async def test_embeddings_from_the_server_find_the_planted_rewordings(workspace: Workspace, fake: FakeOllama) -> None:
    rng = random.Random(10)
    dataset = workspace.datasets.create("embedded").id
    originals = [text(rng, 50, 70) for _ in range(20)]
    ids = add(workspace, dataset, originals)
    copies = add(workspace, dataset, [reword(rng, originals[i]) for i in (3, 11)] + [originals[5].upper()])
    async with BackendService(BackendSettings(base_url=fake.base_url)) as backend:

        async def embed(texts: list[str]) -> list[list[float]]:
            return await backend.embed("llama3.2", texts)

        found = await service(workspace).find_by_embeddings(dataset, 0.9, embed, batch=7)

    assert [(c.members, c.exact, c.method) for c in found] == [
        ([ids[3], copies[0]], False, "embeddings"),
        ([ids[5], copies[2]], True, "exact"),
        ([ids[11], copies[1]], False, "embeddings"),
    ]
    assert all(0.9 <= s <= 1.0001 for c in found for s in c.similarity.values())


def test_a_preview_of_chinese_text_fits_its_width_in_cells(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("town").id
    [wide, narrow] = add(workspace, dataset, ["小鎮的歷史" * 20, "a" * 100])
    shown = service(workspace).previews(dataset, [wide, narrow], width=21)
    assert shown[wide] == "小鎮的歷史小鎮的歷史…"
    assert cell_len(shown[wide]) <= 21
    assert shown[narrow] == "a" * 20 + "…"
