"""The cards of an audition batch and its status line, repainted at most REPAINT_HZ times a second.

The session calls `mark` for every token; that only remembers what changed, and a timer repaints the
cards that did, so a fast stream of tokens never starves the keyboard.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer

from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.audition import AuditionSession, BatchState, Card, CardState
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.plain import PlainStatic

REPAINT_HZ = 15
# How the status line counts the cards in each state.
STATE_COUNTS = {
    CardState.PENDING: N_("{n} pending"),
    CardState.STREAMING: N_("{n} streaming"),
    CardState.DONE: N_("{n} done"),
    CardState.FAILED: N_("{n} failed"),
    CardState.CANCELLED: N_("{n} cancelled"),
}


@dataclass(frozen=True)
class StatusKeys:
    """The keys the status line names, as the bindings give them."""

    generate: str = ""
    add_starred: str = ""
    add_with_rejected: str = ""


def status_text(session: AuditionSession | None, keys: StatusKeys) -> str:
    """One line on the batch: what it is doing, how its cards stand, and what to press next."""
    if session is None:
        return _("Fill the slots and press {key} to generate.").format(key=keys.generate)
    state = session.state
    if session.spec.presets and state is BatchState.GENERATING:
        return _("Asking {n} stored examples again…").format(n=len(session.spec.presets))
    if state is BatchState.PARAPHRASING:
        return _("Paraphrasing with {model}…").format(model=session.spec.paraphrase_model)
    if state is BatchState.FAILED:
        return _("✗ {error} — {key} tries again").format(error=session.error, key=keys.generate)
    if not session.cards:
        return _("Stopped.") if state is BatchState.CANCELLED else status_text(None, keys)
    counts: dict[CardState, int] = {}
    for card in session.cards:
        counts[card.state] = counts.get(card.state, 0) + 1
    parts = [_(STATE_COUNTS[s]).format(n=n) for s, n in counts.items()]
    starred = len(session.starred())
    rejected = sum(len(card.rejected_in_batch()) for card in session.cards)
    line = _("{cards} cards: {counts} · ★ {starred} starred").format(
        cards=len(session.cards), counts=", ".join(parts), starred=starred
    )
    if starred:
        line += _(" — {key} adds them to the dataset").format(key=keys.add_starred)
    if rejected and starred:
        line += ngettext(
            "; {key} adds them plus {n} rejected answer as undesirable",
            "; {key} adds them plus {n} rejected answers as undesirable",
            rejected,
        ).format(key=keys.add_with_rejected, n=rejected)
    elif rejected:
        line += ngettext(
            " — {key} adds the {n} rejected answer as undesirable",
            " — {key} adds the {n} rejected answers as undesirable",
            rejected,
        ).format(key=keys.add_with_rejected, n=rejected)
    if session.paraphrase_note:
        line += f"\n{session.paraphrase_note}"
    return line


class CardDeck(Localized, Vertical):
    """Shows `session` (set it, or `show_error`); `move(step)` focuses the next or previous card."""

    DEFAULT_CSS = """
    CardDeck {
        width: 1fr;
    }
    CardDeck > #batch-status {
        padding: 0 1;
        height: auto;
        color: $text-muted;
    }
    CardDeck > #batch-status.error {
        color: $error;
    }
    CardDeck > #cards {
        height: 1fr;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: AuditionSession | None = None
        self.keys = StatusKeys()
        self._dirty: set[int] = set()
        self._status_dirty = True
        self._status_shown = ""
        self._gc_paused = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="batch-status")
        yield VerticalScroll(id="cards", can_focus=False)

    def on_mount(self) -> None:
        self._timer = self.set_interval(1 / REPAINT_HZ, self._repaint, name="audition-repaint")

    def on_unmount(self) -> None:
        self._pause_gc(False)

    def draw_text(self) -> None:
        """After a language switch the next repaint writes the status line again (the cards redraw
        themselves)."""
        self._status_dirty = True

    # --- what the screen calls --------------------------------------------------------------
    def show(self, session: AuditionSession | None) -> None:
        """Shows another batch (its cards are mounted at the next repaint, or by `remount`)."""
        self.session = session
        self._status_dirty = True

    def set_keys(self, keys: StatusKeys) -> None:
        self.keys = keys
        self._status_dirty = True

    def mark(self, card: Card | None) -> None:
        """The session's listener: called for every token, it only remembers what to repaint."""
        self._status_dirty = True
        if card is not None:
            self._dirty.add(card.index)

    def pause(self) -> None:
        """While the screen is away: no repaints (the batch goes on, and `mark` still notes changes)."""
        if self._timer is not None:
            self._timer.pause()
        self._pause_gc(False)

    def resume(self) -> None:
        self._status_dirty = True
        self._dirty.update(range(len(self.session.cards) if self.session else 0))
        if self._timer is not None:
            self._timer.resume()

    def show_error(self, text: str) -> None:
        """A problem with the form or the batch, shown in the status line until the next repaint of it."""
        self._set_status(f"✗ {text}", error=True)

    def card_widgets(self) -> list[AuditionCard]:
        return list(self.query_one("#cards").query(AuditionCard).results(AuditionCard))

    def move(self, step: int) -> None:
        widgets = self.card_widgets()
        if not widgets:
            return
        focused = self.screen.focused
        index = widgets.index(focused) if isinstance(focused, AuditionCard) and focused in widgets else -1
        # At once, not after a refresh as Widget.focus does: a key typed right after j must act on
        # the card j moved to.
        self.screen.set_focus(widgets[max(0, min(len(widgets) - 1, index + step))])

    async def remount(self) -> None:
        """One card widget per card of the session, the first focused (unless a card already is)."""
        holder = self.query_one("#cards", VerticalScroll)
        await holder.remove_children()
        session = self.session
        if session is not None and session.cards:
            await holder.mount_all(AuditionCard(card) for card in session.cards)
            if not isinstance(self.screen.focused, AuditionCard):
                self.screen.set_focus(holder.query(AuditionCard).first())

    # --- painting -----------------------------------------------------------------------------
    async def _repaint(self) -> None:
        session = self.session
        if session is None:
            if self._status_dirty:
                self._status_dirty = False
                self._set_status(status_text(None, self.keys))
            return
        widgets = self.card_widgets()
        if len(widgets) != len(session.cards) or any(
            w.card is not c for w, c in zip(widgets, session.cards, strict=True)
        ):
            self._dirty.clear()
            self._status_dirty = True
            await self.remount()
            widgets = self.card_widgets()
        if self._dirty:
            dirty, self._dirty = self._dirty, set()
            for index in dirty:
                if index < len(widgets):
                    widgets[index].show(session.cards[index])
        streaming = any(c.state in (CardState.PENDING, CardState.STREAMING) for c in session.cards)
        self._pause_gc(streaming)
        if self._status_dirty or streaming:
            self._status_dirty = False
            self._set_status(status_text(session, self.keys), error=session.state is BatchState.FAILED)

    def _pause_gc(self, pause: bool) -> None:
        # A full garbage collection holds the loop for 40 ms and more; while cards stream it waits
        # (as Textual's own smooth scrolling does). Memory without cycles is still freed at once.
        if pause and gc.isenabled():
            gc.disable()
            self._gc_paused = True
        elif not pause and self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#batch-status", PlainStatic)
        if text != self._status_shown:  # an update lays out the whole screen again
            self._status_shown = text
            status.update(text)
        status.set_class(error, "error")
