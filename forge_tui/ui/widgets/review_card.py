"""The review queue's card: where the card is in the queue, its review state, the judge's score and
duplicate-cluster size, the prompt (the system prompt folded to a line), the answer and the judge's reason."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from forge_tui.core.example_filter import REVIEW_MARKS
from forge_tui.core.models import Example, ReviewState
from forge_tui.services.review_queue import ReviewCard
from forge_tui.ui.widgets.plain import PlainStatic

FOLDED_SYSTEM = 60  # characters of the system prompt shown


@dataclass(frozen=True)
class CardView:
    """What the card shows: `card` None while it is being opened (or the queue is empty)."""

    position: int
    total: int
    card: ReviewCard | None
    state: ReviewState | None
    empty: str = ""


def folded(text: str, width: int = FOLDED_SYSTEM) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def card_title(view: CardView) -> str:
    card = view.card
    parts = [f"Card {view.position + 1} of {view.total}"]
    if view.state is not None:
        parts.append(f"{REVIEW_MARKS[view.state]} {view.state.value}")
    if card is not None:
        judgement = card.judgement
        parts.append(f"score {judgement.score:g}" if judgement is not None else "not judged")
        if card.cluster_size is not None:
            parts.append(f"{card.cluster_size} near-duplicates")
    return " │ ".join(parts)


class ReviewCardView(Vertical):
    DEFAULT_CSS = """
    ReviewCardView { height: 1fr; border: round $primary; padding: 0 1; }
    ReviewCardView #card-title { text-style: bold; }
    ReviewCardView #card-system { color: $text-muted; }
    ReviewCardView #card-prompt { max-height: 5; }
    ReviewCardView #card-answer-box { height: 1fr; }
    ReviewCardView #card-reason { max-height: 4; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="card-title")
        yield PlainStatic("", id="card-system")
        yield PlainStatic("", id="card-prompt")
        with VerticalScroll(id="card-answer-box", can_focus=False):
            yield PlainStatic("", id="card-answer")
        yield PlainStatic("", id="card-reason")

    def _set(self, selector: str, text: str) -> None:
        field = self.query_one(selector, Static)
        field.update(text)
        field.display = bool(text)

    def show(self, view: CardView) -> None:
        card = view.card
        if card is None:
            self._set("#card-title", view.empty or (card_title(view) if view.total else ""))
            for selector in ("#card-system", "#card-prompt", "#card-answer", "#card-reason"):
                self._set(selector, "Opening…" if selector == "#card-answer" and view.total else "")
            return
        self._set("#card-title", card_title(view))
        example = card.example
        if not isinstance(example, Example):
            self._set("#card-system", "")
            self._set("#card-prompt", "")
            self._set("#card-answer", f"This example cannot be read: {example.reason}")
            self._set("#card-reason", "")
            return
        content = example.content
        system = content.system_prompt
        self._set("#card-system", f"System: {folded(system)}" if system.strip() else "")
        self._set("#card-prompt", f"Prompt: {content.user_prompt}")
        self._set("#card-answer", f"Answer: {content.output}")
        self.query_one("#card-answer-box", VerticalScroll).scroll_home(animate=False)
        reason = card.judgement.reason if card.judgement is not None else ""
        self._set("#card-reason", f"Judge: {reason}" if reason.strip() else "")
