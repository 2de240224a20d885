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
from forge_tui.i18n import N_, _
from forge_tui.services.job_configs import JobConfigService, judge_config_of_form, judge_form_of_config
from forge_tui.ui.dialogs.saved_configs import pick, save_as
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TLabel

# Labels and hints are message ids (N_).
ACTIONS = (
    (Action.NONE, N_("none: only score")),
    (Action.REJECT, N_("reject (reversible)")),
    (Action.FIX, N_("fix: rewrite, judge again")),
)
TEXT_FIELDS = (("threshold", N_("Threshold")), ("model", N_("Judge model")), ("fix_model", N_("Fix model")))
HINTS = {"threshold": N_("1-10: below it, the action"), "fix_model": N_("empty: the judge model")}
ONLY = ((N_("unreviewed examples"), ONLY_UNREVIEWED), (N_("all examples"), ONLY_ALL))
POOL_LABEL = N_("pool: every endpoint with the model")


class JudgeJobForm(Localized, ModalScreen[JudgeForm | None]):
    """Every field of a judge job; ctrl+s plans it, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "plan", N_("Plan"), id="judge_job.plan"),
        Binding("ctrl+o", "save_config", N_("Save config"), id="judge_job.save_config"),
        Binding("ctrl+r", "load_config", N_("Load config"), id="judge_job.load_config"),
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
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
        """A labelled Select; `label` is a message id."""
        with Horizontal(classes="job-field"):
            yield TLabel(label)
            self._choices[name] = [v for _, v in options]
            chosen = value if value in self._choices[name] else options[0][1]
            yield Select(options, value=chosen, id=f"judge-{name}", allow_blank=False, compact=True)

    def compose(self) -> ComposeResult:
        form = self._form
        with Vertical(classes="dialog"):
            yield TLabel(N_("New judge job"), classes="dialog-title")
            with VerticalScroll():
                yield from self._select(N_("Rubric"), [(r, r) for r in self._rubrics], form.rubric, "rubric")
                yield from self._select(N_("Examples"), self._options("only"), form.only, "only")
                yield from self._select(N_("Below"), self._options("action"), form.action, "action")
                yield from self._select(N_("Endpoint"), self._options("endpoint"), form.endpoint or POOL, "endpoint")
                for name, label in TEXT_FIELDS:
                    with Horizontal(classes="job-field"):
                        yield TLabel(label)
                        hint = HINTS.get(name, "")
                        yield Input(
                            getattr(form, name), placeholder=_(hint) if hint else "", id=f"judge-{name}", compact=True
                        )
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._plan_label(), variant="primary", id="plan", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _options(self, name: str) -> list[tuple[str, str]]:
        """The choices of the Select `name` whose labels are ours, in the language now."""
        if name == "only":
            return [(_(label), value) for label, value in ONLY]
        if name == "action":
            return [(_(label), action.value) for action, label in ACTIONS]
        return [(_(POOL_LABEL), POOL), *((n, n) for n in self._endpoints)]

    def _plan_label(self) -> str:
        return _("Plan ({key})").format(key=key_for(self, "plan"))

    def draw_text(self) -> None:
        for name in ("only", "action", "endpoint"):
            select = self.query_one(f"#judge-{name}", Select)
            chosen = select.value
            select.set_options(self._options(name))
            select.value = chosen
        for name, hint in HINTS.items():
            self.query_one(f"#judge-{name}", Input).placeholder = _(hint)
        self.query_one("#plan", Button).label = self._plan_label()

    def typed(self) -> JudgeForm:
        """What the form holds now."""
        chosen = {name: str(self.query_one(f"#judge-{name}", Select).value) for name in ("rubric", "only", "action")}
        endpoint = str(self.query_one("#judge-endpoint", Select).value)
        texts = {name: self.query_one(f"#judge-{name}", Input).value for name, _label in TEXT_FIELDS}
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
                # field names and values as stored: they stay as written in every language
                missed.append(f"{name} '{clip(value)}'")
        for name, _label in TEXT_FIELDS:
            self.query_one(f"#judge-{name}", Input).value = getattr(form, name)
        if missed:
            self.notify(
                _("Configuration '{name}' loaded, but no {missing} here.").format(
                    name=clip(config.name), missing=", ".join(missed)
                ),
                severity="warning",
            )
            return
        self.notify(_("Configuration '{name}' loaded.").format(name=clip(config.name)))

    @on(Input.Submitted)
    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.dismiss(self.typed())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
