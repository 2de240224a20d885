"""Exact and near-duplicate detection (core.dedup) on planted duplicates."""

from __future__ import annotations

import random

import pytest

from forge_tui.core.dedup import NearDuplicateIndex, exact_key, find_clusters, normalise, shingles
from tests.dedup_texts import reword, text


def test_normalise_folds_case_width_punctuation_and_spaces() -> None:
    assert normalise("  Ｈｅｌｌｏ,   WORLD!\n\tIt's  me… ") == "hello world it s me"
    assert exact_key("Hello, world!") == exact_key("hello   WORLD")
    assert exact_key("hello world") != exact_key("hello word")


def test_short_and_cjk_texts_are_shingled_by_characters() -> None:
    assert shingles("two words") == {b"two w", b"wo wo", b"o wor", b" word", b"words"}
    assert b"\xe6\x9d\xb1\xe4\xba\xac" in shingles("東京は日本の首都です")  # 東京
    index = NearDuplicateIndex(threshold=0.5)
    index.add("a", "東京は日本の首都で、人口が最も多い都市です。")
    assert [k for k, _ in index.add("b", "東京は日本の首都で、人口が一番多い都市です。")] == ["a"]
    assert index.add("c", "大阪は食べ物で有名な西日本の大きな町です。") == []


def test_planted_near_duplicates_are_found_and_unrelated_texts_are_not() -> None:
    rng = random.Random(18)
    originals = [text(rng) for _ in range(300)]
    items = [(f"o{i}", t) for i, t in enumerate(originals)]
    planted = {f"o{i}": f"r{i}" for i in range(0, 300, 10)}
    items += [(copy, reword(rng, originals[int(key[1:])])) for key, copy in planted.items()]
    rng.shuffle(items)

    clusters = find_clusters(items, threshold=0.8)

    found = {frozenset(c.members) for c in clusters}
    assert found == {frozenset(pair) for pair in planted.items()}
    assert all(not c.exact and 0.8 <= c.lowest < 1.0 for c in clusters)


def test_exact_duplicates_after_normalisation_form_one_exact_cluster() -> None:
    rng = random.Random(5)
    base, other = text(rng), text(rng)
    items = [("a", base), ("b", other), ("c", base.upper() + " !!"), ("d", "  " + base.replace(" ", "  "))]
    clusters = find_clusters(items)
    assert len(clusters) == 1
    assert clusters[0].members == ["a", "c", "d"] and clusters[0].exact
    assert set(clusters[0].similarity.values()) == {1.0}
    assert find_clusters(items, exact_only=True)[0].members == ["a", "c", "d"]


def test_exact_copies_of_near_duplicates_join_their_cluster() -> None:
    rng = random.Random(7)
    base = text(rng, 50, 60)
    near = reword(rng, base)
    clusters = find_clusters([("a", base), ("b", near), ("c", base.lower())])
    assert [(c.members, c.exact) for c in clusters] == [(["a", "b", "c"], False)]
    assert clusters[0].similarity[("a", "c")] == 1.0
    assert 0.8 <= clusters[0].similarity[("a", "b")] < 1.0


def test_index_add_reports_earlier_keys_incrementally() -> None:
    rng = random.Random(9)
    base = text(rng, 60, 70)
    index = NearDuplicateIndex(threshold=0.8)
    assert index.add("a", base) == []
    assert index.add("b", text(rng)) == []
    found = index.add("c", reword(rng, base))
    assert [k for k, _ in found] == ["a"] and 0.8 <= found[0][1] <= 1.0
    again = index.add("a", base)  # re-adding a key replaces it
    assert [k for k, _ in again] == ["c"] and again[0][1] == pytest.approx(found[0][1])
    assert len(index) == 3


def test_a_threshold_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        NearDuplicateIndex(threshold=1.5)
