"""Audition (`g`): a slot form, then one card per paraphrased variation, streaming side by side.

The session (services.audition) does the work; this screen only turns keys into session calls and
repaints the cards that changed, at most REPAINT_HZ times a second, so a fast stream of tokens never
starves the keyboard.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.models import Example
from forge_tui.core.templates import TemplateInfo
from forge_tui.services.audition import (
    AuditionSession,
    BatchSpec,
    BatchState,
    Card,
    CardState,
    calls_to_json,
    presets_from,
)
from forge_tui.services.backends import BackendError, BackendService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.keys import key_for
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

REPAINT_HZ = 15
DEFAULT_BATCH = 3


class AuditionScreen(WorkspaceScreen):
    TITLE = "Audition"
    HELP = (
        "Fill the slots and press ctrl+r: the paraphrase model rewrites the prompt into one variation per "
        "card and the generation model answers each, all at once. On a card: space stars it, e edits the "
        "answer (and tool calls), x rejects it and asks again (the rejected answer is kept for preference "
        "pairs), r retries a failed card, v switches the variation, h lists rejected answers, c copies. "
        "ctrl+s adds the starred cards to the current dataset (labelled desirable for KTO, with the model's "
        "reasoning); ctrl+o adds them and every answer rejected in this batch as an undesirable example of "
        "its own. escape stops everything in flight. "
        "Leave the paraphrase model empty to send the prompt as written."
    )
    BINDINGS = [
        Binding("ctrl+r", "generate", "Generate", id="audition.generate"),
        Binding("ctrl+s", "add_starred", "Add starred", id="audition.add"),
        Binding("ctrl+o", "add_with_rejected", "+ rejected ✗", id="audition.add_with_rejected"),
        Binding("escape", "cancel", "Stop", id="audition.cancel"),
        Binding("ctrl+b", "toggle_form", "Form", id="audition.form"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.templates: list[TemplateInfo] = []
        self.template: TemplateInfo | None = None
        # A batch from an earlier visit to this screen carries on here.
        self.session: AuditionSession | None = workspace.audition
        self._backend: BackendService | None = self.session.backend if self.session else None
        self._dirty: set[int] = set()
        self._status_dirty = False
        self._status_text_shown = ""
        self._gc_paused = False
        self._keys: dict[str, str] = {}  # action -> its key as the bindings give it (status line)

    # --- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        settings = self.workspace.settings.backend()
        yield ForgeHeader()
        with Horizontal(id="audition-body"):
            with VerticalScroll(id="audition-form", can_focus=False):
                yield Label("Template")
                yield Select[int]([], id="template", allow_blank=True, prompt="(no templates)", compact=True)
                yield Vertical(id="slot-fields")
                yield Label("Cards")
                yield Input(str(DEFAULT_BATCH), type="integer", id="batch", compact=True)
                yield Label("Generation model")
                yield Input(settings.generation_model or "", id="model", compact=True, placeholder="e.g. llama3.2")
                yield Label("Paraphrase model (empty: no paraphrasing)")
                yield Input(settings.paraphrase_model or "", id="paraphrase-model", compact=True)
                yield Label("Temperature · seed (empty: random)")
                with Horizontal(classes="row"):
                    yield Input("0.8", type="number", id="temperature", compact=True)
                    yield Input("", type="integer", id="seed", compact=True, placeholder="random")
                yield Button("Generate (ctrl+r)", variant="primary", id="generate", compact=True)
            with Vertical(id="audition-main"):
                yield PlainStatic("Fill the slots and press ctrl+r to generate.", id="batch-status")
                yield VerticalScroll(id="cards", can_focus=False)
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.templates = self.workspace.templates.list()
        select = self.query_one("#template", Select)
        select.set_options([(shown_markup(t.name), t.id) for t in self.templates if t.id is not None])
        session = self.session
        chosen = session.spec.template.id if session else self.workspace.last_template_id
        if not any(t.id == chosen for t in self.templates) and self.templates:
            chosen = self.templates[0].id
        if chosen is not None:
            select.value = chosen
        if session is not None:
            session.listener = self._on_change
            self._fill_form(session.spec)
            self._status_dirty = True
        self.set_interval(1 / REPAINT_HZ, self._repaint, name="audition-repaint")
        self._load_models()
        examples, self.workspace.regenerate = self.workspace.regenerate, None
        if examples:
            self.call_after_refresh(self._regenerate, examples)

    def _regenerate(self, examples: list[Example]) -> None:
        """Cards for stored examples (from the Examples screen): their own prompts, no paraphrasing."""
        ids = {e.meta.template_id for e in examples}
        template = next((t for t in self.templates if len(ids) == 1 and t.id in ids), None)
        if template is None:
            template = TemplateInfo(name="Regenerated examples", user_prompt="(the examples' own prompts)")
        try:
            spec = replace(self._spec(template), presets=presets_from(examples), paraphrase_model=None)
            session = AuditionSession(
                self._backend_service(), spec, self.workspace.settings.backend().concurrency, self._on_change
            )
        except ForgeError as exc:
            self._set_status(f"✗ {exc}", error=True)
            return
        self.notify(
            f"Asking {len(examples)} example{'s' if len(examples) != 1 else ''} again: star the answers to keep."
        )
        self._start(session)

    def on_unmount(self) -> None:
        self._pause_gc(False)
        # The batch keeps streaming without a screen; the next Audition screen picks it up.
        if self.session is not None:
            self.session.listener = None
        self.workspace.audition = self.session

    def _fill_form(self, spec: BatchSpec) -> None:
        self.query_one("#batch", Input).value = str(spec.batch)
        self.query_one("#model", Input).value = spec.model
        self.query_one("#paraphrase-model", Input).value = spec.paraphrase_model or ""
        self.query_one("#temperature", Input).value = "" if spec.temperature is None else f"{spec.temperature:g}"
        self.query_one("#seed", Input).value = "" if spec.seed is None else str(spec.seed)

    @on(Select.Changed, "#template")
    async def _template_changed(self, event: Select.Changed) -> None:
        template = next((t for t in self.templates if t.id == event.value), None)
        self.template = template
        if template is not None:
            self.workspace.last_template_id = template.id
        fields = self.query_one("#slot-fields", Vertical)
        await fields.remove_children()
        if template is None:
            return
        typed = self.session.spec.slots if self.session and self.session.spec.template.id == template.id else {}
        widgets: list[Widget] = []
        for name in template.used_slots():
            slot = template.slot(name)
            value = typed.get(name, slot.default if slot else "")
            widgets.append(PlainLabel(f"{name}{' — ' + slot.description if slot and slot.description else ''}"))
            widgets.append(Input(value, id=f"slot-{name}", compact=True, classes="slot-input"))
        await fields.mount_all(widgets)

    @work(exclusive=True, group="audition-models")
    async def _load_models(self) -> None:
        """Suggests model names from the server's live list as you type them."""
        try:
            models = await self._backend_service().models()
        except BackendError:
            return
        names = [m.name for m in models]
        for selector in ("#model", "#paraphrase-model"):
            self.query_one(selector, Input).suggester = SuggestFromList(names, case_sensitive=False)

    def _backend_service(self) -> BackendService:
        settings = self.workspace.settings.backend()
        if self._backend is None or self._backend.settings != settings:
            old, self._backend = self._backend, BackendService(settings)
            # A running batch keeps its own client; it is closed when the batch is replaced.
            if old is not None and (self.session is None or self.session.backend is not old):
                self.run_worker(old.aclose(), group="audition-close")
        return self._backend

    # --- the form ---------------------------------------------------------------------
    def _spec(self, template: TemplateInfo | None = None) -> BatchSpec:
        template = template or self.template
        if template is None:
            raise InvalidInput("Choose a template first (t opens the Templates screen).")
        slots = {i.id.removeprefix("slot-"): i.value for i in self.query(".slot-input").results(Input) if i.id}

        def number(selector: str, kind: type[int] | type[float], what: str) -> float | None:
            text = self.query_one(selector, Input).value.strip()
            if not text:
                return None
            try:
                return kind(text)
            except ValueError:
                raise InvalidInput(f"{what} must be a number.") from None

        batch = number("#batch", int, "Cards")
        seed = number("#seed", int, "The seed")
        return BatchSpec(
            template=template,
            slots=slots,
            model=self.query_one("#model", Input).value.strip(),
            paraphrase_model=self.query_one("#paraphrase-model", Input).value.strip() or None,
            batch=int(batch) if batch is not None else DEFAULT_BATCH,
            temperature=number("#temperature", float, "The temperature"),
            seed=int(seed) if seed is not None else None,
        )

    @on(Button.Pressed, "#generate")
    def action_generate(self) -> None:
        try:
            spec = self._spec()
            session = AuditionSession(
                self._backend_service(), spec, self.workspace.settings.backend().concurrency, self._on_change
            )
        except ForgeError as exc:
            self._set_status(f"✗ {exc}", error=True)
            return
        self._start(session)

    @work(exclusive=True, group="audition-batch")
    async def _start(self, session: AuditionSession) -> None:
        old, self.session = self.session, session
        self.workspace.audition = session
        if old is not None:
            await old.close()
            if old.backend is not session.backend:
                await old.backend.aclose()
        await self._mount_cards()
        await session.run()
        self._status_dirty = True

    def _on_change(self, card: Card | None) -> None:
        # Called for every token: only remember what to repaint (the status line counts stars and states).
        self._status_dirty = True
        if card is not None:
            self._dirty.add(card.index)

    # --- painting ---------------------------------------------------------------------
    async def _mount_cards(self) -> None:
        holder = self.query_one("#cards", VerticalScroll)
        await holder.remove_children()
        session = self.session
        if session is not None and session.cards:
            await holder.mount_all(AuditionCard(card) for card in session.cards)
            first = holder.query(AuditionCard).first()
            if not isinstance(self.focused, AuditionCard):
                self.set_focus(first)

    def card_widgets(self) -> list[AuditionCard]:
        return list(self.query_one("#cards").query(AuditionCard).results(AuditionCard))

    async def _repaint(self) -> None:
        session = self.session
        if session is None:
            return
        widgets = self.card_widgets()
        if len(widgets) != len(session.cards) or any(
            w.card is not c for w, c in zip(widgets, session.cards, strict=True)
        ):
            self._dirty.clear()
            self._status_dirty = True
            await self._mount_cards()
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
            self._set_status(self._status_text(session), error=session.state is BatchState.FAILED)

    def _pause_gc(self, pause: bool) -> None:
        # A full garbage collection holds the loop for 40 ms and more; while cards stream it waits
        # (as Textual's own smooth scrolling does). Memory without cycles is still freed at once.
        if pause and gc.isenabled():
            gc.disable()
            self._gc_paused = True
        elif not pause and self._gc_paused:
            self._gc_paused = False
            gc.enable()

    def _status_text(self, session: AuditionSession) -> str:
        state = session.state
        if session.spec.presets and state is BatchState.GENERATING:
            return f"Asking {len(session.spec.presets)} stored examples again…"
        if state is BatchState.PARAPHRASING:
            return f"Paraphrasing with {session.spec.paraphrase_model}…"
        if state is BatchState.FAILED:
            return f"✗ {session.error} — ctrl+r tries again"
        if not session.cards:
            return "Fill the slots and press ctrl+r to generate." if state is not BatchState.CANCELLED else "Stopped."
        counts: dict[CardState, int] = {}
        for card in session.cards:
            counts[card.state] = counts.get(card.state, 0) + 1
        parts = [f"{n} {s.value}" for s, n in counts.items()]
        starred = len(session.starred())
        rejected = sum(len(card.rejected_in_batch()) for card in session.cards)
        line = f"{len(session.cards)} cards: {', '.join(parts)} · ★ {starred} starred"
        if starred:
            line += f" — {self._key('add_starred')} adds them to the dataset"
        if rejected:
            answers = f"{rejected} rejected answer{'s' if rejected != 1 else ''}"
            what = f"them plus {answers}" if starred else f"the {answers}"
            line += f"{'; ' if starred else ' — '}{self._key('add_with_rejected')} adds {what} as undesirable"
        if session.paraphrase_note:
            line += f"\n{session.paraphrase_note}"
        return line

    def _key(self, action: str) -> str:
        key = self._keys.get(action) or key_for(self, action)
        self._keys[action] = key
        return key

    def _set_status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#batch-status", Static)
        if text != self._status_text_shown:  # an update lays out the whole screen again
            self._status_text_shown = text
            status.update(text)
        status.set_class(error, "error")

    # --- card keys --------------------------------------------------------------------
    def _focused_card(self) -> Card | None:
        focused = self.focused
        if isinstance(focused, AuditionCard) and self.session is not None and focused.card in self.session.cards:
            return focused.card
        return None

    def _act(self, action: str, run: Callable[[], object]) -> None:
        try:
            run()
        except ForgeError as exc:
            self.notify(str(exc), title=f"Cannot {action}", severity="warning")

    def action_star(self) -> None:
        card, session = self._focused_card(), self.session
        if card is not None and session is not None:
            self._act("star", lambda: session.star(card.index))

    def action_reject(self) -> None:
        card, session = self._focused_card(), self.session
        if card is None or session is None:
            return
        if card.state is not CardState.DONE:
            self.notify("Wait for the answer to finish (r retries a failed card).", severity="warning")
            return
        self._act("reject", lambda: session.regenerate(card.index))

    def action_retry(self) -> None:
        card, session = self._focused_card(), self.session
        if card is not None and session is not None:
            if card.state is CardState.DONE:
                self.notify("This card finished: x rejects the answer and asks again.", severity="warning")
                return
            self._act("retry", lambda: session.regenerate(card.index))

    def action_edit(self) -> None:
        card, session = self._focused_card(), self.session
        if card is None or session is None:
            return
        if card.state is not CardState.DONE:
            self.notify("Wait for the answer to finish before editing it.", severity="warning")
            return
        tool_calling = session.spec.template.is_tool_calling
        calls = json.dumps(calls_to_json(card.calls), indent=2, ensure_ascii=False) if tool_calling else None

        def apply(answer: str, calls_text: str | None) -> None:
            if calls_text is not None:
                session.edit_tool_calls(card.index, calls_text)
            session.edit_output(card.index, answer)

        self.app.push_screen(CardEditor(f"Edit card {card.index + 1}", card.answer, calls, apply))

    def action_variation(self) -> None:
        card, session = self._focused_card(), self.session
        if card is None or session is None:
            return
        options = [
            (str(i), f"{'●' if i == card.variation else ' '} {'(as written) ' if i == 0 else f'{i}. '}{text}")
            for i, text in enumerate(session.variations)
        ]

        def picked(choice: str | None) -> None:
            if choice is not None and int(choice) != card.variation:
                self._act("switch variation", lambda: session.use_variation(card.index, int(choice)))

        self.app.push_screen(PickOne(f"Card {card.index + 1}: ask which variation?", options), picked)

    def action_history(self) -> None:
        card = self._focused_card()
        if card is None:
            return
        rejected = card.rejected_here
        if not rejected:
            self.notify("No rejected answers for this card's prompt yet (x rejects one).")
            return
        options = [(str(i), " ".join(text.split())[:200]) for i, text in enumerate(rejected, start=1)]
        self.app.push_screen(
            PickOne(f"Card {card.index + 1}: rejected answers, oldest first", options, "Escape closes"),
        )

    def action_copy(self) -> None:
        card = self._focused_card()
        if card is None:
            return
        text = card.answer
        if card.calls:
            text = (text + "\n" if text else "") + json.dumps(calls_to_json(card.calls), ensure_ascii=False)
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied card {card.index + 1} ({len(text)} characters).")

    def action_card(self, step: int) -> None:
        widgets = self.card_widgets()
        if not widgets:
            return
        focused = self.focused
        index = widgets.index(focused) if isinstance(focused, AuditionCard) and focused in widgets else -1
        target = widgets[max(0, min(len(widgets) - 1, index + step))]
        # At once, not after a refresh as Widget.focus does: a key typed right after j must act on
        # the card j moved to.
        self.set_focus(target)

    # --- batch keys -------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.session is not None and (self.session.running or self.session.state is BatchState.PARAPHRASING):
            self.run_worker(self.session.cancel(), group="audition-cancel")
            self.notify("Stopped every request in flight.")

    def action_toggle_form(self) -> None:
        form = self.query_one("#audition-form")
        form.display = not form.display

    @work(exclusive=True, group="audition-add")
    async def action_add_starred(self) -> None:
        await self._add(with_rejected=False)

    @work(exclusive=True, group="audition-add")
    async def action_add_with_rejected(self) -> None:
        """The starred cards (desirable) and every answer rejected in this batch (undesirable), for KTO."""
        await self._add(with_rejected=True)

    async def _add(self, with_rejected: bool) -> None:
        session = self.session
        if session is None:
            return
        dataset = self.workspace.datasets.current()
        if dataset is None:
            self.notify("There is no current dataset: make one on the Datasets screen (d).", severity="warning")
            return
        try:
            if with_rejected:
                good, bad = await session.add_with_rejected(self.workspace.examples, dataset.id)
            else:
                good, bad = await session.add_starred(self.workspace.examples, dataset.id), None
        except ForgeError as exc:
            self.notify(str(exc), title="Nothing added", severity="warning")
            return
        if bad is None:
            self.notify(f"Added {good} example{'s' if good != 1 else ''} to '{dataset.name}'.")
        else:
            plural = "s" if bad != 1 else ""
            self.notify(f"Added {good} desirable and {bad} undesirable example{plural} to '{dataset.name}'.")
        self._status_dirty = True
