"""core.sampling: stratified samples and splits are exact, seeded, disjoint and covering."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_tui.core.errors import InvalidInput
from forge_tui.core.sampling import largest_remainder, sample_ids, split_ids

strata_lists = st.lists(st.sampled_from("abcde"), min_size=0, max_size=200)


@given(st.integers(0, 500), st.lists(st.integers(0, 50), min_size=1, max_size=8))
def test_largest_remainder_sums_exactly_and_stays_within_one(total: int, weights: list[int]) -> None:
    shares = largest_remainder(total, weights)
    whole = sum(weights)
    if whole == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - total * weight / whole) < 1


@given(strata_lists, st.integers(0, 250), st.integers(0, 2**32))
def test_stratified_sample_counts_are_the_largest_remainder_shares(kinds: list[str], n: int, seed: int) -> None:
    ids = [f"id{i:04d}" for i in range(len(kinds))]
    strata = dict(zip(ids, kinds, strict=True))
    chosen = sample_ids(ids, n, seed, strata)
    assert len(chosen) == min(n, len(ids)) == len(set(chosen))
    assert chosen == sorted(chosen)  # kept in the given order
    sizes = Counter(kinds)
    names = sorted(sizes)
    expected = dict(zip(names, largest_remainder(min(n, len(ids)), [sizes[k] for k in names]), strict=True))
    got = Counter(strata[i] for i in chosen)
    assert {k: got.get(k, 0) for k in names} == expected
    assert sample_ids(ids, n, seed, strata) == chosen  # seeded


def test_stratified_sample_of_a_known_mix() -> None:
    ids = [f"{i:03d}" for i in range(300)]
    strata = {i: "qwen" if int(i) < 200 else "llama" for i in ids}
    chosen = sample_ids(ids, 30, 7, strata)
    assert Counter(strata[i] for i in chosen) == {"qwen": 20, "llama": 10}
    assert sample_ids(ids, 30, 8, strata) != chosen


@given(st.integers(0, 300), st.floats(0, 0.45), st.floats(0, 0.45), st.integers(0, 2**32))
def test_split_is_exact_seeded_disjoint_and_covering(count: int, valid: float, test: float, seed: int) -> None:
    ids = [f"id{i:04d}" for i in range(count)]
    split = split_ids(ids, valid, test, seed)
    parts = [split.train, split.valid, split.test]
    assert sorted(i for part in parts for i in part) == ids  # covering, and disjoint (no id twice)
    assert [len(p) for p in parts] == largest_remainder(count, [1 - valid - test, valid, test])
    assert split_ids(ids, valid, test, seed) == split


def test_split_sizes_of_a_thousand() -> None:
    split = split_ids([str(i) for i in range(1001)], 0.1, 0.1, 7)
    assert (len(split.train), len(split.valid), len(split.test)) == (801, 100, 100)


@pytest.mark.parametrize(("valid", "test"), [(-0.1, 0.1), (0.5, 0.5), (1.0, 0.0)])
def test_bad_fractions_are_refused(valid: float, test: float) -> None:
    with pytest.raises(InvalidInput):
        split_ids(["a"], valid, test, 1)
