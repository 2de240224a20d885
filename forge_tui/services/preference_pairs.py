"""Which exported examples gain rejected answers from their rejected siblings (core.preference_pairs).

Two scans of the dataset a chunk at a time: the rejected examples by prompt hash (ids only), then
the accepted ones that are exported; only the rejected answers that found a partner are opened."""

from __future__ import annotations

from collections.abc import Collection

from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.models import Example
from forge_tui.core.preference_pairs import prompt_key
from forge_tui.services.examples import ExampleService

OPEN_CHUNK = 1000


def review_pairs(examples: ExampleService, dataset_id: int, exported: Collection[str]) -> dict[str, list[str]]:
    """For each accepted example in `exported` with rejected siblings: their answers, oldest first."""
    rejected: dict[bytes, list[str]] = {}
    for item in examples.scan(dataset_id, ExampleFilter(review=ReviewFilter.REJECTED)):
        if isinstance(item, Example):
            rejected.setdefault(prompt_key(item.content), []).append(item.id)
    if not rejected:
        return {}
    partners: dict[str, bytes] = {}
    for item in examples.scan(dataset_id, ExampleFilter(review=ReviewFilter.ACCEPTED)):
        if isinstance(item, Example) and item.id in exported:
            key = prompt_key(item.content)
            if key in rejected:
                partners[item.id] = key
    wanted = sorted({i for key in set(partners.values()) for i in rejected[key]})
    answers: dict[str, str] = {}
    for start in range(0, len(wanted), OPEN_CHUNK):
        for item in examples.open_ids(dataset_id, wanted[start : start + OPEN_CHUNK]):
            if isinstance(item, Example):
                answers[item.id] = item.content.output
    by_key = {key: [answers[i] for i in rejected[key] if i in answers] for key in set(partners.values())}
    return {example_id: by_key[key] for example_id, key in partners.items() if by_key[key]}
