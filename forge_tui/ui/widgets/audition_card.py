"""One audition card: the variation it asked, the streamed answer, tool calls, tokens and time.

The card is a single widget drawn line by line (Textual's Line API) rather than a box of Statics:
sixteen cards are then sixteen widgets to style and lay out, not eighty, and a token that arrives
repaints one card without a layout of the screen. While the answer streams, the card shows its
newest LIVE_ROWS lines at a fixed height; once finished it grows to the whole answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.strip import Strip
from textual.widget import Widget

from forge_tui.i18n import N_, _
from forge_tui.services.audition import Card, CardState, calls_to_json
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized
from forge_tui.ui.wrap import WrappedText, cut

LIVE_ROWS = 6
CUT_MARK = N_("✂ cut at max tokens")
VARIATION_ROWS = 2

_STATE_MARK = {
    CardState.PENDING: N_("… waiting"),
    CardState.STREAMING: N_("▶ streaming"),
    CardState.DONE: N_("✓ done"),
    CardState.FAILED: N_("✗ failed"),
    CardState.CANCELLED: N_("■ cancelled"),
}


def describe(card: Card) -> str:
    """The line under the card: state, tokens, speed, time."""
    parts = [_(_STATE_MARK[card.state])]
    usage = card.usage
    if usage is not None and usage.completion_tokens is not None:
        answer = usage.completion_tokens
        if usage.prompt_tokens is not None and usage.estimated:
            tokens = _("{prompt} → {answer} tokens (counted)").format(prompt=usage.prompt_tokens, answer=answer)
        elif usage.prompt_tokens is not None:
            tokens = _("{prompt} → {answer} tokens").format(prompt=usage.prompt_tokens, answer=answer)
        elif usage.estimated:
            tokens = _("{answer} tokens (counted)").format(answer=answer)
        else:
            tokens = _("{answer} tokens").format(answer=answer)
        parts.append(tokens)
    elif card.parts:
        parts.append(_("{n} pieces").format(n=len(card.parts)))
    seconds = card.seconds
    if seconds is not None:
        parts.append(_("{seconds} s").format(seconds=f"{seconds:.1f}"))
    if card.rejected_here:
        parts.append(_("{n} rejected").format(n=len(card.rejected_here)))
    if card.edited:
        parts.append(_("edited"))
    return " · ".join(parts)


@dataclass(frozen=True)
class _Row:
    section: str  # "variation", "answer", "note", "tools", "error" or "blank"
    text: str


class AuditionCard(Localized, Widget, can_focus=True):
    """Focus it to act on it; the keys show in the footer."""

    COMPONENT_CLASSES = {
        "audition-card--variation",
        "audition-card--note",
        "audition-card--tools",
        "audition-card--error",
    }
    DEFAULT_CSS = """
    AuditionCard {
        width: 1fr;
        height: auto;
        border: round $primary 40%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
        padding: 0 1;
    }
    AuditionCard:focus {
        border: round $accent;
        background: $boost;
    }
    AuditionCard.starred {
        border: round $warning;
        border-title-color: $warning;
    }
    AuditionCard.starred:focus {
        border: double $warning;
    }
    AuditionCard.failed {
        border: round $error 70%;
    }
    AuditionCard > .audition-card--variation {
        color: $text-muted;
        text-style: italic;
    }
    AuditionCard > .audition-card--note {
        color: $warning;
    }
    AuditionCard > .audition-card--tools {
        color: $accent;
    }
    AuditionCard > .audition-card--error {
        color: $error;
    }
    """
    BINDINGS = [
        Binding("space", "screen.star", N_("Star"), id="card.star"),
        Binding("e", "screen.edit", N_("Edit"), id="card.edit"),
        Binding("x", "screen.reject", N_("Reject → new"), id="card.reject"),
        Binding("r", "screen.retry", N_("Retry"), id="card.retry"),
        Binding("v", "screen.variation", N_("Variation"), id="card.variation"),
        Binding("h", "screen.history", N_("Rejected"), id="card.history"),
        Binding("c", "copy", N_("Copy"), id="card.copy"),
        Binding("up,k", "screen.card(-1)", N_("Previous card"), id="card.previous", show=False),
        Binding("down,j", "screen.card(1)", N_("Next card"), id="card.next", show=False),
    ]

    def __init__(self, card: Card) -> None:
        super().__init__()
        self.card = card
        self._variation = WrappedText()
        self._answer = WrappedText()
        self._note = WrappedText()
        self._tools = WrappedText()
        self._error = WrappedText()
        self._live = True
        self._rows: list[_Row] | None = None  # at self._rows_width
        self._rows_width = -1
        self._retry_key: str | None = None

    @property
    def retry_key(self) -> str:
        """The key that retries this card, as the bindings give it."""
        if self._retry_key is None:
            self._retry_key = key_for(self, "screen.retry")
        return self._retry_key

    @classmethod
    def key(cls, action: str) -> str:
        """The key a card binds to `action` ("star", "retry", …), as the bindings give it."""
        card = cls(Card(index=0, variation=0, prompt=""))
        return key_for(card, f"screen.{action}") or key_for(card, action)

    def draw_text(self) -> None:
        """At mount, and after a language switch: the card's labels again (its text stays)."""
        self.show(self.card)
        self.refresh()

    def action_copy(self) -> None:
        """The answer (and its tool calls as JSON) to the clipboard."""
        card = self.card
        text = card.answer
        if card.calls:
            text = (text + "\n" if text else "") + json.dumps(calls_to_json(card.calls), ensure_ascii=False)
        self.app.copy_to_clipboard(text)
        self.notify(_("Copied card {n} ({count} characters).").format(n=card.index + 1, count=len(text)))

    # --- what the card holds ------------------------------------------------------------
    def show(self, card: Card) -> None:
        """Takes the card's current state; repaints, and lays out only when the height changes."""
        self.card = card
        star = "★ " if card.starred else ""
        if card.variation == 0:
            title = _("Card {n} · the prompt as written").format(n=card.index + 1)
        else:
            title = _("Card {n} · variation {variation}").format(n=card.index + 1, variation=card.variation)
        self.border_title = star + title
        self.border_subtitle = describe(card)
        live = card.state in (CardState.PENDING, CardState.STREAMING)
        self.set_class(card.starred, "starred")
        self.set_class(card.state is CardState.FAILED, "failed")
        lines = [f"→ {c.name}({json.dumps(c.arguments, ensure_ascii=False)})" for c in card.calls]
        lines += [f"⚠ {p}" for p in card.tool_problems] if card.edited_tool_calls is None else []
        problem = ""
        if card.state is CardState.FAILED:
            problem = _("{error} — {key} retries").format(error=card.error, key=self.retry_key)
        elif card.state is CardState.CANCELLED:
            problem = _("Cancelled — {key} retries").format(key=self.retry_key)
        changed = self._variation.set(card.prompt)
        changed |= self._answer.set(card.answer or ("…" if live else ""))
        changed |= self._note.set(_(CUT_MARK) if card.cut_at_max_tokens else "")
        changed |= self._tools.set("\n".join(lines))
        changed |= self._error.set(problem)
        changed |= live != self._live
        self._live = live
        if not changed:
            return
        height = len(self._rows) if self._rows is not None else -1
        self._rows = None
        width = self.size.width
        self.refresh(layout=width <= 0 or len(self._rows_at(width)) != height)

    def visible_text(self) -> str:
        """The card's text as drawn (for tests and copy-paste checks)."""
        return "\n".join(row.text for row in self._rows_at(max(1, self.size.width)))

    @property
    def error_text(self) -> str:
        return self._error.text

    # --- drawing --------------------------------------------------------------------------
    def _rows_at(self, width: int) -> list[_Row]:
        if self._rows is not None and self._rows_width == width:
            return self._rows
        rows: list[_Row] = []
        variation = [self._variation.line(s) for s in self._variation.lines(width)]
        if len(variation) > VARIATION_ROWS:
            variation = variation[:VARIATION_ROWS]
            variation[-1] = cut(variation[-1] + "…", width)
        rows += [_Row("variation", text) for text in variation]
        answer = [self._answer.line(s) for s in self._answer.lines(width)]
        if self._live:
            # A fixed window onto the newest lines: the height does not move while tokens arrive.
            answer = answer[-LIVE_ROWS:]
            answer += [""] * (LIVE_ROWS - len(answer))
        rows += [_Row("answer", text) for text in answer]
        rows += [_Row("note", self._note.line(s)) for s in self._note.lines(width)]
        rows += [_Row("tools", self._tools.line(s)) for s in self._tools.lines(width)]
        rows += [_Row("error", self._error.line(s)) for s in self._error.lines(width)]
        self._rows, self._rows_width = rows, width
        return rows

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._rows_at(width))

    def _style_of(self, section: str) -> Style:
        if section == "answer":
            return self.rich_style
        return self.get_component_rich_style(f"audition-card--{section}")

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        rows = self._rows_at(width)
        if y >= len(rows):
            return Strip.blank(width, self.rich_style)
        row = rows[y]
        style = self._style_of(row.section)
        return Strip([Segment(row.text, style)]).crop_extend(0, width, self.rich_style)
