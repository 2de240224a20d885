"""Audition (`g`): a slot form, then one card per paraphrased variation, streaming side by side.

The session (services.audition) does the work, AuditionForm reads the batch to ask for and CardDeck
shows it; this screen turns keys into session calls. The app installs it once per workspace, so a
batch goes on streaming while the user is on another screen and is all here on return.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from rich.cells import cell_len, set_cell_size
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import ForgeError
from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _, ngettext
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
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.model_client import ModelClient
from forge_tui.services.workspace import Workspace
from forge_tui.ui.compare_mode import CompareMode
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.keys import class_key
from forge_tui.ui.messages import AskAgain, StartWithTemplate
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.audition_card import AuditionCard
from forge_tui.ui.widgets.audition_form import AuditionForm
from forge_tui.ui.widgets.card_deck import CardDeck, StatusKeys
from forge_tui.ui.widgets.compare_deck import CompareDeck, CompareRow
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader


class AuditionScreen(CompareMode, WorkspaceScreen):
    TITLE = N_("Audition")
    BINDINGS = [
        Binding("ctrl+r", "generate", N_("Generate"), id="audition.generate"),
        Binding("ctrl+s", "add_starred", N_("Add starred"), id="audition.add"),
        Binding("ctrl+o", "add_with_rejected", N_("+ rejected ✗"), id="audition.add_with_rejected"),
        Binding("escape", "cancel", N_("Stop"), id="audition.cancel"),
        Binding("ctrl+b", "toggle_form", N_("Form"), id="audition.form"),
        *CompareMode.COMPARE_BINDINGS,
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.session: AuditionSession | None = None
        self._backend: BackendService | None = None  # the Settings server: model names as you type
        self._client: ModelClient | None = None  # what batches run on: an endpoint or the pool
        self._client_for_key: tuple[BackendSettings, str] | None = None
        self._start_with: int | None = None  # the template last opened on the Templates screen

    def help_text(self) -> str:
        row = lambda action: class_key(self.app, CompareRow, f"screen.{action}")  # noqa: E731
        return _help_text(self.key, AuditionCard.key) + "\n\n" + _compare_help(self.key, row)

    # --- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        settings = self.workspace.settings.backend()
        yield ForgeHeader()
        with Horizontal(id="audition-body"):
            yield AuditionForm(settings.generation_model or "", settings.paraphrase_model or "", id="audition-form")
            yield CardDeck(id="audition-main")
            yield CompareDeck(id="compare-main")
        yield ForgeFooter()

    @property
    def form(self) -> AuditionForm:
        return self.query_one(AuditionForm)

    @property
    def deck(self) -> CardDeck:
        return self.query_one(CardDeck)

    @property
    def template(self) -> TemplateInfo | None:
        return self.form.template

    def on_mount(self) -> None:
        generate = self.key("generate")
        self.form.set_generate_key(generate)
        self.deck.set_keys(StatusKeys(generate, self.key("add_starred"), self.key("add_with_rejected")))
        self.compare_deck.generate_key = generate
        self._show_mode(False)
        self._load_models()

    def on_screen_resume(self) -> None:
        # Templates may have been added or edited meanwhile; the batch streamed on without repaints.
        self._load_templates()
        self.deck.resume()
        self.compare_deck.resume()

    def on_screen_suspend(self) -> None:
        stack = self.app.screen_stack
        if not (stack and isinstance(stack[-1], ModalScreen)):  # a dialog leaves the cards in sight
            self.deck.pause()
            self.compare_deck.pause()

    def _load_templates(self) -> list[TemplateInfo]:
        templates = self.report(N_("Cannot list the templates"), self.workspace.templates.list) or []
        chosen, self._start_with = self._start_with, None
        self.form.set_templates(templates, chosen)
        return templates

    def on_start_with_template(self, message: StartWithTemplate) -> None:
        if self.session is None:  # a batch keeps its own template
            self._start_with = message.template_id

    def on_ask_again(self, message: AskAgain) -> None:
        """Cards for stored examples (from the Examples screen): their own prompts, no paraphrasing."""
        examples = message.examples
        if self.pair is not None:  # stored examples are asked again of one model
            self.run_worker(self.leave_compare(), group="audition-close")
        ids = {e.meta.template_id for e in examples}
        templates = self.form.templates or self._load_templates()
        template = next((t for t in templates if len(ids) == 1 and t.id in ids), None) or TemplateInfo(
            name=_("Regenerated examples"), user_prompt=_("(the examples' own prompts)")
        )
        session = self._new_session(
            lambda: replace(self.form.spec(template), presets=presets_from(examples), paraphrase_model=None)
        )
        if session is not None:
            count = len(examples)
            again = ngettext(
                "Asking {n} example again: star the answers to keep.",
                "Asking {n} examples again: star the answers to keep.",
                count,
            )
            self.notify(again.format(n=count))
            self._start(session)

    @work(exclusive=True, group="audition-models")
    async def _load_models(self) -> None:
        """Suggests model names from the server's live list as you type them."""
        try:
            models = await self._backend_service().models()
        except BackendError:
            return
        self.form.suggest_models([m.name for m in models])

    def _backend_service(self) -> BackendService:
        settings = self.workspace.settings.backend()
        # settings.endpoint is where Audition runs (None: the pool); choosing another makes a new client.
        if self._backend is None or self._backend.settings != settings:
            remember = self.workspace.settings.remember_structured_output
            old, self._backend = self._backend, BackendService(settings, remember=remember)
            # A running batch keeps its own client; it is closed when the batch is replaced.
            if old is not None and (self.session is None or self.session.backend is not old):
                self.run_worker(old.aclose(), group="audition-close")
        return self._backend

    # --- the batch --------------------------------------------------------------------
    def _client_for(self, model: str) -> ModelClient:
        """The endpoint chosen in Settings (settings.endpoint), or the pool of those serving `model`."""
        settings = self.workspace.settings.backend()
        if self._client is None or self._client_for_key != (settings, model):
            remember = self.workspace.settings.remember_structured_output
            old, self._client = self._client, open_client(settings, model, settings.endpoint, remember)
            self._client_for_key = (settings, model)
            # A running batch keeps its own client; it is closed when the batch is replaced.
            if old is not None and (self.session is None or self.session.backend is not old):
                self.run_worker(old.aclose(), group="audition-close")
        return self._client

    def _new_session(self, spec: Callable[[], BatchSpec]) -> AuditionSession | None:
        """A session for the batch `spec` reads; what is wrong with it goes to the status line."""
        try:
            batch = spec()
            client = self._client_for(batch.model)
            return AuditionSession(client, batch, client.settings.concurrency, self.deck.mark)
        except ForgeError as exc:
            self.deck.show_error(str(exc))
            return None

    @on(AuditionForm.Generate)
    def action_generate(self) -> None:
        if self.pair is not None:
            self.start_comparison()
            return
        session = self._new_session(self.form.spec)
        if session is not None:
            self._start(session)

    @work(exclusive=True, group="audition-batch")
    async def _start(self, session: AuditionSession) -> None:
        old, self.session = self.session, session
        if not session.spec.presets:
            self.form.remember(session.spec)
        self.deck.show(session)
        if old is not None:
            await old.close()
            if old.backend is not session.backend:
                await old.backend.aclose()
        await self.deck.remount()
        await session.run()

    # --- card keys --------------------------------------------------------------------
    def _focused(self) -> tuple[AuditionSession, Card] | None:
        focused, session = self.focused, self.session
        if isinstance(focused, AuditionCard) and session is not None and focused.card in session.cards:
            return session, focused.card
        return None

    def action_star(self) -> None:
        if found := self._focused():
            session, card = found
            self.report(N_("Cannot star"), lambda: session.star(card.index), severity="warning")

    def action_reject(self) -> None:
        if found := self._focused():
            session, card = found
            if card.state is not CardState.DONE:
                retry = AuditionCard.key("retry")
                wait = _("Wait for the answer to finish ({key} retries a failed card).")
                self.notify(wait.format(key=retry), severity="warning")
            else:
                self.report(N_("Cannot reject"), lambda: session.regenerate(card.index), severity="warning")

    def action_retry(self) -> None:
        if found := self._focused():
            session, card = found
            if card.state is CardState.DONE:
                reject = AuditionCard.key("reject")
                finished = _("This card finished: {key} rejects the answer and asks again.")
                self.notify(finished.format(key=reject), severity="warning")
            else:
                self.report(N_("Cannot retry"), lambda: session.regenerate(card.index), severity="warning")

    @work(group="audition-dialog")
    async def action_edit(self) -> None:
        if not (found := self._focused()):
            return
        session, card = found
        if card.state is not CardState.DONE:
            self.notify(_("Wait for the answer to finish before editing it."), severity="warning")
            return
        tool_calling = session.spec.template.is_tool_calling
        calls = json.dumps(calls_to_json(card.calls), indent=2, ensure_ascii=False) if tool_calling else None

        def apply(answer: str, calls_text: str | None) -> None:
            if calls_text is not None:
                session.edit_tool_calls(card.index, calls_text)
            session.edit_output(card.index, answer)

        await self.app.push_screen_wait(
            CardEditor(_("Edit card {n}").format(n=card.index + 1), card.answer, calls, apply)
        )

    @work(group="audition-dialog")
    async def action_variation(self) -> None:
        if not (found := self._focused()):
            return
        session, card = found
        as_written = _("(as written)")
        options = [
            (str(i), f"{'●' if i == card.variation else ' '} {f'{as_written} ' if i == 0 else f'{i}. '}{text}")
            for i, text in enumerate(session.variations)
        ]
        ask = _("Card {n}: ask which variation?").format(n=card.index + 1)
        choice = await self.app.push_screen_wait(PickOne(ask, options))
        if choice is not None and int(choice) != card.variation:
            self.report(
                N_("Cannot switch variation"),
                lambda: session.use_variation(card.index, int(choice)),
                severity="warning",
            )

    @work(group="audition-dialog")
    async def action_history(self) -> None:
        if not (found := self._focused()):
            return
        card = found[1]
        if not card.rejected_here:
            none = _("No rejected answers for this card's prompt yet ({key} rejects one).")
            self.notify(none.format(key=AuditionCard.key("reject")))
            return
        options = [(str(i), one_line(text)) for i, text in enumerate(card.rejected_here, start=1)]
        title = _("Card {n}: rejected answers, oldest first").format(n=card.index + 1)
        await self.app.push_screen_wait(PickOne(title, options, _("Escape closes")))

    def action_card(self, step: int) -> None:
        self.deck.move(step)

    # --- batch keys -------------------------------------------------------------------
    def action_cancel(self) -> None:
        if self.pair is not None:
            if self.cancel_comparison():
                self.notify(_("Stopped every request in flight."))
            return
        session = self.session
        if session is not None and (session.running or session.state is BatchState.PARAPHRASING):
            self.run_worker(session.cancel(), group="audition-cancel")
            self.notify(_("Stopped every request in flight."))

    def action_toggle_form(self) -> None:
        self.form.display = not self.form.display

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
            where = self.key("show_datasets")
            none = _("There is no current dataset: make one on the Datasets screen ({key}).")
            self.notify(none.format(key=where), severity="warning")
            return
        if not session.starred() and not (with_rejected and session.rejected_answers()):
            self.notify(_nothing_to_add(with_rejected), title=_("Nothing added"), severity="warning")
            return
        try:
            if with_rejected:
                good, bad = await session.add_with_rejected(self.workspace.examples, dataset.id)
            else:
                good, bad = await session.add_starred(self.workspace.examples, dataset.id), None
        except ForgeError as exc:
            self.notify(str(exc), title=_("Nothing added"), severity="warning")
            return
        self.notify(_added_text(good, bad, dataset.name))


