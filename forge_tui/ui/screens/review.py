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
from forge_tui.services.review_queue import UNREVIEWED, ReviewOrder, ReviewQueue, fix_answer
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset, no_dataset
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.help_texts import review_help
from forge_tui.ui.messages import DatasetSwitched
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.examples_status import filter_labels
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.widgets.review_card import CardView, ReviewCardView


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class QueueChanged(Message):
    """The reader thread opened the card shown (the first, or after a jump)."""


class QueueFailed(Message):
    def __init__(self, problem: str) -> None:
        super().__init__()
        self.problem = problem


class ReviewScreen(WorkspaceScreen):
    TITLE = "Review"
    BINDINGS = [
        Binding("a", "accept", "Accept", id="review.accept"),
        Binding("r", "reject", "Reject", id="review.reject"),
        Binding("right,n", "next", "Next", id="review.next"),
        Binding("left", "previous", "Previous", id="review.previous"),
        Binding("enter", "edit", "Edit", id="review.edit"),
        Binding("f", "fix", "Fix", id="review.fix"),
        Binding("u", "undo", "Undo", id="review.undo"),
        Binding("A", "accept_from", "Accept ≥ score", id="review.accept_from"),
        Binding("R", "reject_below", "Reject < score", id="review.reject_below"),
        Binding("o", "sort", "Sort", id="review.sort"),
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

    def on_queue_changed(self, _: QueueChanged) -> None:
        self.show()

    def on_queue_failed(self, message: QueueFailed) -> None:
        self.notify(message.problem, title="Review", severity="error")

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
            status.update(f"'{dataset.name}': reading the queue…")
            card.show(CardView(0, 0, None, None))
            return
        counts = queue.counts
        decided = (ReviewState.ACCEPTED, ReviewState.REJECTED)
        marks = ", ".join(f"{REVIEW_MARKS[s]} {counts[s]} {s.value}" for s in decided)
        which = ", ".join(filter_labels(self.wanted)) or "examples"
        status.update(f"'{dataset.name}': {queue.total} {which} · {self.order.value} · {marks}")
        current = queue.current_id
        if current is None:
            done = "Every example here is decided" if queue.total else "Nothing to review here"
            undo = self.key("undo")
            card.show(
                CardView(
                    0,
                    0,
                    None,
                    None,
                    empty=done + (f" ({undo} undoes the last decision)." if undo and queue.total else "."),
                )
            )
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
            self.notify("Nothing to undo.")
            return
        self.show()
        self.notify(f"Undid {decision.what}.")

    def action_sort(self) -> None:
        self.order = self.order.cycled()
        if self.queue is not None:
            self.queue.reorder(self.order)
        self.show()
        self.notify(f"Sorted {self.order.value}.")

    @work(group="review-edit", exclusive=True)
    async def action_edit(self) -> None:
        example, queue = self._example(), self.queue
        if example is None or queue is None:
            return
        saved: list[Example] = []

        def keep(answer: str, _tool_calls: str | None) -> None:
            content = example.content.model_copy(update={"output": answer})
            saved.append(self.workspace.examples.update(example, content))

        title = f"Edit the answer of card {queue.position + 1}"
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
        self.notify("Asking the model to fix the answer with the judge's reason…")
        settings, remember = self.workspace.settings.backend(), self.workspace.settings.remember_structured_output
        try:
            fixed = await fix_answer(self.workspace.examples, settings, remember, example, card.judgement)
        except ForgeError as exc:
            self.notify(str(exc), title="Cannot fix", severity="error")
            return
        queue.replaced(example, fixed)
        self.show()
        self.notify(f"Fixed the answer; the old one is kept as rejected ({self.key('undo')} undoes it).")

    # --- bulk by score ------------------------------------------------------------------------------
    async def _ask_score(self, title: str) -> float | None:
        check = Number(minimum=MIN_SCORE, maximum=MAX_SCORE, failure_description="A score from 1 to 10.")
        answer = await self.app.push_screen_wait(TextPrompt(title, placeholder="1 to 10", validators=[check]))
        return float(answer) if answer else None

    @work(group="review-bulk", exclusive=True)
    async def action_accept_from(self) -> None:
        await self._bulk(ReviewState.ACCEPTED, "Accept every example scored at least:")

    @work(group="review-bulk", exclusive=True)
    async def action_reject_below(self) -> None:
        await self._bulk(ReviewState.REJECTED, "Reject every example scored below:")

    async def _bulk(self, state: ReviewState, title: str) -> None:
        queue = self.queue
        if queue is None or not queue.ready:
            return
        score = await self._ask_score(title)
        if score is None:
            return
        accept = state is ReviewState.ACCEPTED
        ids = queue.scored(at_least=score) if accept else queue.scored(below=score)
        which = f"scored {score:g} or above" if accept else f"scored below {score:g}"
        verb = "Accept" if accept else "Reject"
        if not ids:
            self.notify(f"No example in the queue is {which}.")
            return
        if not await self.app.push_screen_wait(Confirm(f"{verb} {_plural(len(ids), 'example')} {which}?", yes=verb)):
            return
        done = queue.decide_many(ids, state)
        self.show()
        undo = self.key("undo")
        self.notify(f"{verb}ed {_plural(done, 'example')} {which}" + (f"; {undo} undoes it." if undo else "."))
