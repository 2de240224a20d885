"""A new generation job: the form (NewJobForm), then its plan (PlanPreview) before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Select

from forge_tui.core.bounded_text import clip
from forge_tui.core.endpoints import POOL
from forge_tui.core.generation import ExampleKind
from forge_tui.core.job_configs import GenerateConfig
from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.generation_jobs import JobForm, default_sources, typed_values, with_values_source
from forge_tui.services.job_configs import JobConfigService, config_of_form, form_of_config
from forge_tui.services.jobs import JobPlan
from forge_tui.ui.dialogs.common import crop
from forge_tui.ui.dialogs.saved_configs import pick, save_as
from forge_tui.ui.dialogs.topic_tree import Expand, TopicTreeDialog
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TLabel
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

# (field of JobForm, label) for the text fields, in the order shown; labels and hints are message ids.
TEXT_FIELDS = (
    ("count", N_("Count")),
    ("language", N_("Language")),
    ("model", N_("Model")),
    ("paraphrase_model", N_("Paraphrase")),
    ("second_model", N_("2nd model")),
    ("temperature", N_("Temperature")),
    ("second_temperature", N_("2nd temp.")),
    ("max_tokens", N_("Max tokens")),
    ("seed", N_("Seed")),
    ("turns", N_("Turns")),
    ("sources", N_("Slots")),
    ("until_pass", N_("Until pass")),
    ("judge_model", N_("Judge model")),
    ("judge_rubric", N_("Rubric")),
    ("threshold", N_("Threshold")),
    ("dedup", N_("Dedup")),
    ("max_attempts", N_("Max attempts")),
)
HINTS = {
    "language": N_("en, zh-TW, a language by name, or empty"),
    "seed": N_("empty: a random seed"),
    "sources": N_("slot=weighted; slot=file:PATH; slot=tree:PATH; a+b=combinations"),
    "until_pass": N_("N: keep going until N pass; empty: make Count"),
    "judge_model": N_("scores each example; empty: dedup alone"),
    "threshold": N_("lowest passing score, 1-10"),
    "dedup": N_("0.8: near-duplicates fail; empty: off"),
    "max_attempts": N_("empty: 3 x the target"),
}
POOL_LABEL = N_("pool: every endpoint with the model")
SPREAD_ROWS = 40  # values shown per slot at most
SPREAD_COLUMNS = (N_("Slot"), N_("Value"), N_("Items"))


class NewJobForm(Localized, ModalScreen[JobForm | None]):
    """Every field of a generation job; ctrl+s plans it, escape cancels."""

    BINDINGS = [
        Binding("ctrl+s", "plan", N_("Plan"), id="new_job.plan"),
        Binding("ctrl+t", "expand_topics", N_("Expand topics"), id="new_job.expand_topics"),
        Binding("ctrl+o", "save_config", N_("Save config"), id="new_job.save_config"),
        Binding("ctrl+r", "load_config", N_("Load config"), id="new_job.load_config"),
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
    ]

    def __init__(
        self,
        templates: list[TemplateInfo],
        form: JobForm,
        expand: Expand | None = None,
        endpoints: Sequence[str] = (),
        configs: JobConfigService | None = None,
    ) -> None:
        super().__init__()
        self._templates = templates
        self._form = form
        self._expand = expand
        self._endpoints = list(endpoints)  # the names of Settings' endpoints
        self._configs = configs  # None: no saved configurations (a form shown without an account)
        self._config_name = ""
        self._api_key_env = ""  # the loaded configuration's: the form has no field for it, saving keeps it

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TLabel(N_("New generation job"), classes="dialog-title")
            with VerticalScroll():
                with Horizontal(classes="job-field"):
                    yield TLabel(N_("Template"))
                    yield Select(
                        [(t.name, t.id) for t in self._templates if t.id is not None],
                        value=self._form.template_id if self._has_template() else Select.BLANK,
                        id="job-template",
                        allow_blank=not self._has_template(),
                        compact=True,
                    )
                with Horizontal(classes="job-field"):
                    yield TLabel(N_("Kind"))
                    yield Select(
                        [(k.value.replace("_", " "), k.value) for k in ExampleKind],
                        value=self._form.kind,
                        id="job-kind",
                        allow_blank=False,
                        compact=True,
                    )
                with Horizontal(classes="job-field"):
                    yield TLabel(N_("Endpoint"))
                    choices = self._endpoint_options()
                    chosen = self._form.endpoint if self._form.endpoint in self._endpoints else POOL
                    yield Select(choices, value=chosen, id="job-endpoint", allow_blank=False, compact=True)
                for name, label in TEXT_FIELDS:
                    with Horizontal(classes="job-field"):
                        yield TLabel(label)
                        hint = HINTS.get(name, "")
                        yield Input(
                            getattr(self._form, name),
                            placeholder=_(hint) if hint else "",
                            id=f"job-{name}",
                            compact=True,
                        )
                with Horizontal(classes="job-field"):
                    yield TLabel(N_("Quotas"))
                    yield Checkbox(
                        _("weights held among the passing"), self._form.quotas, id="job-quotas", compact=True
                    )
            if self._expand is not None:
                yield PlainStatic("", id="job-topics-hint", classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    _("Plan ({key})").format(key=key_for(self, "plan")), variant="primary", id="plan", compact=True
                )
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _endpoint_options(self) -> list[tuple[str, str]]:
        return [(_(POOL_LABEL), POOL), *((n, n) for n in self._endpoints)]

    def draw_text(self) -> None:
        if self._expand is not None:
            hint = _("{key} expands a topic into a tree whose leaves fill a slot.").format(
                key=key_for(self, "expand_topics")
            )
            self.query_one("#job-topics-hint", PlainStatic).update(hint)
        endpoint = self.query_one("#job-endpoint", Select)
        chosen = endpoint.value
        endpoint.set_options(self._endpoint_options())
        endpoint.value = chosen
        for name, hint in HINTS.items():
            self.query_one(f"#job-{name}", Input).placeholder = _(hint)
        self.query_one("#job-quotas", Checkbox).label = _("weights held among the passing")
        self.query_one("#plan", Button).label = _("Plan ({key})").format(key=key_for(self, "plan"))

    def _has_template(self) -> bool:
        return any(t.id == self._form.template_id for t in self._templates)

    @on(Select.Changed, "#job-template")
    def _template_changed(self, event: Select.Changed) -> None:
        template = next((t for t in self._templates if t.id == event.value), None)
        if template is not None and event.value != self._form.template_id:
            self.query_one("#job-sources", Input).value = default_sources(template)

    def typed(self) -> JobForm:
        """What the form holds now."""
        values = {name: self.query_one(f"#job-{name}", Input).value for name, _label in TEXT_FIELDS}
        template = self.query_one("#job-template", Select).value
        kind = self.query_one("#job-kind", Select).value
        endpoint = self.query_one("#job-endpoint", Select).value
        typed = replace(
            self._form,
            template_id=template if isinstance(template, int) else None,
            kind=str(kind),
            endpoint=endpoint if isinstance(endpoint, str) and endpoint != POOL else "",
        )
        for name, value in values.items():
            setattr(typed, name, value)
        typed.quotas = self.query_one("#job-quotas", Checkbox).value
        return typed

    @work(exclusive=True, group="topics")
    async def action_expand_topics(self) -> None:
        """The topic tree dialog for the template's topic slot (else its first slot); its leaves become
        that slot's values, and a cancel leaves the form as it was."""
        typed = self.typed()
        template = next((t for t in self._templates if t.id == typed.template_id), None)
        if self._expand is None or template is None:
            self.notify(_("Choose a template for the job first."), severity="warning")
            return
        used = template.used_slots()
        slot = "topic" if "topic" in used else next((s.name for s in template.slots if s.name in used), None)
        if slot is None:
            self.notify(
                _("Template '{name}' has no slot for topics.").format(name=clip(template.name)), severity="warning"
            )
            return
        typed_topics = typed_values(typed.sources, slot)
        default = next((s.default for s in template.slots if s.name == slot), "")
        seed = typed_topics[0] if len(typed_topics) == 1 else default
        language = typed.language.strip() or None
        dialog = TopicTreeDialog(self._expand, typed.model.strip(), seed, slot, language)
        found = await self.app.push_screen_wait(dialog)
        if found:
            sources = self.query_one("#job-sources", Input)
            sources.value = with_values_source(sources.value, slot, found)
            self.notify(
                ngettext(
                    "Slot {slot} draws from {n} topic of the tree.",
                    "Slot {slot} draws from {n} topics of the tree.",
                    len(found),
                ).format(slot=slot, n=len(found))
            )

    @work(exclusive=True, group="configs")
    async def action_save_config(self) -> None:
        """Saves every field under a name (replacing the configuration of that name)."""
        if self._configs is None:
            return

        def make(name: str) -> GenerateConfig:
            config = config_of_form(name, self.typed(), self._templates)
            return config.model_copy(update={"api_key_env": self._api_key_env})

        self._config_name = await save_as(self, self._configs, self._config_name, make) or self._config_name

    @work(exclusive=True, group="configs")
    async def action_load_config(self) -> None:
        """Fills every field from a saved generation configuration chosen by name."""
        if self._configs is None:
            return
        config = await pick(self, self._configs, GenerateConfig, key_for(self, "save_config"))
        if config is None:
            return
        self.fill(form_of_config(config, self._templates, self._form.dataset_id))
        self._config_name, self._api_key_env = config.name, config.api_key_env
        if config.template and not self._has_template():
            self.notify(
                _("Template '{name}' is gone: choose one.").format(name=clip(config.template)), severity="warning"
            )
            return
        self.notify(_("Configuration '{name}' loaded.").format(name=clip(config.name)))

    def fill(self, form: JobForm) -> None:
        """Every field as `form` holds it; a template that is gone leaves the one chosen."""
        chosen = self.query_one("#job-template", Select)
        self._form = form  # so that choosing its template below keeps its slot sources
        if self._has_template():
            chosen.value = form.template_id
        self.query_one("#job-kind", Select).value = form.kind
        self.query_one("#job-endpoint", Select).value = form.endpoint if form.endpoint in self._endpoints else POOL
        for name, _label in TEXT_FIELDS:
            self.query_one(f"#job-{name}", Input).value = getattr(form, name)
        self.query_one("#job-quotas", Checkbox).value = form.quotas

    @on(Input.Submitted)
    @on(Button.Pressed, "#plan")
    def action_plan(self) -> None:
        self.dismiss(self.typed())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PlanPreview(Localized, ModalScreen[bool]):
    """How many items, how the slot values are spread, the first prompts; y starts the job."""

    BINDINGS = [
        Binding("y", "answer(True)", N_("Start"), id="plan.start"),
        Binding("escape,n", "answer(False)", N_("Back"), id="plan.back"),
    ]

    def __init__(self, plan: JobPlan) -> None:
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title(), classes="dialog-title", id="plan-title")
            yield DataTable(id="plan-spread", cursor_type="row", show_cursor=False)
            with VerticalScroll(id="plan-prompts"):
                for number, prompt in enumerate(plan.prompts, 1):
                    yield PlainStatic(f"{number}. {' '.join(prompt.split())}", classes="plan-prompt")
            yield PlainStatic(self._hint(), classes="dim", id="plan-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._start_label(), variant="primary", id="yes", compact=True)
                yield TButton(N_("Back"), id="no", compact=True)

    def _title(self) -> str:
        plan = self.plan
        where = plan.params.get("endpoint") or POOL
        return ngettext(
            "Plan: {n} item, model {model} on {where}", "Plan: {n} items, model {model} on {where}", len(plan.items)
        ).format(n=len(plan.items), model=plan.params.get("model", ""), where=where)

    def _hint(self) -> str:
        start, back = key_for(self, "answer(True)"), key_for(self, "answer(False)")
        return _("Nothing is sent until you start ({start}); {back} goes back.").format(start=start, back=back)

    def _start_label(self) -> str:
        return _("Start ({key})").format(key=key_for(self, "answer(True)"))

    def draw_text(self) -> None:
        self.query_one("#plan-title", PlainLabel).update(self._title())
        self.query_one("#plan-hint", PlainStatic).update(self._hint())
        self.query_one("#yes", Button).label = self._start_label()
        table = self.query_one("#plan-spread", DataTable)
        for key, label in zip(table.columns, SPREAD_COLUMNS, strict=False):
            table.columns[key].label = Text(_(label))
        table.refresh()

    def on_mount(self) -> None:
        table = self.query_one("#plan-spread", DataTable)
        table.add_columns(*(_(label) for label in SPREAD_COLUMNS))
        for slot, counts in self.plan.spread.items():
            for value, count in counts.most_common(SPREAD_ROWS):
                table.add_row(shown_cell(slot), shown_cell(crop(" ".join(value.split()), 48)), str(count))
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