def _help_text(key: Callable[[str], str], card: Callable[[str], str]) -> str:
    """F1's text, naming the keys as the screen's and the cards' bindings give them."""
    return _(
        "Fill the slots and press {generate}: the paraphrase model rewrites the prompt into one "
        "variation per card and the generation model answers each, all at once. On a card: "
        "{star} stars it, {edit} edits the answer (and tool calls), {reject} rejects "
        "it and asks again (the rejected answer is kept for preference pairs), "
        "{retry} retries a failed card, {variation} switches the variation, "
        "{history} lists rejected answers, {copy} copies. {add_starred} adds the "
        "starred cards to the current dataset (labelled desirable for KTO, with the model's reasoning); "
        "{add_with_rejected} adds them and every answer rejected in this batch as an undesirable "
        "example of its own. {cancel} stops everything in flight. "
        "Leave the paraphrase model empty to send the prompt as written."
    ).format(
        **{action: key(action) for action in ("generate", "add_starred", "add_with_rejected", "cancel")},
        **{action: card(action) for action in ("star", "edit", "reject", "retry", "variation", "history", "copy")},
    )


def _compare_help(key: Callable[[str], str], row: Callable[[str], str]) -> str:
    """F1's text on compare mode; `row` gives the keys a row of two answers binds."""
    return _(
        "{compare} compares two models: the form's generation model and one you choose (its base first when "
        "the server knows it). Both answer the same prompts with the same seeds, in two columns, row by row. "
        "On a row: {left} or {right} picks the better answer, saved at once as a preference pair (the other "
        "answer rejected, source compare); {neither} says both are bad. {blind} turns blind comparison on or "
        "off: each row then draws which model is on the left, and names them once you pick. "
        "{compare} again leaves compare mode."
    ).format(
        compare=key("compare"),
        blind=key("blind"),
        left=row("pick('left')"),
        right=row("pick('right')"),
        neither=row("pick('neither')"),
    )


def _nothing_to_add(with_rejected: bool) -> str:
    star, reject = AuditionCard.key("star"), AuditionCard.key("reject")
    if with_rejected:
        return _("Nothing to add: star the answers to keep ({star}) or reject answers ({reject}) first.").format(
            star=star, reject=reject
        )
    return _("No starred cards to add: star the answers you want to keep first ({star}).").format(star=star)


def _added_text(good: int, bad: int | None, dataset: str) -> str:
    if bad is None:
        return ngettext("Added {n} example to '{dataset}'.", "Added {n} examples to '{dataset}'.", good).format(
            n=good, dataset=dataset
        )
    return ngettext(
        "Added {good} desirable and {n} undesirable example to '{dataset}'.",
        "Added {good} desirable and {n} undesirable examples to '{dataset}'.",
        bad,
    ).format(good=good, n=bad, dataset=dataset)


def one_line(text: str, width: int = 200) -> str:
    """`text` on one line, cut to `width` cells (a CJK character takes two)."""
    joined = " ".join(text.split())
    return set_cell_size(joined, width).rstrip() if cell_len(joined) > width else joined
