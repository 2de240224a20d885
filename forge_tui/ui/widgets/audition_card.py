"""One audition card: the variation it asked, the streamed answer, tool calls, tokens and time."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from forge_tui.services.audition import Card, CardState

_STATE_MARK = {
    CardState.PENDING: "… waiting",
    CardState.STREAMING: "▶ streaming",
    CardState.DONE: "✓ done",
    CardState.FAILED: "✗ failed",
    CardState.CANCELLED: "■ cancelled",
}


def describe(card: Card) -> str:
    """The line under the card: state, tokens, speed, time."""
    parts = [_STATE_MARK[card.state]]
    usage = card.usage
    if usage is not None and usage.completion_tokens is not None:
        prompt = f"{usage.prompt_tokens} → " if usage.prompt_tokens is not None else ""
        parts.append(f"{prompt}{usage.completion_tokens} tokens{' (counted)' if usage.estimated else ''}")
    elif card.parts:
        parts.append(f"{len(card.parts)} pieces")
    seconds = card.seconds
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    if card.rejected_here:
        parts.append(f"{len(card.rejected_here)} rejected")
    if card.edited:
        parts.append("edited")
    return " · ".join(parts)


class AuditionCard(Vertical, can_focus=True):
    """Focus it to act on it; the keys show in the footer."""

    BINDINGS = [
        Binding("space", "screen.star", "Star", id="card.star"),
        Binding("e", "screen.edit", "Edit", id="card.edit"),
        Binding("x", "screen.reject", "Reject → new", id="card.reject"),
        Binding("r", "screen.retry", "Retry", id="card.retry"),
        Binding("v", "screen.variation", "Variation", id="card.variation"),
        Binding("h", "screen.history", "Rejected", id="card.history"),
        Binding("c", "screen.copy", "Copy", id="card.copy"),
        Binding("up,k", "screen.card(-1)", "Previous card", id="card.previous", show=False),
        Binding("down,j", "screen.card(1)", "Next card", id="card.next", show=False),
    ]

    def __init__(self, card: Card, variations: int) -> None:
        super().__init__(classes="card")
        self.card = card
        self.variations = variations

    def compose(self) -> ComposeResult:
        yield Static("", classes="card-variation", markup=False)
        with VerticalScroll(classes="card-body", can_focus=False):
            yield Static("", classes="card-answer", markup=False)
            yield Static("", classes="card-tools", markup=False)
        yield Static("", classes="card-error", markup=False)

    def on_mount(self) -> None:
        self.show(self.card)

    def show(self, card: Card) -> None:
        self.card = card
        star = "★ " if card.starred else ""
        which = "the prompt as written" if card.variation == 0 else f"variation {card.variation}"
        self.border_title = f"{star}Card {card.index + 1} · {which}"
        self.border_subtitle = describe(card)
        self.set_class(card.starred, "starred")
        self.set_class(card.state is CardState.FAILED, "failed")
        self.set_class(card.state is CardState.STREAMING, "streaming")
        self.query_one(".card-variation", Static).update(Text(card.prompt, overflow="ellipsis", no_wrap=False))
        answer = card.answer
        if not answer and card.state in (CardState.PENDING, CardState.STREAMING):
            answer = "…"
        self.query_one(".card-answer", Static).update(answer)
        tools = self.query_one(".card-tools", Static)
        calls = card.calls
        lines = [f"→ {c.name}({json.dumps(c.arguments, ensure_ascii=False)})" for c in calls]
        lines += [f"⚠ {p}" for p in card.tool_problems] if card.edited_tool_calls is None else []
        tools.update("\n".join(lines))
        tools.display = bool(lines)
        problem = ""
        if card.state is CardState.FAILED:
            problem = f"{card.error} — r retries"
        elif card.state is CardState.CANCELLED:
            problem = "Cancelled — r retries"
        error = self.query_one(".card-error", Static)
        error.update(problem)
        error.display = bool(problem)
        self.scroll_answer_to_end()

    def scroll_answer_to_end(self) -> None:
        if self.card.state is CardState.STREAMING:
            self.query_one(".card-body", VerticalScroll).scroll_end(animate=False)
