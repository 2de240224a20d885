"""Calibration figures on hand-made decisions whose agreement is known exactly."""

from __future__ import annotations

import math

import pytest

from forge_tui.core.calibration import calibrate, ranks, spearman, summary

# (judge score, a person kept it): at threshold 7, 2 kept above, 1 dropped above, 1 kept below,
# 2 dropped below.
PAIRS = [(9.0, True), (8.0, True), (7.0, False), (6.0, True), (3.0, False), (2.0, False)]


def test_figures_at_a_threshold() -> None:
    c = calibrate(PAIRS, 7)
    assert (c.total, c.good, c.bad) == (6, 3, 3)
    assert (c.true_good, c.false_good, c.true_bad, c.false_bad) == (2, 1, 2, 1)
    assert c.accuracy == pytest.approx(4 / 6)
    assert c.balanced_accuracy == pytest.approx(2 / 3)
    # Ranks of the scores 9..2: 6..1; of the decisions: the three kept share rank 5, the others 2.
    assert c.spearman == pytest.approx(10.5 / math.sqrt(17.5 * 13.5))
    # Thresholds 6 and 8 both agree on 5 of 6 (balanced 5/6); the lower one keeps more examples.
    assert c.suggested_threshold == 6.0
    assert c.suggested_balanced_accuracy == pytest.approx(5 / 6)
    assert summary(c) == (
        "Over 6 examples (3 kept, 3 turned down) the judge agrees with you on 67% at threshold 7; "
        "rank correlation 0.68; threshold 6 would agree best (83% balanced accuracy)."
    )


def test_ranks_average_ties_and_spearman_matches_a_known_value() -> None:
    assert ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # Without ties rho = 1 - 6 Σd² / (n(n² - 1)); here Σd² = 4.
    xs, ys = [1, 2, 3, 4, 5], [2, 1, 4, 3, 5]
    assert spearman(xs, ys) == pytest.approx(1 - 6 * 4 / (5 * 24))
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1], [1]) is None


def test_without_both_kinds_of_decision_there_is_no_suggestion() -> None:
    c = calibrate([(8, True), (3, True)], 5)
    assert (c.accuracy, c.balanced_accuracy, c.suggested_threshold, c.spearman) == (0.5, None, None, None)
    empty = calibrate([], 7)
    assert (empty.total, empty.accuracy, empty.spearman) == (0, None, None)
    assert summary(empty).startswith("No example has both a person's decision and a judge's score")


def test_perfect_agreement_suggests_the_boundary() -> None:
    c = calibrate([(9, True), (8, True), (4, False), (2, False)], 5)
    assert (c.accuracy, c.balanced_accuracy, c.suggested_threshold) == (1.0, 1.0, 8.0)
    assert c.spearman == pytest.approx(4 / math.sqrt(5 * 4))
