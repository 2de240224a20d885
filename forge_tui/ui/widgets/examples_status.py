"""The Examples screen's status line: the dataset, its count (or a search's matches), the filter, the
selection, and the keys that act on them as they are bound."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.example_filter import FLAG_MARK, ExampleFilter, ExampleOrder, ReviewFilter, SourceFilter
from forge_tui.i18n import N_, _, ngettext
from forge_tui.ui.current import no_dataset
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.wrap import cut

# How the status line names each desirability filter (f cycles them).
FILTER_LABELS = {
    DesirabilityFilter.ALL: N_("all examples"),
    DesirabilityFilter.DESIRABLE: N_("desirable (✓)"),
    DesirabilityFilter.UNDESIRABLE: N_("undesirable (✗)"),
    DesirabilityFilter.UNLABELLED: N_("unlabelled"),
}
ALL = ExampleFilter()
REVIEW_LABELS = {
    ReviewFilter.ALL: N_("any review state"),
    ReviewFilter.NOT_REJECTED: N_("not rejected"),
    ReviewFilter.ACCEPTED: N_("accepted (✓)"),
    ReviewFilter.UNREVIEWED: N_("unreviewed (·)"),
    ReviewFilter.REJECTED: N_("rejected (✗)"),
}
SOURCE_LABELS = {
    SourceFilter.ALL: N_("any source"),
    SourceFilter.AUDITION: N_("audition"),
    SourceFilter.IMPORT: N_("imported"),
    SourceFilter.JOB: N_("job"),
    SourceFilter.PLAYGROUND: N_("playground"),
    SourceFilter.COMPARE: N_("compared"),
}

FLAGGED_LABELS = {True: N_("language-flagged ({mark})"), False: N_("not language-flagged")}
JUDGED_LABELS = {True: N_("judged"), False: N_("unjudged")}
ORDER_LABELS = {
    ExampleOrder.TIME: N_("oldest first"),
    ExampleOrder.SCORE_DESC: N_("best score first"),
    ExampleOrder.SCORE_ASC: N_("worst score first"),
}


def filter_labels(wanted: ExampleFilter) -> list[str]:
    """The filters in effect, as the status line names them (review, source, then desirability)."""
    labels = [] if wanted.review is ReviewFilter.ALL else [_(REVIEW_LABELS[wanted.review])]
    if wanted.job_id is not None:
        labels.append(_("job {id}").format(id=wanted.job_id))
    elif wanted.source is not SourceFilter.ALL:
        labels.append(_(SOURCE_LABELS[wanted.source]))
    if wanted.desirability is not DesirabilityFilter.ALL:
        labels.append(_(FILTER_LABELS[wanted.desirability]))
    if wanted.flagged is not None:
        labels.append(_(FLAGGED_LABELS[wanted.flagged]).format(mark=FLAG_MARK))
    if wanted.judged is not None:
        labels.append(_(JUDGED_LABELS[wanted.judged]))
    if wanted.min_score is not None:
        labels.append(_("scored ≥ {score}").format(score=f"{wanted.min_score:g}"))
    if wanted.max_score is not None:
        labels.append(_("scored < {score}").format(score=f"{wanted.max_score:g}"))
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


def status_line(view: ExamplesView, keys: StatusKeys) -> str:
    if view.dataset is None:
        text = no_dataset(keys.datasets)
    else:
        wanted = view.wanted
        filtered = "".join(f" {label}" for label in filter_labels(wanted))
        if view.expression:
            shown = cut(view.expression, 60)
            if keys.clear:
                text = _("'{dataset}': {n} where {expression}; {key} shows all").format(
                    dataset=view.dataset, n=view.total, expression=shown, key=keys.clear
                )
            else:
                text = _("'{dataset}': {n} where {expression}").format(
                    dataset=view.dataset, n=view.total, expression=shown
                )
        elif view.searching:
            if not view.search_done:
                state = _("searching…")
            elif keys.clear:
                state = _("search finished; {key} shows all").format(key=keys.clear)
            else:
                state = _("search finished")
            matching = view.total - view.damaged
            if view.damaged:
                found = _("{n} matching, {damaged} damaged (not searched)").format(n=matching, damaged=view.damaged)
            else:
                found = _("{n} matching").format(n=matching)
            text = _("'{search}': {found}{filters} in '{dataset}' ({state})").format(
                search=view.searching, found=found, filters=filtered, dataset=view.dataset, state=state
            )
        else:
            text = ngettext(
                "'{dataset}': {n}{filters} example", "'{dataset}': {n}{filters} examples", view.total
            ).format(dataset=view.dataset, n=view.total, filters=filtered)
        if keys.cycle_filter and wanted.desirability is DesirabilityFilter.ALL:
            text += " · " + _("{key} filters ✓/✗").format(key=keys.cycle_filter)
        elif keys.cycle_filter:
            text += f" · {keys.cycle_filter}: {_(FILTER_LABELS[wanted.desirability.cycled()])}"
        # The review and source filters' keys are in the footer; once one is on, what it shows next.
        if keys.cycle_review and wanted.review is not ReviewFilter.ALL:
            text += f" · {keys.cycle_review}: {_(REVIEW_LABELS[wanted.review.cycled()])}"
        if keys.cycle_source and (wanted.source is not SourceFilter.ALL or wanted.job_id is not None):
            text += f" · {keys.cycle_source}: {_(SOURCE_LABELS[wanted.next_source().source])}"
        if keys.cycle_flag and wanted.flagged is not None:
            text += f" · {keys.cycle_flag}: {_('any language')}"
        if view.order is not ExampleOrder.TIME and not view.searching:
            text += f" · {_(ORDER_LABELS[view.order])}"
            text += f" ({keys.cycle_order}: {_(ORDER_LABELS[view.order.cycled()])})" if keys.cycle_order else ""
    if view.selected and keys.delete:
        text += " · " + _("{n} selected ({key} removes them)").format(n=view.selected, key=keys.delete)
    elif view.selected:
        text += " · " + _("{n} selected").format(n=view.selected)
    if view.can_undo and keys.undo:
        text += " · " + _("{key} undoes the last delete").format(key=keys.undo)
    return text


class ExamplesStatus(Localized, PlainStatic):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._shown = ""
        self._view: ExamplesView | None = None
        self.keys = NO_KEYS  # the screen gives the keys bound when it mounts

    def draw_text(self) -> None:
        if self._view is not None:
            self.show(self._view)

    def show(self, view: ExamplesView) -> None:
        self._view = view
        text = status_line(view, self.keys)
        if text != self._shown:  # Static.update lays out again even for the same text; the cursor moves often
            self._shown = text
            self.update(text)
