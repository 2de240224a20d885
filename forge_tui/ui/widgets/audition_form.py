"""The Audition form: template, slot values, batch size, models, temperature and seed, read as a BatchSpec."""

from __future__ import annotations

from decimal import Decimal

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.suggester import SuggestFromList
from textual.validation import Integer, Number
from textual.widget import Widget
from textual.widgets import Button, Input, Select

from forge_tui.core import batch_defaults
from forge_tui.core.errors import InvalidInput
from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _
from forge_tui.services.audition import BatchSpec
from forge_tui.ui.localized import Localized, TInput, TLabel
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.plain import PlainLabel


def _number_field(value: str, id: str, problem: str, whole: bool, placeholder: str = "") -> Input:
    """`problem` (a message id) says the field holds no number; it is translated when shown."""
    check = Integer if whole else Number
    return TInput(
        value,
        type="integer" if whole else "number",
        id=id,
        compact=True,
        placeholder=placeholder,
        validators=[check(failure_description=problem)],
        valid_empty=True,  # empty: the default (cards) or a random one (seed)
    )


class AuditionForm(Localized, VerticalScroll, can_focus=False):
    """Posts `Generate` when its button is pressed; `spec()` reads the fields as a BatchSpec."""

    DEFAULT_CSS = """
    AuditionForm {
        width: 34;
        padding: 0 1;
        border-right: vkey $primary 50%;
        scrollbar-size-vertical: 1;
    }
    AuditionForm Label {
        width: 1fr;
        color: $text-muted;
        margin-top: 1;
    }
    AuditionForm Input, AuditionForm Select {
        background: $boost;
    }
    AuditionForm .row Input {
        width: 1fr;
        margin-right: 1;
    }
    AuditionForm .row {
        height: 1;
    }
    AuditionForm #slot-fields {
        height: auto;
    }
    AuditionForm #generate {
        margin-top: 1;
        width: 100%;
    }
    """

    class Generate(Message):
        """The form's Generate button was pressed."""

    def __init__(self, generation_model: str, paraphrase_model: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._models = (generation_model, paraphrase_model)
        self.templates: list[TemplateInfo] = []
        self.template: TemplateInfo | None = None
        self._prefill: BatchSpec | None = None  # slot values to offer again for its template
        self._typed: tuple[int | None, dict[str, str]] = (None, {})  # the last template's fields as typed
        self._generate_key = ""

    def compose(self) -> ComposeResult:
        yield TLabel(N_("Template"))
        yield Select[int]([], id="template", allow_blank=True, prompt=_("(no templates)"), compact=True)
        yield Vertical(id="slot-fields")
        yield TLabel(N_("Cards"))
        yield _number_field(str(batch_defaults.DEFAULT_BATCH), "batch", N_("Cards must be a number."), whole=True)
        yield TLabel(N_("Generation model"))
        yield TInput(self._models[0], id="model", compact=True, placeholder=N_("e.g. llama3.2"))
        yield TLabel(N_("Paraphrase model (empty: no paraphrasing)"))
        yield Input(self._models[1], id="paraphrase-model", compact=True)
        yield TLabel(N_("Temperature · seed (empty: random)"))
        with Horizontal(classes="row"):
            yield _number_field(
                f"{batch_defaults.DEFAULT_TEMPERATURE:g}",
                "temperature",
                N_("The temperature must be a number."),
                whole=False,
            )
            yield _number_field("", "seed", N_("The seed must be a number."), whole=True, placeholder=N_("random"))
        yield Button(_("Generate"), variant="primary", id="generate", compact=True)

    def draw_text(self) -> None:
        self.query_one("#template", Select).prompt = _("(no templates)")
        key = self._generate_key
        self.query_one("#generate", Button).label = _("Generate ({key})").format(key=key) if key else _("Generate")

    # --- what the screen sets -------------------------------------------------------------
    def set_generate_key(self, key: str) -> None:
        self._generate_key = key
        self.draw_text()

    def set_templates(self, templates: list[TemplateInfo], chosen: int | None = None) -> None:
        """Offers `templates` and selects `chosen`, else the one selected before, else the first."""
        select = self.query_one("#template", Select)
        current = self.template.id if self.template is not None else None
        if [(t.id, t.name) for t in templates] != [(t.id, t.name) for t in self.templates]:
            select.set_options([(shown_markup(t.name), t.id) for t in templates if t.id is not None])
        self.templates = templates
        wanted = next((i for i in (chosen, current) if self._template(i) is not None), None)
        if wanted is None and templates:
            wanted = templates[0].id
        if wanted is not None and select.value != wanted:
            select.value = wanted
        elif self._template(wanted) != self.template:  # the same template, edited meanwhile
            self.call_later(self._show_slots, self._template(wanted))

    def choose(self, template_id: int) -> None:
        if any(t.id == template_id for t in self.templates):
            self.query_one("#template", Select).value = template_id

    def remember(self, spec: BatchSpec) -> None:
        """Offers the batch's slot values again when its template is chosen again."""
        self._prefill = spec

    def suggest_models(self, names: list[str]) -> None:
        """Suggests model names from the server's live list as they are typed."""
        for selector in ("#model", "#paraphrase-model"):
            self.query_one(selector, Input).suggester = SuggestFromList(names, case_sensitive=False)

    # --- reading it -----------------------------------------------------------------------
    def spec(self, template: TemplateInfo | None = None) -> BatchSpec:
        """The batch the fields describe; InvalidInput says which field is wrong."""
        template = template or self.template
        if template is None:
            raise InvalidInput(_("Choose a template first (t opens the Templates screen)."))
        slots = {i.id.removeprefix("slot-"): i.value for i in self.query(".slot-input").results(Input) if i.id}
        batch, seed = self._number("#batch"), self._number("#seed")
        temperature = self._number("#temperature")
        return BatchSpec(
            template=template,
            slots=slots,
            model=self.query_one("#model", Input).value.strip(),
            paraphrase_model=self.query_one("#paraphrase-model", Input).value.strip() or None,
            batch=int(batch) if batch is not None else batch_defaults.DEFAULT_BATCH,
            temperature=float(temperature) if temperature is not None else None,
            seed=int(seed) if seed is not None else None,
        )

    def _number(self, selector: str) -> Decimal | None:
        """The field's number (exact, so a long seed keeps every digit), None when empty."""
        field = self.query_one(selector, Input)
        text = field.value.strip()
        result = field.validate(text)
        if result is not None and not result.is_valid:
            raise InvalidInput(_(result.failure_descriptions[0]))
        return Decimal(text) if text else None

    # --- events ---------------------------------------------------------------------------
    @on(Button.Pressed, "#generate")
    def _generate(self, event: Button.Pressed) -> None:
        event.stop()
        self.post_message(self.Generate())

    @on(Select.Changed, "#template")
    async def _template_changed(self, event: Select.Changed) -> None:
        event.stop()
        await self._show_slots(self._template(event.value))

    def _template(self, template_id: object) -> TemplateInfo | None:
        return next((t for t in self.templates if t.id == template_id), None)

    async def _show_slots(self, template: TemplateInfo | None) -> None:
        """One field per slot the prompts use: what is typed stays, else the batch's value, else the default."""
        fields = self.query_one("#slot-fields", Vertical)
        if self.template is not None:
            shown = fields.query(".slot-input").results(Input)
            self._typed = (self.template.id, {i.id.removeprefix("slot-"): i.value for i in shown if i.id})
        self.template = template
        await fields.remove_children()
        if template is None:
            return
        typed = self._typed[1] if self._typed[0] == template.id else {}
        prefill = self._prefill.slots if self._prefill and self._prefill.template.id == template.id else {}
        widgets: list[Widget] = []
        for name in template.used_slots():
            slot = template.slot(name)
            value = typed.get(name, prefill.get(name, slot.default if slot else ""))
            widgets.append(PlainLabel(f"{name}{' — ' + slot.description if slot and slot.description else ''}"))
            widgets.append(Input(value, id=f"slot-{name}", compact=True, classes="slot-input"))
        await fields.mount_all(widgets)
