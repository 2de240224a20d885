"""The review queue's card: where the card is in the queue, its review state, the judge's score and
duplicate-cluster size, the prompt (the system prompt folded to a line), the answer and the judge's reason."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from forge_tui.core.example_filter import REVIEW_MARKS
from forge_tui.core.models import Example, ReviewState
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.review_queue import ReviewCard
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainStatic
from forge_tui.ui.wrap import cut

FOLDED_SYSTEM = 60  # cells of the system prompt shown
# A review state as the card's title names it (the filter language keeps the values).
STATE_NAMES = {
    ReviewState.ACCEPTED: N_("accepted"),
    ReviewState.UNREVIEWED: N_("unreviewed"),
    ReviewState.REJECTED: N_("rejected"),
}


@dataclass(frozen=True)
class CardView:
    """What the card shows: `card` None while it is being opened (or the queue is empty)."""

    position: int
    total: int
    card: ReviewCard | None
    state: ReviewState | None
    empty: str = ""


def folded(text: str, width: int = FOLDED_SYSTEM) -> str:
    return cut(" ".join(text.split()), width)


def card_title(view: CardView) -> str:
    card = view.card
    parts = [_("Card {n} of {total}").format(n=view.position + 1, total=view.total)]
    if view.state is not None:
        parts.append(f"{REVIEW_MARKS[view.state]} {_(STATE_NAMES[view.state])}")
    if card is not None:
        judgement = card.judgement
        parts.append(
            _("score {score}").format(score=f"{judgement.score:g}") if judgement is not None else _("not judged")
        )
        if card.cluster_size is not None:
            size = card.cluster_size
            parts.append(ngettext("{n} near-duplicate", "{n} near-duplicates", size).format(n=size))
    return " │ ".join(parts)


class ReviewCardView(Localized, Vertical):
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

    _view: CardView | None = None

    def draw_text(self) -> None:
        if self._view is not None:
            self._draw(self._view, scroll=False)

    def _set(self, selector: str, text: str) -> None:
        field = self.query_one(selector, Static)
        field.update(text)
        field.display = bool(text)

    def show(self, view: CardView) -> None:
        self._view = view
        self._draw(view, scroll=True)

    def _draw(self, view: CardView, scroll: bool) -> None:
        card = view.card
        if card is None:
            self._set("#card-title", view.empty or (card_title(view) if view.total else ""))
            for selector in ("#card-system", "#card-prompt", "#card-answer", "#card-reason"):
                self._set(selector, _("Opening…") if selector == "#card-answer" and view.total else "")
            return
        self._set("#card-title", card_title(view))
        example = card.example
        if not isinstance(example, Example):
            self._set("#card-system", "")
            self._set("#card-prompt", "")
            self._set("#card-answer", _("This example cannot be read: {reason}").format(reason=example.reason))
            self._set("#card-reason", "")
            return
        content = example.content
        system = content.system_prompt
        self._set("#card-system", _("System: {text}").format(text=folded(system)) if system.strip() else "")
        self._set("#card-prompt", _("Prompt: {text}").format(text=content.user_prompt))
        self._set("#card-answer", _("Answer: {text}").format(text=content.output))
        if scroll:
            self.query_one("#card-answer-box", VerticalScroll).scroll_home(animate=False)
        reason = card.judgement.reason if card.judgement is not None else ""
        self._set("#card-reason", _("Judge: {text}").format(text=reason) if reason.strip() else "")
