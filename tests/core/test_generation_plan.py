"""Planning a generation job: exact counts for weights, seeds that repeat, combinations that cover
their product, explicit values drawn evenly."""

from __future__ import annotations

import itertools
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import (
    TOPIC_TEMPLATE,
    ExampleKind,
    GenerationSpec,
    SlotSource,
    SourceType,
    plan_items,
    slot_spread,
)
from forge_tui.core.templates import SlotDef, TemplateInfo, WeightedValue

TEMPLATE = TemplateInfo(
    name="Questions",
    user_prompt="Ask a {{ level }} question about {{ topic }} in a {{ tone }} tone.",
    slots=[
        SlotDef(
            name="level",
            default="basic",
            values=[WeightedValue(value="basic", weight=1), WeightedValue(value="expert", weight=2)],
        ),
        SlotDef(name="topic", default="tides", values=[WeightedValue(value=v) for v in ("tides", "moons", "stars")]),
        SlotDef(name="tone", default="plain", values=[WeightedValue(value=v) for v in ("plain", "playful")]),
    ],
)


def spec(**overrides: Any) -> GenerationSpec:
    values: dict[str, Any] = {"template": TEMPLATE, "count": 300, "dataset_id": 1, "model": "llama3.2", "seed": 7}
    values.update(overrides)
    return GenerationSpec(**values)


def counts(items: list[Any], slot: str) -> Counter[str]:
    return Counter(item.slots[slot] for item in items)


def test_weights_one_and_two_over_300_items_are_exactly_100_and_200() -> None:
    items = plan_items(spec(sources={"level": SlotSource(type=SourceType.WEIGHTED)}))
    assert counts(items, "level") == {"basic": 100, "expert": 200}
    assert [item.idx for item in items] == list(range(300))


def test_slots_without_a_source_take_their_default() -> None:
    items = plan_items(spec(count=4))
    assert all(item.slots == {"level": "basic", "topic": "tides", "tone": "plain"} for item in items)


@settings(max_examples=60, deadline=None)
@given(
    weights=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8).filter(any),
    count=st.integers(min_value=1, max_value=400),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_uneven_weights_realise_their_share_and_sum_to_the_count(weights: list[int], count: int, seed: int) -> None:
    slot = SlotDef(name="level", values=[WeightedValue(value=f"v{i}", weight=w) for i, w in enumerate(weights)])
    template = TEMPLATE.model_copy(update={"slots": [slot, *TEMPLATE.slots[1:]]})
    items = plan_items(spec(template=template, count=count, seed=seed, sources={"level": SlotSource(type="weighted")}))
    realised = counts(items, "level")
    assert sum(realised.values()) == count
    total = sum(weights)
    for i, weight in enumerate(weights):
        share = weight * count / total
        assert share - 1 < realised[f"v{i}"] < share + 1  # floor or ceiling of the exact share
        if weight == 0:
            assert realised[f"v{i}"] == 0


def test_the_same_seed_gives_the_same_plan_and_another_seed_another_order() -> None:
    sources = {"level": SlotSource(type="weighted"), "topic": SlotSource(type="weighted")}
    first, again = plan_items(spec(sources=sources)), plan_items(spec(sources=sources))
    assert first == again
    other = plan_items(spec(sources=sources, seed=8))
    assert [i.slots["level"] for i in other] != [i.slots["level"] for i in first]
    assert counts(other, "level") == counts(first, "level")
    assert [i.seed for i in other] != [i.seed for i in first]
    assert len({i.seed for i in first}) > 290  # each item its own seed


def test_slots_do_not_move_in_step() -> None:
    """Two slots with the same value counts must not pair the same way every time."""
    items = plan_items(spec(sources={"topic": SlotSource(type="weighted"), "tone": SlotSource(type="weighted")}))
    pairs = Counter((i.slots["topic"], i.slots["tone"]) for i in items)
    assert len(pairs) == 6


