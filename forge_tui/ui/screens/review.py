"""Review (`q`, or from Examples on its filter): the dataset's unreviewed examples one card at a time,
worst score first; accept, reject, edit, fix with the judge's reason, undo; bulk by score."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.validation import Number

from forge_tui.core.errors import ForgeError
from forge_tui.core.example_filter import REVIEW_MARKS, ExampleFilter
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE
from forge_tui.core.models import DatasetInfo, Example, ReviewState
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.review_queue import UNREVIEWED, ReviewOrder, ReviewQueue, fix_answer
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset, no_dataset
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.help_texts import review_help
from forge_tui.ui.localized import Localized
from forge_tui.ui.messages import DatasetSwitched
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.examples_status import filter_labels
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.widgets.review_card import CardView, ReviewCardView

ORDER_LABELS = {
    ReviewOrder.WORST_FIRST: N_("worst first"),
    ReviewOrder.BEST_FIRST: N_("best first"),
    ReviewOrder.BY_TIME: N_("by time"),
}
DECIDED_LABELS = {ReviewState.ACCEPTED: N_("{mark} {n} accepted"), ReviewState.REJECTED: N_("{mark} {n} rejected")}


class QueueChanged(Message):
    """The reader thread opened the card shown (the first, or after a jump)."""


class QueueFailed(Message):
    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class ReviewScreen(Localized, WorkspaceScreen):
    TITLE = N_("Review")
    BINDINGS = [
        Binding("a", "accept", N_("Accept"), id="review.accept"),
        Binding("r", "reject", N_("Reject"), id="review.reject"),
        Binding("right,n", "next", N_("Next"), id="review.next"),
        Binding("left", "previous", N_("Previous"), id="review.previous"),
        Binding("enter", "edit", N_("Edit"), id="review.edit"),
        Binding("f", "fix", N_("Fix"), id="review.fix"),
        Binding("u", "undo", N_("Undo"), id="review.undo"),
        Binding("A", "accept_from", N_("Accept ≥ score"), id="review.accept_from"),
        Binding("R", "reject_below", N_("Reject < score"), id="review.reject_below"),
        Binding("o", "sort", N_("Sort"), id="review.sort"),
    ]

    def __init__(self, workspace: Workspace, wanted: ExampleFilter = UNREVIEWED) -> None:
        super().__init__(workspace)
        self.wanted = wanted
        self.order = ReviewOrder.WORST_FIRST
        self.queue: ReviewQueue | None = None

    def help_text(self) -> str:
        return review_help(self.key)

    @property
    def dataset(self) -> DatasetInfo | None:
        return current_dataset(self)

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield PlainStatic("", id="review-status")
        yield ReviewCardView(id="review-card")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self._open_queue()

    def draw_text(self) -> None:
        self.show()

    def on_unmount(self) -> None:
        self._close_queue()

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        self._close_queue()
        self._open_queue()

    def _open_queue(self) -> None:
        dataset = self.dataset
        if dataset is not None:
            self.queue = ReviewQueue(
                self.workspace.examples, dataset.id, self.wanted, self.order,
                on_change=lambda: self.post_message(QueueChanged()),
                on_error=lambda problem: self.post_message(QueueFailed(problem)),
            )  # fmt: skip
            self.queue.start()
        self.show()

    def _close_queue(self) -> None:
        if self.queue is not None:
            self.queue.close()  # the decisions not yet written are written first
            self.queue = None

    def on_queue_changed(self, _message: QueueChanged) -> None:
        self.show()

    def on_queue_failed(self, message: QueueFailed) -> None:
        self.notify(message.problem, title=_("Review"), severity="error")

    # --- what is shown ----------------------------------------------------------------------------
    def show(self) -> None:
        queue, dataset = self.queue, self.dataset
        card = self.query_one(ReviewCardView)
        status = self.query_one("#review-status", PlainStatic)
        if queue is None or dataset is None:
            status.update(no_dataset(self.key("show_datasets")))
            card.show(CardView(0, 0, None, None))
            return
        if not queue.ready:
            status.update(_("'{dataset}': reading the queue…").format(dataset=dataset.name))
            card.show(CardView(0, 0, None, None))
            return
        counts = queue.counts
        decided = (ReviewState.ACCEPTED, ReviewState.REJECTED)
        marks = _(", ").join(_(DECIDED_LABELS[s]).format(mark=REVIEW_MARKS[s], n=counts[s]) for s in decided)
        which = _(", ").join(filter_labels(self.wanted)) or _("examples")
        status.update(
            _("'{dataset}': {total} {which} · {order} · {marks}").format(
                dataset=dataset.name, total=queue.total, which=which, order=_(ORDER_LABELS[self.order]), marks=marks
            )
        )
        current = queue.current_id
        if current is None:
            undo = self.key("undo")
            if not queue.total:
                empty = _("Nothing to review here.")
            elif undo:
                empty = _("Every example here is decided ({key} undoes the last decision).").format(key=undo)
            else:
                empty = _("Every example here is decided.")
            card.show(CardView(0, 0, None, None, empty=empty))
            return
        card.show(CardView(queue.position, queue.total, queue.current(), queue.states[current]))

    def _example(self) -> Example | None:
        card = self.queue.current() if self.queue is not None else None
        return card.example if card is not None and isinstance(card.example, Example) else None

    # --- one card ---------------------------------------------------------------------------------
    def _decide(self, state: ReviewState) -> None:
        if self.queue is not None and self.queue.ready and self.queue.decide(state):
            self.show()

    def action_accept(self) -> None:
        self._decide(ReviewState.ACCEPTED)

    def action_reject(self) -> None:
        self._decide(ReviewState.REJECTED)

    def _move(self, step: int) -> None:
        if self.queue is not None and self.queue.ready and self.queue.move(step):
            self.show()

    def action_next(self) -> None:
        self._move(1)

    def action_previous(self) -> None:
        self._move(-1)

    def action_undo(self) -> None:
        decision = self.queue.undo() if self.queue is not None else None
        if decision is None:
            self.notify(_("Nothing to undo."))
            return
        self.show()
        self.notify(_("Undid {what}.").format(what=decision.what))

    def action_sort(self) -> None:
        self.order = self.order.cycled()
        if self.queue is not None:
            self.queue.reorder(self.order)
        self.show()
        self.notify(_("Sorted {order}.").format(order=_(ORDER_LABELS[self.order])))

    @work(group="review-edit", exclusive=True)
    async def action_edit(self) -> None:
        example, queue = self._example(), self.queue
        if example is None or queue is None:
            return
        saved: list[Example] = []

        def keep(answer: str, _tool_calls: str | None) -> None:
            content = example.content.model_copy(update={"output": answer})
            saved.append(self.workspace.examples.update(example, content))

        title = _("Edit the answer of card {n}").format(n=queue.position + 1)
        if await self.app.push_screen_wait(CardEditor(title, example.content.output, None, keep)) and saved:
            queue.replaced(example, saved[-1])
            self.show()

    @work(group="review-fix", exclusive=True)
    async def action_fix(self) -> None:
        queue = self.queue
        card = queue.current() if queue is not None else None
        example = card.example if card is not None else None
        if queue is None or card is None or not isinstance(example, Example):
            return
        self.notify(_("Asking the model to fix the answer with the judge's reason…"))
        settings, remember = self.workspace.settings.backend(), self.workspace.settings.remember_structured_output
        try:
            fixed = await fix_answer(self.workspace.examples, settings, remember, example, card.judgement)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot fix"), severity="error")
            return
        queue.replaced(example, fixed)
        self.show()
        fixed_text = _("Fixed the answer; the old one is kept as rejected ({key} undoes it).")
        self.notify(fixed_text.format(key=self.key("undo")))

    # --- bulk by score ------------------------------------------------------------------------------
    async def _ask_score(self, title: str) -> float | None:
        check = Number(minimum=MIN_SCORE, maximum=MAX_SCORE, failure_description=_("A score from 1 to 10."))
        prompt = TextPrompt(_(title), placeholder=_("1 to 10"), validators=[check])
        answer = await self.app.push_screen_wait(prompt)
        return float(answer) if answer else None

    @work(group="review-bulk", exclusive=True)
    async def action_accept_from(self) -> None:
        await self._bulk(ReviewState.ACCEPTED, N_("Accept every example scored at least:"))

    @work(group="review-bulk", exclusive=True)
    async def action_reject_below(self) -> None:
        await self._bulk(ReviewState.REJECTED, N_("Reject every example scored below:"))

    async def _bulk(self, state: ReviewState, title: str) -> None:
        """`title`: the score prompt's question, a message id (N_)."""
        queue = self.queue
        if queue is None or not queue.ready:
            return
        score = await self._ask_score(title)
        if score is None:
            return
        accept = state is ReviewState.ACCEPTED
        ids = queue.scored(at_least=score) if accept else queue.scored(below=score)
        shown = f"{score:g}"
        if not ids:
            none = (
                _("No example in the queue is scored {score} or above.")
                if accept
                else _("No example in the queue is scored below {score}.")
            )
            self.notify(none.format(score=shown))
            return
        n = len(ids)
        if accept:
            ask = ngettext(
                "Accept {n} example scored {score} or above?", "Accept {n} examples scored {score} or above?", n
            )
        else:
            ask = ngettext("Reject {n} example scored below {score}?", "Reject {n} examples scored below {score}?", n)
        verb = _("Accept") if accept else _("Reject")
        if not await self.app.push_screen_wait(Confirm(ask.format(n=n, score=shown), yes=verb)):
            return
        done = queue.decide_many(ids, state)
        self.show()
        undo = self.key("undo")
        if accept and undo:
            said = ngettext(
                "Accepted {n} example scored {score} or above; {key} undoes it.",
                "Accepted {n} examples scored {score} or above; {key} undoes it.",
                done,
            )
        elif accept:
            said = ngettext(
                "Accepted {n} example scored {score} or above.", "Accepted {n} examples scored {score} or above.", done
            )
        elif undo:
            said = ngettext(
                "Rejected {n} example scored below {score}; {key} undoes it.",
                "Rejected {n} examples scored below {score}; {key} undoes it.",
                done,
            )
        else:
            said = ngettext(
                "Rejected {n} example scored below {score}.", "Rejected {n} examples scored below {score}.", done
            )
        self.notify(said.format(n=done, score=shown, key=undo))
