"""Which examples a view or an export takes, by review state, source and desirability, and how the
Examples table shows an example's source and review state in one short cell."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.models import ExampleMeta, ExampleSource, ReviewState

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

    def admits(self, meta: ExampleMeta) -> bool:
        return (
            self.desirability.admits(meta.desirability)
            and self.review.admits(meta.review)
            and self.source.admits(meta.source)
            and (self.job_id is None or meta.job_id == self.job_id)
            and (self.flagged is None or (meta.language_flag is not None) == self.flagged)
        )


def source_label(source: ExampleSource, job_id: int | None) -> str:
    """The table's source cell: audition, import, job 12, playground."""
    return f"job {job_id}" if source is ExampleSource.JOB and job_id is not None else source.value


def review_mark(state: ReviewState) -> str:
    return REVIEW_MARKS[state]
