"""Which examples a view or an export takes, by review state, source, desirability and judge score, in
which order a view shows them, and how the Examples table shows an example's source, review state and
score in one short cell."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE
from forge_tui.core.models import ExampleMeta, ExampleSource, ReviewState
from forge_tui.i18n import _

# The table's review cell: a person kept it, nobody looked yet, a person turned it down.
REVIEW_MARKS = {ReviewState.ACCEPTED: "✓", ReviewState.UNREVIEWED: "·", ReviewState.REJECTED: "✗"}
FLAG_MARK = "⚑"  # the table's language-flag cell: the answer is not in the language the job asked for


class ReviewFilter(StrEnum):
    """Which review states are taken. The table cycles ALL, UNREVIEWED, ACCEPTED, REJECTED; export
    takes NOT_REJECTED unless told otherwise."""

    ALL = "all"
    NOT_REJECTED = "not-rejected"
    ACCEPTED = "accepted"
    UNREVIEWED = "unreviewed"
    REJECTED = "rejected"

    @property
    def states(self) -> tuple[ReviewState, ...]:
        return _STATES[self]

    def admits(self, state: ReviewState) -> bool:
        return state in _STATES[self]

    def cycled(self) -> ReviewFilter:
        return _REVIEW_CYCLE.get(self, ReviewFilter.ALL)


_STATES = {
    ReviewFilter.ALL: tuple(ReviewState),
    ReviewFilter.NOT_REJECTED: (ReviewState.ACCEPTED, ReviewState.UNREVIEWED),
    ReviewFilter.ACCEPTED: (ReviewState.ACCEPTED,),
    ReviewFilter.UNREVIEWED: (ReviewState.UNREVIEWED,),
    ReviewFilter.REJECTED: (ReviewState.REJECTED,),
}
_REVIEW_CYCLE = {
    ReviewFilter.ALL: ReviewFilter.UNREVIEWED,
    ReviewFilter.UNREVIEWED: ReviewFilter.ACCEPTED,
    ReviewFilter.ACCEPTED: ReviewFilter.REJECTED,
    ReviewFilter.REJECTED: ReviewFilter.ALL,
}


class SourceFilter(StrEnum):
    """Which sources are taken; `cycled` goes through them in this order."""

    ALL = "all"
    AUDITION = "audition"
    IMPORT = "import"
    JOB = "job"
    PLAYGROUND = "playground"
    COMPARE = "compare"

    def admits(self, source: ExampleSource) -> bool:
        return self is SourceFilter.ALL or source.value == self.value

    def cycled(self) -> SourceFilter:
        order = list(SourceFilter)
        return order[(order.index(self) + 1) % len(order)]


@dataclass(frozen=True)
class ExampleFilter:
    """The filters of the Examples table (and export's review choice) together; each narrows."""

    desirability: DesirabilityFilter = DesirabilityFilter.ALL
    review: ReviewFilter = ReviewFilter.ALL
    source: SourceFilter = SourceFilter.ALL
    job_id: int | None = None  # only the examples this job made
    flagged: bool | None = None  # True: only those with a language flag; False: only those without
    min_score: float | None = None  # only those a judge scored at or above this
    max_score: float | None = None  # only those a judge scored below this
    judged: bool | None = None  # True: only those with a score; False: only those without

    @classmethod
    def of(cls, wanted: ExampleFilter | DesirabilityFilter) -> ExampleFilter:
        """Callers that filter by desirability alone pass a DesirabilityFilter."""
        return wanted if isinstance(wanted, ExampleFilter) else cls(desirability=wanted)

    @property
    def takes_all(self) -> bool:
        return self == ExampleFilter()

    def next_desirability(self) -> ExampleFilter:
        return replace(self, desirability=self.desirability.cycled())

    def next_review(self) -> ExampleFilter:
        return replace(self, review=self.review.cycled())

    def next_flag(self) -> ExampleFilter:
        """Every example, then only those whose answer is flagged as not in the job's language."""
        return replace(self, flagged=None if self.flagged else True)

    def next_source(self) -> ExampleFilter:
        """The next source; one job's examples are followed by every source's."""
        if self.job_id is not None:
            return replace(self, source=SourceFilter.ALL, job_id=None)
        return replace(self, source=self.source.cycled())

    def with_scores(self, min_score: float | None = None, max_score: float | None = None) -> ExampleFilter:
        """Only examples scored in [min_score, max_score) (a bound that is None does not narrow); with
        neither, the score no longer narrows. Bounds out of order take nothing."""
        return replace(self, min_score=min_score, max_score=max_score)

    def next_judged(self) -> ExampleFilter:
        """Every example, then only the judged ones, then only the unjudged ones."""
        return replace(self, judged={None: True, True: False}.get(self.judged))

    def admits_score(self, score: float | None) -> bool:
        if score is None:
            return self.judged is not True and self.min_score is None and self.max_score is None
        return (
            self.judged is not False
            and (self.min_score is None or score >= self.min_score)
            and (self.max_score is None or score < self.max_score)
        )

    def admits(self, meta: ExampleMeta) -> bool:
        return (
            self.desirability.admits(meta.desirability)
            and self.review.admits(meta.review)
            and self.source.admits(meta.source)
            and (self.job_id is None or meta.job_id == self.job_id)
            and (self.flagged is None or (meta.language_flag is not None) == self.flagged)
            and self.admits_score(meta.score)
        )


class ExampleOrder(StrEnum):
    """The order a view shows examples in: creation (time), or by judge score with the unjudged last."""

    TIME = "time"
    SCORE_DESC = "score-desc"  # best first
    SCORE_ASC = "score-asc"  # worst first

    def cycled(self) -> ExampleOrder:
        order = list(ExampleOrder)
        return order[(order.index(self) + 1) % len(order)]


def score_label(score: float | None) -> str:
    """The table's score cell: one decimal, blank when no judge scored the example."""
    return "" if score is None else f"{score:.1f}"


def score_problem(text: str) -> str | None:
    """What is wrong with a typed threshold (parse_score), or None."""
    try:
        parse_score(text)
    except ValueError as exc:
        return str(exc)
    return None


def parse_score(text: str) -> float | None:
    """A threshold typed by a person: a number from 1 to 10 (MIN_SCORE..MAX_SCORE), or "" for none;
    raises ValueError with a sentence otherwise."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            _("'{text}' is not a number; a score is from {low} to {high}.").format(
                text=text[:20], low=f"{MIN_SCORE:g}", high=f"{MAX_SCORE:g}"
            )
        ) from None
    if not MIN_SCORE <= value <= MAX_SCORE:
        raise ValueError(
            _("A score is from {low} to {high}, not {value}.").format(
                low=f"{MIN_SCORE:g}", high=f"{MAX_SCORE:g}", value=f"{value:g}"
            )
        )
    return value


def source_label(source: ExampleSource, job_id: int | None) -> str:
    """The table's source cell: audition, import, job 12, playground."""
    return f"job {job_id}" if source is ExampleSource.JOB and job_id is not None else source.value


def review_mark(state: ReviewState) -> str:
    return REVIEW_MARKS[state]
