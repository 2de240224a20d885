"""The Examples screen's status line: the dataset, its count (or a search's matches), the filter, the
selection, and the keys that act on them as they are bound."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.example_filter import FLAG_MARK, ExampleFilter, ExampleOrder, ReviewFilter, SourceFilter
from forge_tui.ui.current import no_dataset
from forge_tui.ui.widgets.plain import PlainStatic

# How the status line names each desirability filter (f cycles them).
FILTER_LABELS = {
    DesirabilityFilter.ALL: "all examples",
    DesirabilityFilter.DESIRABLE: "desirable (✓)",
    DesirabilityFilter.UNDESIRABLE: "undesirable (✗)",
    DesirabilityFilter.UNLABELLED: "unlabelled",
}
ALL = ExampleFilter()
REVIEW_LABELS = {
    ReviewFilter.ALL: "any review state",
    ReviewFilter.NOT_REJECTED: "not rejected",
    ReviewFilter.ACCEPTED: "accepted (✓)",
    ReviewFilter.UNREVIEWED: "unreviewed (·)",
    ReviewFilter.REJECTED: "rejected (✗)",
}
SOURCE_LABELS = {
    SourceFilter.ALL: "any source",
    SourceFilter.AUDITION: "audition",
    SourceFilter.IMPORT: "imported",
    SourceFilter.JOB: "job",
    SourceFilter.PLAYGROUND: "playground",
}

FLAGGED_LABELS = {True: f"language-flagged ({FLAG_MARK})", False: "not language-flagged"}
JUDGED_LABELS = {True: "judged", False: "unjudged"}
ORDER_LABELS = {
    ExampleOrder.TIME: "oldest first",
    ExampleOrder.SCORE_DESC: "best score first",
    ExampleOrder.SCORE_ASC: "worst score first",
}


def filter_labels(wanted: ExampleFilter) -> list[str]:
    """The filters in effect, as the status line names them (review, source, then desirability)."""
    labels = [] if wanted.review is ReviewFilter.ALL else [REVIEW_LABELS[wanted.review]]
    if wanted.job_id is not None:
        labels.append(f"job {wanted.job_id}")
    elif wanted.source is not SourceFilter.ALL:
        labels.append(SOURCE_LABELS[wanted.source])
    if wanted.desirability is not DesirabilityFilter.ALL:
        labels.append(FILTER_LABELS[wanted.desirability])
    if wanted.flagged is not None:
        labels.append(FLAGGED_LABELS[wanted.flagged])
    if wanted.judged is not None:
        labels.append(JUDGED_LABELS[wanted.judged])
    if wanted.min_score is not None:
        labels.append(f"scored ≥ {wanted.min_score:g}")
    if wanted.max_score is not None:
        labels.append(f"scored < {wanted.max_score:g}")
    return labels


@dataclass(frozen=True)
class StatusKeys:
    """The keys the line names, as the bindings give them ("" where none is bound)."""

    datasets: str
    cycle_filter: str
    delete: str
    undo: str
    clear: str
    cycle_review: str = ""
    cycle_source: str = ""
    cycle_flag: str = ""
    cycle_order: str = ""

    @classmethod
    def bound(cls, key: Callable[[str], str]) -> StatusKeys:
        """Each from `key(action)` (the screen's `key`), the Examples screen's and the app's actions."""
        return cls(
            key("show_datasets"), key("cycle_desirability"), key("delete"), key("undo"), key("clear"),
            key("cycle_review"), key("cycle_source"), key("cycle_flag"), key("cycle_order"),
        )  # fmt: skip


NO_KEYS = StatusKeys("", "", "", "", "")


@dataclass
class SearchState:
    """The search the screen shows ("" text: none), whether its scan has finished, and how many rows it
    met that cannot be read."""

    text: str = ""
    done: bool = False
    damaged: int = 0


@dataclass(frozen=True)
class ExamplesView:
    dataset: str | None  # its name; None when there is no current dataset
    total: int
    wanted: ExampleFilter = ALL
    searching: str = ""
    search_done: bool = False
    damaged: int = 0  # rows the search met that cannot be read (listed with the matches)
    selected: int = 0
    can_undo: bool = False
    order: ExampleOrder = ExampleOrder.TIME
    expression: str = ""  # a filter expression whose matches the table shows


def _with_key(key: str, text: str) -> str:
    return f"{key} {text}" if key else ""


def status_line(view: ExamplesView, keys: StatusKeys) -> str:
    if view.dataset is None:
        text = no_dataset(keys.datasets)
    else:
        wanted = view.wanted
        filtered = "".join(f" {label}" for label in filter_labels(wanted))
        if view.expression:
            clear = f"; {keys.clear} shows all" if keys.clear else ""
            shown = view.expression if len(view.expression) <= 60 else view.expression[:59] + "…"
            text = f"'{view.dataset}': {view.total} where {shown}{clear}"
        elif view.searching:
            finished = "search finished" + (f"; {keys.clear} shows all" if keys.clear else "")
            state = finished if view.search_done else "searching…"
            found = f"{view.total - view.damaged} matching"
            found += f", {view.damaged} damaged (not searched)" if view.damaged else ""
            text = f"'{view.searching}': {found}{filtered} in '{view.dataset}' ({state})"
        else:
            text = f"'{view.dataset}': {view.total}{filtered} example{'s' if view.total != 1 else ''}"
        if keys.cycle_filter and wanted.desirability is DesirabilityFilter.ALL:
            text += f" · {keys.cycle_filter} filters ✓/✗"
        elif keys.cycle_filter:
            text += f" · {keys.cycle_filter}: {FILTER_LABELS[wanted.desirability.cycled()]}"
        # The review and source filters' keys are in the footer; once one is on, what it shows next.
        if keys.cycle_review and wanted.review is not ReviewFilter.ALL:
            text += f" · {keys.cycle_review}: {REVIEW_LABELS[wanted.review.cycled()]}"
        if keys.cycle_source and (wanted.source is not SourceFilter.ALL or wanted.job_id is not None):
            text += f" · {keys.cycle_source}: {SOURCE_LABELS[wanted.next_source().source]}"
        if keys.cycle_flag and wanted.flagged is not None:
            text += f" · {keys.cycle_flag}: any language"
        if view.order is not ExampleOrder.TIME and not view.searching:
            text += f" · {ORDER_LABELS[view.order]}"
            text += f" ({keys.cycle_order}: {ORDER_LABELS[view.order.cycled()]})" if keys.cycle_order else ""
    if view.selected:
        removes = _with_key(keys.delete, "removes them")
        text += f" · {view.selected} selected" + (f" ({removes})" if removes else "")
    if view.can_undo and keys.undo:
        text += f" · {keys.undo} undoes the last delete"
    return text


class ExamplesStatus(PlainStatic):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown = ""
        self.keys = NO_KEYS  # the screen gives the keys bound when it mounts

    def show(self, view: ExamplesView) -> None:
        text = status_line(view, self.keys)
        if text != self._shown:  # Static.update lays out again even for the same text; the cursor moves often
            self._shown = text
            self.update(text)
