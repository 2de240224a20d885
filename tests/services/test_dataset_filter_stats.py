"""`datasets filter` and `datasets stats` on a real database: the figures of a known dataset, and a filter
copied into a new dataset in one transaction."""

from __future__ import annotations

import pytest

from forge_tui.core.dataset_stats import Histogram, bars, estimated_tokens, histogram, stats_lines
from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.dataset_filter import DatasetFilterService, parse_filter
from forge_tui.services.workspace import Workspace


def _stock(workspace: Workspace) -> int:
    """12 examples: models a (8) and b (4); sources import (6) and job (6); every third rejected; topics
    physics (6), maths (4), art (2); scores 1..12 capped at 10; tokens 10..120; two flagged."""
    dataset = workspace.datasets.create("known")
    topics = ["physics"] * 6 + ["maths"] * 4 + ["art"] * 2
    items = []
    for i in range(12):
        content = ExampleContent(user_prompt=f"q{i}", output="x" * (10 * (i + 1)), slots={"topic": topics[i]})
        meta = ExampleMeta(
            model="a" if i < 8 else "b",
            source=ExampleSource.IMPORT if i % 2 else ExampleSource.JOB,
            review=ReviewState.REJECTED if i % 3 == 0 else ReviewState.ACCEPTED,
            score=float(min(i + 1, 10)),
            completion_tokens=10 * (i + 1),
            language_flag="looks like French" if i in (4, 5) else None,
        )
        items.append((content, meta))
    workspace.examples.add_many(dataset.id, items)
    return dataset.id


def test_stats_figures_on_a_known_dataset(workspace: Workspace) -> None:
    _stock(workspace)
    stats = DatasetFilterService(workspace.examples).stats("known")
    assert stats.total == 12
    assert stats.by_model == {"a": 8, "b": 4}
    assert stats.by_source == {"import": 6, "job": 6}
    assert stats.by_review == {"rejected": 4, "accepted": 8}
    assert stats.flagged == 2
    assert stats.slots == {"topic": [("physics", 6), ("maths", 4), ("art", 2)]}
    assert (stats.tokens_counted, stats.tokens.low, stats.tokens.high, stats.tokens.total) == (True, 10, 120, 12)
    assert (stats.answer_chars.low, stats.answer_chars.high) == (10, 120)
    lines = stats_lines(stats)
    assert lines[0] == "known: 12 examples, 2 with a language flag"
    assert 'slot topic: "physics" 6, "maths" 4, "art" 2' in lines


def test_without_counted_tokens_they_are_estimated_and_said_so(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("imported")
    answers = ["one two three", "資料集的範本", "Hello, world! 你好", ""]
    workspace.examples.add_many(
        dataset.id,
        [(ExampleContent(user_prompt="q", output=a, slots={"input": ""}), ExampleMeta()) for a in answers],
    )
    stats = DatasetFilterService(workspace.examples).stats("imported")
    assert [estimated_tokens(a) for a in answers] == [4, 6, 5, 0]
    assert (stats.tokens_counted, stats.tokens.low, stats.tokens.high, stats.tokens.total) == (False, 0, 6, 4)
    lines = stats_lines(stats)
    assert "slot input: (empty) 4" in lines
    assert any(line.startswith("tokens (estimated) 0..6: ") for line in lines)


def test_histogram_bins_are_exact() -> None:
    assert histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], bins=5).counts == (2, 2, 2, 2, 3)
    assert histogram([3, 3], bins=5) == Histogram(3, 3, (2,))
    assert histogram([]) == Histogram()
    assert bars(Histogram(0, 1, (0, 1, 2))) == " ▄█"


def test_filter_into_copies_exactly_the_matching_examples(workspace: Workspace) -> None:
    _stock(workspace)
    service = DatasetFilterService(workspace.examples)
    result = service.filter_into("known", "score>=7 and review!=rejected and model=~'A'", "best")
    # scores 7..10 at i = 6..11; rejected at i = 6, 9; model a only up to i = 7: i = 7 only
    assert (result.taken, result.total, result.broken) == (1, 12, 0)
    best = workspace.datasets.get("best")
    copied = list(workspace.examples.scan(best.id))
    assert [e.content.user_prompt for e in copied] == ["q7"]  # type: ignore[union-attr]
    both = service.filter_into("known", "slot:topic = maths or answer =~ 'x{110}'", "maths")
    assert both.taken == 6  # maths at i = 6..9; answers of 110 and 120 characters at i = 10, 11
    maths = workspace.datasets.get("maths").id
    opened = [e.content.slots["topic"] for e in workspace.examples.scan(maths)]  # type: ignore[union-attr]
    assert sorted(opened) == ["art", "art", "maths", "maths", "maths", "maths"]


def test_bad_input_loses_nothing(workspace: Workspace) -> None:
    _stock(workspace)
    service = DatasetFilterService(workspace.examples)
    with pytest.raises(InvalidInput, match="Unknown column 'scroe' at 1"):
        service.filter_into("known", "scroe >= 7", "x")
    with pytest.raises(Conflict, match="already a dataset named 'known'"):
        service.filter_into("known", "score >= 7", "known")
    with pytest.raises(NotFound, match="No dataset named 'nope'"):
        service.filter_into("nope", "score >= 7", "x")
    assert [d.name for d in workspace.datasets.list()] == ["default", "known"]
    assert workspace.datasets.get("known").example_count == 12


@pytest.mark.parametrize(
    "where",
    [
        "prompt ~ q1 and model = a",
        "not slot:topic = physics or kto = none",
        "answer =~ '^x{30,60}$' and created >= '2020-01-01' and flag = none",
        "system = '' and (score >= 9 or slot:topic != art)",
        "rejected = 0 and prompt_tokens = none and tokens < 50 and slot:missing = none",
    ],
)
def test_opening_only_the_tested_fields_agrees_with_the_whole_example(workspace: Workspace, where: str) -> None:
    dataset_id = _stock(workspace)
    wanted = parse_filter(where)
    assert wanted.needs_content
    every = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
    found, broken = DatasetFilterService(workspace.examples).matching(dataset_id, wanted)
    assert [e.id for e in found] == [e.id for e in every if wanted.matches(e)] and broken == 0
    assert found  # each expression takes some


def test_filter_and_stats_write_no_plaintext(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("secret")
    canary = "zebra-canary-answer-91f3"
    content = ExampleContent(user_prompt="canary prompt", output=canary, slots={"topic": "canary-slot-value"})
    workspace.examples.add(dataset.id, content, ExampleMeta(score=9.0))
    service = DatasetFilterService(workspace.examples)
    assert service.filter_into("secret", f"answer ~ '{canary}' and slot:topic ~ canary", "copy").taken == 1
    assert service.stats("secret").slots == {"topic": [("canary-slot-value", 1)]}
    folder = workspace.examples.home.db_path.parent
    for path in folder.iterdir():
        if path.is_file():
            data = path.read_bytes()
            assert canary.encode() not in data and b"canary-slot-value" not in data, path.name
