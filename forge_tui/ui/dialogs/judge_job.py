"""A new judge job: rubric, which examples, threshold and what happens below it, judge and fix models,
endpoint; ctrl+s plans it (the Jobs screen then asks before anything is sent)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select

from forge_tui.core.bounded_text import clip
from forge_tui.core.endpoints import POOL
from forge_tui.core.job_configs import JudgeConfig
from forge_tui.core.judge_counts import Action
from forge_tui.core.judge_form import ONLY_ALL, ONLY_UNREVIEWED, JudgeForm
from forge_tui.services.job_configs import JobConfigService, judge_config_of_form, judge_form_of_config
from forge_tui.ui.dialogs.saved_configs import pick, save_as
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
        Binding("ctrl+o", "save_config", "Save config", id="judge_job.save_config"),
        Binding("ctrl+r", "load_config", "Load config", id="judge_job.load_config"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(
        self,
        form: JudgeForm,
        rubrics: Sequence[str],
        endpoints: Sequence[str] = (),
        configs: JobConfigService | None = None,
    ) -> None:
        super().__init__()
        self._form = form
        self._rubrics = list(rubrics)
        self._endpoints = list(endpoints)
        self._configs = configs  # None: no saved configurations
        self._config_name = ""
        self._api_key_env = ""  # the loaded configuration's: the form has no field for it, saving keeps it
        self._choices: dict[str, list[str]] = {}  # each Select's values

    def _select(self, label: str, options: list[tuple[str, str]], value: str, name: str) -> ComposeResult:
        with Horizontal(classes="job-field"):
            yield PlainLabel(label)
            self._choices[name] = [v for _, v in options]
            chosen = value if value in self._choices[name] else options[0][1]
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

    @work(exclusive=True, group="configs")
    async def action_save_config(self) -> None:
        """Saves every field under a name (replacing the configuration of that name)."""
        if self._configs is None:
            return

        def make(name: str) -> JudgeConfig:
            config = judge_config_of_form(name, self.typed())
            return config.model_copy(update={"api_key_env": self._api_key_env})

        self._config_name = await save_as(self, self._configs, self._config_name, make) or self._config_name

    @work(exclusive=True, group="configs")
    async def action_load_config(self) -> None:
        """Fills every field from a saved judge configuration chosen by name."""
        if self._configs is None:
            return
        config = await pick(self, self._configs, JudgeConfig, key_for(self, "save_config"))
        if config is None:
            return
        form = judge_form_of_config(config)
        self._config_name, self._api_key_env = config.name, config.api_key_env
        missed = []
        for name in ("rubric", "only", "action", "endpoint"):
            value = getattr(form, name) or (POOL if name == "endpoint" else "")
            if value in self._choices[name]:
                self.query_one(f"#judge-{name}", Select).value = value
            else:
                missed.append(f"{name} '{clip(value)}'")
        for name, _ in TEXT_FIELDS:
            self.query_one(f"#judge-{name}", Input).value = getattr(form, name)
        if missed:
            self.notify(
                f"Configuration '{clip(config.name)}' loaded, but no {', '.join(missed)} here.", severity="warning"
            )
            return
        self.notify(f"Configuration '{clip(config.name)}' loaded.")

    @on(Input.Submitted)
    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.dismiss(self.typed())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
