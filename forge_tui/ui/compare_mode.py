"""Audition's compare mode: two models (each an endpoint and a model) answer the same prompts, their cards
side by side in rows; the user picks the better answer of each row and it is saved as a preference example
(services.comparison). AuditionScreen inherits it; this keeps the screen's own module about one batch."""

from __future__ import annotations

from dataclasses import replace

from textual import work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.audition import BatchState
from forge_tui.services.comparison import ComparisonSession, Contender, Pick
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.models import ModelService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.rival import ask_rival
from forge_tui.ui.keys import key_for
from forge_tui.ui.messages import CompareModels
from forge_tui.ui.widgets.audition_form import AuditionForm
from forge_tui.ui.widgets.card_deck import CardDeck
from forge_tui.ui.widgets.compare_deck import CompareDeck

SINGLE_BATCH_ACTIONS = frozenset({"add_starred", "add_with_rejected"})


class CompareMode(Screen[None]):
    """Mixed into AuditionScreen before WorkspaceScreen (a screen module may not import another's base).
    Its keys are bound by the screen, after the batch's own keys (the footer shows those first)."""

    COMPARE_BINDINGS = [
        Binding("f5", "compare", N_("Compare"), id="audition.compare", show=False),  # in F1 help; the footer is full
        Binding("f6", "blind", N_("Blind"), id="audition.blind", show=False),  # in F1 help; the footer is full
    ]

    workspace: Workspace  # WorkspaceScreen's
    pair: tuple[Contender, Contender] | None = None
    comparison: ComparisonSession | None = None

    def _key(self, action: str) -> str:
        return key_for(self, action) or key_for(self.app, action)

    @property
    def compare_deck(self) -> CompareDeck:
        return self.query_one(CompareDeck)

    def _show_mode(self, comparing: bool) -> None:
        self.query_one(CardDeck).display = not comparing
        self.compare_deck.display = comparing
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.pair is not None and action in SINGLE_BATCH_ACTIONS:
            return False  # a comparison saves each pick at once: nothing waits to be added
        return super().check_action(action, parameters)

    # --- in and out -------------------------------------------------------------------------
    @work(group="audition-dialog")
    async def action_compare(self) -> None:
        """Into compare mode (the form's model against one chosen in a dialog), or out of it."""
        if self.pair is not None:
            await self.leave_compare()
            return
        settings = self.workspace.settings.backend()
        model = self.query_one(AuditionForm).query_one("#model", Input).value.strip() or settings.generation_model
        if not model:
            self.notify(_("Fill the generation model first: it is compared with the model you choose next."))
            return
        first = Contender(model, settings.endpoint)
        rival = await ask_rival(self, ModelService(settings), first)
        if rival is not None:
            self.enter_compare(first, rival)

    def on_compare_models(self, message: CompareModels) -> None:
        self.enter_compare(message.left, message.right)

    def enter_compare(self, left: Contender, right: Contender) -> None:
        self.pair = (left, right)
        if self.comparison is not None and self.comparison.contenders != self.pair:
            self.run_worker(self._close(self.comparison), group="audition-close")
            self.comparison = None
        self.compare_deck.generate_key = self._key("generate")
        self.compare_deck.show(self.comparison, self.pair)
        self._show_mode(True)
        self.notify(
            _("Comparing {a} with {b}: press {key} to ask both, {leave} leaves compare mode.").format(
                a=left.label, b=right.label, key=self._key("generate"), leave=self._key("compare")
            )
        )

    async def leave_compare(self) -> None:
        old, self.comparison, self.pair = self.comparison, None, None
        self.compare_deck.show(None, None)
        self._show_mode(False)
        if old is not None:
            await self._close(old)

    @staticmethod
    async def _close(session: ComparisonSession) -> None:
        await session.close()
        for client in session.clients:
            await client.aclose()

    def action_blind(self) -> None:
        try:
            blind = not self.workspace.settings.compare_blind()
            self.workspace.settings.save_compare_blind(blind)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot save the settings"), severity="error")
            return
        if blind:
            self.notify(_("Blind comparison on: each row draws which model is on the left, named once you pick."))
        else:
            self.notify(_("Blind comparison off: the first model is always on the left."))

    # --- the batch --------------------------------------------------------------------------
    def start_comparison(self) -> None:
        pair = self.pair
        if pair is None:
            return
        settings = self.workspace.settings.backend()
        remember = self.workspace.settings.remember_structured_output
        try:
            spec = replace(self.query_one(AuditionForm).spec(), model=pair[0].model)
            clients = (
                open_client(settings, pair[0].model, pair[0].endpoint, remember),
                open_client(settings, pair[1].model, pair[1].endpoint, remember),
            )
            blind = self.workspace.settings.compare_blind()
            session = ComparisonSession(clients, pair, spec, settings.concurrency, self.compare_deck.mark, blind)
        except ForgeError as exc:
            self.compare_deck.show_error(str(exc))
            return
        self._run_comparison(session)

    @work(exclusive=True, group="audition-compare")
    async def _run_comparison(self, session: ComparisonSession) -> None:
        old, self.comparison = self.comparison, session
        self.compare_deck.show(session, self.pair)
        self.query_one(AuditionForm).display = False  # two columns need the width; the form's key shows it
        if old is not None:
            await self._close(old)
        await session.run()

    def cancel_comparison(self) -> bool:
        session = self.comparison
        if session is None or not (session.running or session.state is BatchState.PARAPHRASING):
            return False
        self.run_worker(session.cancel(), group="audition-cancel")
        return True

    # --- row keys ---------------------------------------------------------------------------
    @work(group="compare-pick")
    async def action_pick(self, which: str) -> None:
        session, index = self.comparison, self.compare_deck.focused_row()
        if session is None or index is None:
            return
        dataset = self.workspace.datasets.current()
        if dataset is None:
            where = self._key("show_datasets")
            none = _("There is no current dataset: make one on the Datasets screen ({key}).")
            self.notify(none.format(key=where), severity="warning")
            return
        pick = Pick(which)
        try:
            row = await session.pick(self.workspace.examples, dataset.id, index, pick)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot pick"), severity="warning")
            return
        self.compare_deck.mark_row(index)
        if row.winner is None:
            self.notify(_("Row {n}: both answers are bad (nothing saved).").format(n=index + 1))
        else:
            winner = session.contenders[row.winner].label
            self.notify(_("Row {n}: {model} wins (saved as a preference pair).").format(n=index + 1, model=winner))
        self.compare_deck.move(1)

    def action_retry_row(self) -> None:
        session, index = self.comparison, self.compare_deck.focused_row()
        if session is None or index is None:
            return
        try:
            retried = session.retry(index)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot retry"), severity="warning")
            return
        if not retried:
            self.notify(_("Both answers of row {n} finished: nothing to retry.").format(n=index + 1))

    def action_row(self, step: int) -> None:
        self.compare_deck.move(step)