def test_combinations_cover_the_product_and_cycle_when_there_are_more_items() -> None:
    sources = {"topic": SlotSource(type=SourceType.COMBINATIONS, slots=["topic", "tone"])}
    items = plan_items(spec(count=6, sources=sources))
    product = set(itertools.product(("tides", "moons", "stars"), ("plain", "playful")))
    assert {(i.slots["topic"], i.slots["tone"]) for i in items} == product
    many = plan_items(spec(count=20, sources=sources))
    realised = Counter((i.slots["topic"], i.slots["tone"]) for i in many)
    assert set(realised) == product
    assert sorted(realised.values()) == [3, 3, 3, 3, 4, 4]  # 20 = 3 cycles of 6, and 2 more


def test_fewer_items_than_combinations_are_distinct_ones() -> None:
    sources = {"topic": SlotSource(type="combinations", slots=["level", "tone"])}
    items = plan_items(spec(count=10, sources=sources))
    triples = [(i.slots["topic"], i.slots["level"], i.slots["tone"]) for i in items]
    assert len(set(triples)) == 10  # of 12 combinations


def test_a_combination_takes_a_values_source_as_its_list() -> None:
    sources = {
        "topic": SlotSource(type="combinations", slots=["tone"]),
        "tone": SlotSource.of_values(["dry", "warm", "dry"]),
    }
    items = plan_items(spec(count=6, sources=sources))
    assert Counter((i.slots["topic"], i.slots["tone"]) for i in items) == {
        (t, tone): 1 for t in ("tides", "moons", "stars") for tone in ("dry", "warm")
    }


def test_values_are_drawn_evenly() -> None:
    values = [f"topic {n}" for n in range(7)]
    items = plan_items(spec(count=100, sources={"topic": SlotSource.of_values(values, origin="file topics.txt")}))
    realised = counts(items, "topic")
    assert set(realised) == set(values)
    assert sorted(realised.values()) == [14] * 5 + [15] * 2


def test_slot_spread_counts_every_value() -> None:
    items = plan_items(spec(count=30, sources={"level": SlotSource(type="weighted")}))
    spread = slot_spread(items)
    assert spread["level"] == {"basic": 10, "expert": 20}
    assert spread["tone"] == {"plain": 30}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"sources": {"nope": SlotSource()}}, "no slot 'nope'"),
        ({"sources": {"tone": SlotSource(type="combinations", slots=["nah"])}}, "no slot 'nah'"),
        ({"kind": ExampleKind.TOOL_CALLING}, "has no tools"),
        ({"kind": ExampleKind.PREFERENCE}, "second model or a second temperature"),
        ({"model": " "}, "No generation model"),
        (
            {
                "sources": {
                    "topic": SlotSource(type="combinations", slots=["tone"]),
                    "level": SlotSource(type="combinations", slots=["tone"]),
                }
            },
            "two different combinations",
        ),
    ],
)
def test_a_spec_that_does_not_fit_is_refused_with_a_sentence(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        plan_items(spec(**overrides))


def test_weighted_without_values_and_an_undefined_slot_are_refused() -> None:
    bare = TemplateInfo(name="Bare", user_prompt="{{ a }} and {{ b }}", slots=[SlotDef(name="a")])
    with pytest.raises(InvalidInput, match="Slot 'a' has no weighted values"):
        plan_items(spec(template=bare, sources={"a": SlotSource(type="weighted")}))
    with pytest.raises(InvalidInput, match="Slot 'b' is used in the prompt but not defined"):
        plan_items(spec(template=bare))
    assert plan_items(spec(template=bare, count=2, sources={"b": SlotSource.of_values(["x"])}))[0].slots == {
        "a": "",
        "b": "x",
    }


def test_a_values_source_needs_values_and_a_spec_round_trips_as_json() -> None:
    with pytest.raises(ValueError, match="at least one value"):
        SlotSource(type="values")
    original = spec(sources={"topic": SlotSource.of_values(["a", "b"]), "level": SlotSource(type="weighted")})
    again = GenerationSpec.model_validate_json(original.model_dump_json())
    assert again == original
    assert plan_items(again) == plan_items(original)


def test_the_topic_template_plans_with_topic_values() -> None:
    items = plan_items(
        spec(template=TOPIC_TEMPLATE, count=4, sources={"topic": SlotSource.of_values(["tides", "comets"])})
    )
    assert counts(items, "topic") == {"tides": 2, "comets": 2}
