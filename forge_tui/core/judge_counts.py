"""What a judge job counts (plain numbers in its results, no content) and the line that tells them."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from forge_tui.i18n import _

PROCESSED = "processed"
KEPT = "kept"  # at or above the threshold as judged
BELOW = "below"  # below it, and left as it was (action "none")
REMOVED = "removed"  # below it, marked rejected (action "reject"; reversible)
FIXED = "fixed"  # below it, rewritten, and at or above it when judged again (action "fix")
STILL_LOW = "still_low"  # rewritten, and below it still when judged again (not rewritten twice)
SCORE_SUM = "score_sum"  # of the final scores, for the mean
# Pairwise rubric (an example's answer against its first rejected one):
SWAPPED = "swapped"  # the rejected answer was the better one: the pair now has it as the answer
UNPAIRED = "unpaired"  # no rejected answer to compare with: left as it was, not judged


class Action(StrEnum):
    """What a judge job does with an example scored below the threshold."""

    NONE = "none"
    REJECT = "reject"
    FIX = "fix"


def mean_score(results: Mapping[str, float]) -> float | None:
    judged = results.get(PROCESSED, 0) - results.get(UNPAIRED, 0)
    return results.get(SCORE_SUM, 0) / judged if judged else None


def counts_line(results: Mapping[str, float]) -> str:
    """E.g. "processed 10, kept 6, fixed 2 (1 still low), removed 0, below 0, mean score 6.4"."""
    n = {name: int(results.get(name, 0)) for name in (PROCESSED, KEPT, BELOW, REMOVED, FIXED, STILL_LOW)}
    fixed = n[FIXED] + n[STILL_LOW]
    parts = [_("processed {count}").format(count=n[PROCESSED]), _("kept {count}").format(count=n[KEPT])]
    if n[STILL_LOW]:
        parts.append(_("fixed {count} ({low} still low)").format(count=fixed, low=n[STILL_LOW]))
    else:
        parts.append(_("fixed {count}").format(count=fixed))
    parts.append(_("removed {count}").format(count=n[REMOVED]))
    if n[BELOW]:
        parts.append(_("below the threshold {count}").format(count=n[BELOW]))
    if results.get(SWAPPED) or results.get(UNPAIRED):
        parts.append(_("pairs swapped {count}").format(count=int(results.get(SWAPPED, 0))))
        parts.append(_("without a pair {count}").format(count=int(results.get(UNPAIRED, 0))))
    judged = results.get(PROCESSED, 0) - results.get(UNPAIRED, 0)
    mean = results.get(SCORE_SUM, 0) / judged if judged else None
    if mean is not None:
        parts.append(_("mean score {score}").format(score=f"{mean:.1f}"))
    # TRANSLATORS: the separator between the counts of a judge job ("processed 10, kept 6").
    return _(", ").join(parts)


def is_judge_results(results: Mapping[str, float]) -> bool:
    return PROCESSED in results
