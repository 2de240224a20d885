"""A new judge job: rubric, which examples, threshold and what happens below it, judge and fix models,
endpoint; ctrl+s plans it (the Jobs screen then asks before anything is sent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select

from forge_tui.core.endpoints import POOL
from forge_tui.core.judge_counts import Action
from forge_tui.core.judge_form import ONLY_ALL, ONLY_UNREVIEWED, JudgeForm
from forge_tui.ui.keys import key_for
from forge_tui.ui.widgets.plain import PlainLabel

ACTIONS = (
    (Action.NONE, "none: only score"),
    (Action.REJECT, "reject (reversible)"),
    (Action.FIX, "fix: rewrite, judge again"),
)
TEXT_FIELDS = (("threshold", "Threshold"), ("model", "Judge model"), ("fix_model", "Fix model"))
HINTS = {"threshold": "1-10: below it, the action", "fix_model": "empty: the judge model"}


class JudgeJobForm(ModalScreen[JudgeForm | None]):
    """Every field of a judge job; ctrl+s plans it, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "plan", "Plan", id="judge_job.plan"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, form: JudgeForm, rubrics: Sequence[str], endpoints: Sequence[str] = ()) -> None:
        super().__init__()
        self._form = form
        self._rubrics = list(rubrics)
        self._endpoints = list(endpoints)

    def _select(self, label: str, options: list[tuple[str, str]], value: str, name: str) -> ComposeResult:
        with Horizontal(classes="job-field"):
            yield PlainLabel(label)
            chosen = value if value in [v for _, v in options] else options[0][1]
            yield Select(options, value=chosen, id=f"judge-{name}", allow_blank=False, compact=True)

    def compose(self) -> ComposeResult:
        form = self._form
        with Vertical(classes="dialog"):
            yield PlainLabel("New judge job", classes="dialog-title")
            with VerticalScroll():
                yield from self._select("Rubric", [(r, r) for r in self._rubrics], form.rubric, "rubric")
                only = [("unreviewed examples", ONLY_UNREVIEWED), ("all examples", ONLY_ALL)]
                yield from self._select("Examples", only, form.only, "only")
                yield from self._select("Below", [(t, a.value) for a, t in ACTIONS], form.action, "action")
                endpoints = [("pool: every endpoint with the model", POOL), *((n, n) for n in self._endpoints)]
                yield from self._select("Endpoint", endpoints, form.endpoint or POOL, "endpoint")
                for name, label in TEXT_FIELDS:
                    with Horizontal(classes="job-field"):
                        yield PlainLabel(label)
                        yield Input(
                            getattr(form, name), placeholder=HINTS.get(name, ""), id=f"judge-{name}", compact=True
                        )
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Plan ({key_for(self, 'plan')})", variant="primary", id="plan", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def typed(self) -> JudgeForm:
        """What the form holds now."""
        chosen = {name: str(self.query_one(f"#judge-{name}", Select).value) for name in ("rubric", "only", "action")}
        endpoint = str(self.query_one("#judge-endpoint", Select).value)
        texts = {name: self.query_one(f"#judge-{name}", Input).value for name, _ in TEXT_FIELDS}
        return replace(self._form, **chosen, **texts, endpoint="" if endpoint == POOL else endpoint)

    @on(Input.Submitted)
    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.dismiss(self.typed())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
