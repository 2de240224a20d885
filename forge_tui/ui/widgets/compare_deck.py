"""The side-by-side audition: one row per prompt, the two models' answers as cards in two columns, and a
status line with the contenders and the tally. Repainted on a timer, as CardDeck is.

The row is what has focus (its keys pick the better answer); the cards in it only draw. A blind row labels
its columns "?" until it is picked.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer

from forge_tui.i18n import N_, _
from forge_tui.services.audition import BatchState, Card, CardState
from forge_tui.services.comparison import ComparisonSession, Contender, Shown
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.card_deck import REPAINT_HZ
from forge_tui.ui.widgets.plain import PlainStatic

HIDDEN_LABEL = "?"


class ComparedCard(AuditionCard, can_focus=False):
    """An audition card titled by the model that wrote it (or "?" while a blind row is not picked)."""

    BINDINGS = []

    def __init__(self, card: Card, label: str = "") -> None:
        self.label = label
        self.won = False
        super().__init__(card)

    def show(self, card: Card) -> None:
        super().show(card)
        self.border_title = ("★ " if self.won else "") + self.label
        self.set_class(self.won, "starred")


class CompareRow(Horizontal, can_focus=True):
    """Row `index`: the left and the right answer. Its keys act through the screen."""

    DEFAULT_CSS = """
    CompareRow {
        height: auto;
        border-left: tall $panel;
    }
    CompareRow:focus {
        border-left: tall $accent;
        background: $boost;
    }
    CompareRow > ComparedCard {
        width: 1fr;
    }
    """
    BINDINGS = [
        Binding("1,left", "screen.pick('left')", N_("Left better"), id="compare.left"),
        Binding("2,right", "screen.pick('right')", N_("Right better"), id="compare.right"),
        Binding("x", "screen.pick('neither')", N_("Both bad"), id="compare.neither"),
        Binding("r", "screen.retry_row", N_("Retry"), id="compare.retry"),
        Binding("up,k", "screen.row(-1)", N_("Previous row"), id="compare.previous", show=False),
        Binding("down,j", "screen.row(1)", N_("Next row"), id="compare.next", show=False),
    ]

    def __init__(self, shown: Shown) -> None:
        super().__init__()
        self.index = shown.row.index
        self.left = ComparedCard(shown.left)
        self.right = ComparedCard(shown.right)

    def compose(self) -> ComposeResult:
        yield self.left
        yield self.right

    def show(self, shown: Shown) -> None:
        row = shown.row
        labelled = row.picked or not shown.blind
        for widget, card, contender, side in (
            (self.left, shown.left, shown.left_contender, shown.sides[0]),
            (self.right, shown.right, shown.right_contender, shown.sides[1]),
        ):
            widget.label = contender.label if labelled else HIDDEN_LABEL
            widget.won = row.winner == side
            widget.show(card)


def tally_text(session: ComparisonSession) -> str:
    """The contenders and their wins: "A llama3.2: 2 · B tuned: 1 · neither 0"."""
    tally = session.tally()
    a, b = session.contenders
    return _("{a}: {wins_a} · {b}: {wins_b} · both bad: {neither}").format(
        a=a.label, wins_a=tally.wins[0], b=b.label, wins_b=tally.wins[1], neither=tally.neither
    )


def status_text(session: ComparisonSession | None, pair: tuple[Contender, Contender] | None, generate: str) -> str:
    if session is None:
        if pair is None:
            return ""
        return _("Comparing {a} with {b}: fill the slots and press {key}.").format(
            a=pair[0].label, b=pair[1].label, key=generate
        )
    state = session.state
    if state is BatchState.PARAPHRASING:
        return _("Paraphrasing with {model}…").format(model=session.spec.paraphrase_model)
    if state is BatchState.FAILED:
        return _("✗ {error} — {key} tries again").format(error=session.error, key=generate)
    if state is BatchState.CANCELLED and not session.rows:
        return _("Stopped.")
    cards = [card for side in session.sides or () for card in side.cards]
    streaming = sum(1 for c in cards if c.state in (CardState.PENDING, CardState.STREAMING))
    line = tally_text(session)
    if session.blind:
        line = _("{tally} · blind").format(tally=line)
    if streaming:
        line = _("{tally} · {n} answers streaming").format(tally=line, n=streaming)
    return line


class CompareDeck(Localized, Vertical):
    """Shows a ComparisonSession (`show`); the session's listener is `mark`."""

    DEFAULT_CSS = """
    CompareDeck {
        width: 1fr;
    }
    CompareDeck > #compare-status {
        padding: 0 1;
        height: auto;
        color: $text-muted;
    }
    CompareDeck > #compare-status.error {
        color: $error;
    }
    CompareDeck > #compare-rows {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: ComparisonSession | None = None
        self.pair: tuple[Contender, Contender] | None = None
        self.generate_key = ""
        self._dirty: set[int] = set()
        self._status_dirty = True
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="compare-status")
        yield VerticalScroll(id="compare-rows", can_focus=False)

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / REPAINT_HZ, self._repaint, name="compare-repaint")

    def draw_text(self) -> None:
        self._status_dirty = True
        self._dirty.update(range(len(self.session.rows) if self.session else 0))

    def show(self, session: ComparisonSession | None, pair: tuple[Contender, Contender] | None) -> None:
        self.session, self.pair = session, pair
        self._status_dirty = True

    def mark(self, card: Card | None) -> None:
        self._status_dirty = True
        if card is not None:
            self._dirty.add(card.index)

    def mark_row(self, index: int) -> None:
        self._status_dirty = True
        self._dirty.add(index)

    def pause(self) -> None:
        if self._timer is not None:
            self._timer.pause()

    def resume(self) -> None:
        self.draw_text()
        if self._timer is not None:
            self._timer.resume()

    def show_error(self, text: str) -> None:
        self._set_status(f"✗ {text}", error=True)

    def rows(self) -> list[CompareRow]:
        return list(self.query_one("#compare-rows").query(CompareRow).results(CompareRow))

    def focused_row(self) -> int | None:
        focused = self.screen.focused
        return focused.index if isinstance(focused, CompareRow) else None

    def move(self, step: int) -> None:
        rows = self.rows()
        if rows:
            index = self.focused_row()
            self.screen.set_focus(rows[max(0, min(len(rows) - 1, (-1 if index is None else index) + step))])

    async def _remount(self, session: ComparisonSession) -> None:
        holder = self.query_one("#compare-rows", VerticalScroll)
        await holder.remove_children()
        if session.ready:
            await holder.mount_all(CompareRow(session.shown(i)) for i in range(session.ready))
            self._dirty = set(range(session.ready))
            if not isinstance(self.screen.focused, CompareRow):
                self.screen.set_focus(holder.query(CompareRow).first())

    async def _repaint(self) -> None:
        session = self.session
        if session is None:
            if self._status_dirty:
                self._status_dirty = False
                await self.query_one("#compare-rows", VerticalScroll).remove_children()
                self._set_status(status_text(None, self.pair, self.generate_key))
            return
        rows = self.rows()
        if len(rows) != session.ready or any(
            r.left.card is not s.left or r.right.card is not s.right
            for r, s in zip(rows, (session.shown(i) for i in range(len(rows))), strict=True)
        ):
            await self._remount(session)
            rows = self.rows()
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            for index in sorted(dirty):
                if index < len(rows):
                    rows[index].show(session.shown(index))
        if self._status_dirty:
            self._status_dirty = False
            self._set_status(status_text(session, self.pair, self.generate_key), session.state is BatchState.FAILED)

    def _set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#compare-status", PlainStatic)
        status.update(text)
        status.set_class(error, "error")
