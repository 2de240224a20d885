"""The review queue: a dataset's examples (unreviewed by default) one card at a time, ordered by the
judge's score or by time, with accept, reject, bulk decisions by score and undo.

The order (ids, scores, review states; no content) is read once from SQL. A reader thread opens the
cards around the one shown before they are asked for, and writes decisions after they are shown, so
moving to the next card never waits on the database."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import ForgeError
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ReviewState
from forge_tui.i18n import N_, _
from forge_tui.services import judging
from forge_tui.services.backends import RememberMode
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.store import review_order
from forge_tui.store.db import read_session

UNREVIEWED = ExampleFilter(review=ReviewFilter.UNREVIEWED)
READ_AHEAD = 48  # cards opened ahead of the one shown
KEEP_BEHIND = 4  # and behind it (previous, undo)
QUIET_SECONDS = 0.03  # reads and writes wait for a pause in the keys this long, while they can
MAX_PENDING_WRITES = 50


class ReviewOrder(StrEnum):
    WORST_FIRST = "worst first"
    BEST_FIRST = "best first"
    BY_TIME = "by time"

    def cycled(self) -> ReviewOrder:
        order = list(ReviewOrder)
        return order[(order.index(self) + 1) % len(order)]

    @property
    def label(self) -> str:
        """The order as a person reads it, in the interface language (the value stays English)."""
        return _(_ORDER_LABELS[self])


_ORDER_LABELS = {
    ReviewOrder.WORST_FIRST: N_("worst first"),
    ReviewOrder.BEST_FIRST: N_("best first"),
    ReviewOrder.BY_TIME: N_("by time"),
}


@dataclass(frozen=True)
class ReviewCard:
    example: Example | BrokenExample
    judgement: Judgement | None
    cluster_size: int | None  # None: not in a near-duplicate cluster, or dedup has not run


@dataclass(frozen=True)
class Decision:
    """What undo puts back: the review states before, and the content before an edit or a fix."""

    what: str
    before: tuple[tuple[str, ReviewState], ...]
    content_before: Example | None = None


def cluster_sizes(examples: ExampleService, example_ids: Sequence[str]) -> dict[str, int] | None:
    """The near-duplicate cluster size of each of those examples that is in one; None before dedup's
    `dedup_cluster` table exists."""
    with read_session(examples.home.engine) as s:
        return review_order.cluster_sizes(s, example_ids)


class ReviewQueue:
    """`on_change` is called from the reader thread when a card it opened is the one shown (the
    first, or after a jump); `on_error` with a sentence when a write or a read failed."""

    def __init__(
        self,
        examples: ExampleService,
        dataset_id: int,
        wanted: ExampleFilter = UNREVIEWED,
        order: ReviewOrder = ReviewOrder.WORST_FIRST,
        on_change: Callable[[], object] = lambda: None,
        on_error: Callable[[str], object] = lambda _: None,
        ahead: int = READ_AHEAD,
    ) -> None:
        self.examples = examples
        self.dataset_id = dataset_id
        self.wanted = wanted
        self.order = order
        self.on_change = on_change
        self.on_error = on_error
        self.ahead = ahead
        self.ids: list[str] = []
        self.scores: dict[str, float | None] = {}
        self.states: dict[str, ReviewState] = {}
        self.counts: Counter[ReviewState] = Counter()
        self.position = 0
        self.ready = False  # the order is read
        self.reads = 0  # batches of cards the reader opened
        self.undo_stack: list[Decision] = []
        self._cards: dict[str, ReviewCard] = {}
        self._writes: list[Callable[[], object]] = []
        self._waiting: list[threading.Event] = []  # flush(): set once the writes and reads before it are done
        self._reorder = True
        self._closed = False
        self._moved_at = 0.0  # time.monotonic() of the last move
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="review-reader", daemon=True)

    # --- the reader thread --------------------------------------------------------------------
    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._wake:
            self._closed = True
            self._wake.notify()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _nudge(self) -> None:
        with self._wake:
            self._wake.notify()

    def _missing(self) -> list[str]:
        """The cards to open now: none while more than half the window ahead is open (so the reader
        opens a half window at a time, not a card per key), else every one in the window not open."""
        ahead = self.ids[self.position : self.position + self.ahead + 1]
        open_ahead = next((n for n, i in enumerate(ahead) if i not in self._cards), len(ahead))
        if open_ahead == len(ahead) or open_ahead > self.ahead // 2:
            return []
        start, end = max(0, self.position - KEEP_BEHIND), self.position + self.ahead + 1
        return [i for i in self.ids[start:end] if i not in self._cards]

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wait_for_work()
                if self._closed and not self._writes:
                    return
                writes, self._writes = self._writes, []
                reorder, self._reorder = self._reorder, False
                waiting, self._waiting = self._waiting, []
            try:
                for write in writes:
                    write()
                if self._closed:
                    return
                if reorder:
                    self._read_order()
                shown = self._open_window()
                if reorder or shown:
                    self.on_change()
            except ForgeError as exc:
                self.on_error(str(exc))
            finally:
                for done in waiting:
                    done.set()

    def _wait_for_work(self) -> None:
        """Until there is work to do now (holding the condition). Writes and read-ahead wait until the
        keys have paused for QUIET_SECONDS, so they do not compete with the repaint of a card, unless
        they cannot wait: the cards open ahead are running out, many writes are pending, or a caller
        waits (flush, close, a new order)."""
        while not (self._closed or self._reorder or self._waiting):
            missing = self.ready and bool(self._missing())
            if not (missing or self._writes):
                self._wake.wait()
                continue
            if self._urgent() or len(self._writes) >= MAX_PENDING_WRITES:
                return
            quiet = QUIET_SECONDS - (time.monotonic() - self._moved_at)
            if quiet <= 0:
                return
            self._wake.wait(quiet)

    def _urgent(self) -> bool:
        ahead = self.ids[self.position : self.position + self.ahead // 4 + 1]
        return any(i not in self._cards for i in ahead)

    def _read_order(self) -> None:
        by_score = self.order is not ReviewOrder.BY_TIME
        self.examples.cipher(self.dataset_id)  # this account's dataset, and it can be opened
        with read_session(self.examples.home.engine) as s:
            entries = review_order.ordered(
                s, self.dataset_id, self.wanted, by_score, self.order is ReviewOrder.BEST_FIRST
            )
        states = {i: ReviewState(review) for i, _score, review in entries}
        self.scores = {i: score for i, score, _review in entries}
        self.states = states
        self.counts = Counter(states.values())
        self.ids = [i for i, _score, _review in entries]
        self.position = 0
        self.ready = True

    def _open_window(self) -> bool:
        """Opens the cards around the one shown that are not open; True when that one was among them."""
        missing = self._missing()
        if not missing:
            return False
        opened = self.examples.open_ids(self.dataset_id, missing)
        judgements = self.examples.judgements(self.dataset_id, missing)
        sizes = cluster_sizes(self.examples, missing) or {}
        for example in opened:
            self._cards[example.id] = ReviewCard(example, judgements.get(example.id), sizes.get(example.id))
        self.reads += 1
        keep = set(self.ids[max(0, self.position - 4 * KEEP_BEHIND) : self.position + 2 * self.ahead + 1])
        for gone in [i for i in self._cards if i not in keep]:
            self._cards.pop(gone, None)
        return self.current_id in missing

    # --- what is shown --------------------------------------------------------------------------
    @property
    def total(self) -> int:
        return len(self.ids)

    @property
    def current_id(self) -> str | None:
        return self.ids[self.position] if self.position < len(self.ids) else None

    def current(self) -> ReviewCard | None:
        """The card shown, if it is open (it is, unless the queue jumped far or just started)."""
        current = self.current_id
        return self._cards.get(current) if current is not None else None

    def is_open(self, example_id: str) -> bool:
        return example_id in self._cards

    def move(self, step: int) -> bool:
        """To the next (1) or previous (-1) card; False at either end."""
        target = self.position + step
        if not 0 <= target < len(self.ids):
            return False
        self.position = target
        self._moved_at = time.monotonic()
        self._nudge()
        return True

    def reorder(self, order: ReviewOrder) -> None:
        """Reads the order again (scores may have changed); the queue starts over at its first card."""
        with self._wake:
            self.order = order
            self.ready = False
            self._reorder = True
            self._wake.notify()

    # --- decisions --------------------------------------------------------------------------------
    def _set_states(self, ids: Sequence[str], state: ReviewState) -> None:
        for example_id in ids:
            self.counts[self.states[example_id]] -= 1
            self.states[example_id] = state
            self.counts[state] += 1

    def _write(self, write: Callable[[], object]) -> None:
        with self._wake:
            self._writes.append(write)
            self._wake.notify()

    def _decide(self, what: str, ids: Sequence[str], state: ReviewState) -> int:
        if not ids:
            return 0
        self.undo_stack.append(Decision(what, tuple((i, self.states[i]) for i in ids)))
        self._set_states(ids, state)
        chosen = list(ids)
        self._write(lambda: self.examples.set_review(chosen, state))
        return len(chosen)

    def decide(self, state: ReviewState) -> bool:
        """The card shown takes `state` (written after the next card is shown), and the queue moves on."""
        current = self.current_id
        if current is None:
            return False
        self._decide(state.value, [current], state)
        if not self.move(1):
            self.position = len(self.ids)  # past the last card: the queue is done (previous goes back)
        return True

    def scored(self, at_least: float | None = None, below: float | None = None) -> list[str]:
        """The queue's examples with a score in range (unscored ones are in no range)."""
        return [
            i
            for i in self.ids
            if (score := self.scores.get(i)) is not None
            and (at_least is None or score >= at_least)
            and (below is None or score < below)
        ]

    def decide_many(self, ids: Sequence[str], state: ReviewState) -> int:
        """One decision (one undo) for all of them."""
        return self._decide(f"{state.value} {len(ids)}", ids, state)

    def _reopened(self, example: Example) -> None:
        card = self._cards.get(example.id)
        judgement, size = (card.judgement, card.cluster_size) if card is not None else (None, None)
        self._cards[example.id] = ReviewCard(example, judgement, size)

    def replaced(self, before: Example, after: Example) -> None:
        """An edit or a fix saved `after` over `before`: shown at once, and undo can put `before` back."""
        self._reopened(after)
        self.undo_stack.append(Decision("edit", (), before))

    def undo(self) -> Decision | None:
        """Puts back the last decision's review states (and content); the queue shows its first card."""
        if not self.undo_stack:
            return None
        decision = self.undo_stack.pop()
        by_state: dict[ReviewState, list[str]] = {}
        for example_id, state in decision.before:
            by_state.setdefault(state, []).append(example_id)
        for state, ids in by_state.items():
            self._set_states(ids, state)
            self._write(lambda ids=ids, state=state: self.examples.set_review(ids, state))  # type: ignore[misc]
        before = decision.content_before
        if before is not None:
            self._reopened(before)
            self._write(lambda: self.examples.update(self.examples.get(before.id), before.content))
        first = decision.before[0][0] if decision.before else before.id if before is not None else None
        if first is not None and first in self.ids:
            self.position = self.ids.index(first)
            self._nudge()
        return decision

    def flush(self, timeout: float = 10.0) -> None:
        """Waits until the decisions so far are written and the cards around the one shown are open."""
        done = threading.Event()
        with self._wake:
            self._waiting.append(done)
            self._wake.notify()
        done.wait(timeout)


# --- fix with the judge's reason -----------------------------------------------------------------


def fix_model(settings: BackendSettings) -> str:
    model = settings.judge_model or settings.generation_model
    if not model:
        raise ForgeError(_("Choose a judge model or a generation model in Settings to fix answers."))
    return str(model)


async def fix_answer(
    examples: ExampleService,
    settings: BackendSettings,
    remember: RememberMode | None,
    example: Example,
    judgement: Judgement | None,
) -> Example:
    """Rewrites the answer with the judge's reason (on the judge model, else the generation model); the
    old answer is kept as a rejected answer, so the two make a preference pair. Returns the saved example."""
    if judgement is None or not judgement.reason.strip():
        raise ForgeError(_("This example has no judge's reason to fix it with: judge it first."))
    model = fix_model(settings)
    async with open_client(settings, model, settings.endpoint, remember) as client:
        answer = await judging.fix_answer(client, example, judgement, model)
    if not answer.strip():
        raise ForgeError(_("The model returned an empty answer; the old one is kept."))
    content = example.content.model_copy(
        update={"output": answer, "rejected": [*example.content.rejected, example.content.output]}
    )
    return await asyncio.to_thread(examples.update, example, content)
