"""An augment job for the current dataset (the selected rows, or the examples a filter takes): field,
instruction, context fields, model, temperature, language, concurrency, and where the result goes (a
new dataset or in place, the old answer kept as a rejected one on request). Preview asks the model
about three examples and shows them before and after in two columns, changed words marked; Start
hands the choice back to the screen, which plans and starts the job. Save config / Load config keep
every field under a name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Select, Static

from forge_tui.core.augment_form import AugmentForm
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.core.job_configs import AugmentConfig
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.augment_jobs import AugmentChoice, PreviewRow, check, choice_of_form
from forge_tui.services.job_configs import JobConfigService, augment_config_of_form, augment_form_of_config
from forge_tui.ui.dialogs.saved_configs import pick, save_as
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TLabel
from forge_tui.ui.widgets.plain import PlainLabel

Previewer = Callable[[AugmentChoice], Awaitable[list[PreviewRow]]]
NEW, IN_PLACE = "new", "in_place"
# (field, label, hint); labels and hints are message ids (N_).
TEXT_FIELDS = (
    ("field", N_("Field"), N_("answer, user_prompt, system_prompt, slot:N, extra:N, new:N")),
    ("instruction", N_("Instruction"), N_("Jinja2 over the example: {{ answer }}, {{ slots.topic }}")),
    ("context", N_("Context"), N_("fields the model also sees, comma-separated")),
    ("where", N_("Filter"), N_("e.g. score>=7 and model=~'qwen'; empty: every example")),
    ("model", N_("Model"), ""),
    ("temperature", N_("Temperature"), N_("empty: the model's default")),
    ("language", N_("Language"), N_("e.g. zh-TW; empty: as it is")),
    ("concurrency", N_("Concurrency"), N_("requests at once; empty: Settings'")),
    ("into", N_("New dataset"), ""),
)


def marked(row: PreviewRow, side: str) -> Text:
    """One side of a preview row: the words the other side lacks highlighted."""
    if row.error:
        return Text(row.before if side == "removed" else row.error, style="" if side == "removed" else "italic")
    text = Text()
    for tag, words in row.diff:
        if tag == "same":
            text.append(words)
        elif tag == side:
            text.append(words, style="bold reverse")
    return text


class AugmentDialog(Localized, ModalScreen[AugmentChoice | None]):
    """Every field of an augment job; Preview shows three examples, ctrl+s starts, escape cancels;
    Save config / Load config as in the other job dialogs."""

    AUTO_FOCUS = "#augment-instruction"
    BINDINGS = [
        Binding("ctrl+s", "start", N_("Start"), id="augment.start"),
        Binding("ctrl+t", "preview", N_("Preview"), id="augment.preview"),
        Binding("ctrl+o", "save_config", N_("Save config"), id="augment.save_config"),
        Binding("ctrl+r", "load_config", N_("Load config"), id="augment.load_config"),
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
    ]

    def __init__(
        self,
        choice: AugmentChoice,
        dataset_name: str,
        previewer: Previewer,
        selected: Sequence[str] = (),
        configs: JobConfigService | None = None,
        where: str = "",
        concurrency: int | None = None,
    ) -> None:
        """`where`: the Examples screen's filter, offered when no rows are selected (selected rows win);
        `concurrency`: Settings', shown as the hint of an empty field."""
        super().__init__()
        self._choice = replace(choice, only_ids=tuple(selected), where="" if selected else where)
        self._dataset_name = dataset_name
        self._previewer = previewer
        self._configs = configs  # None: no saved configurations
        self._concurrency = concurrency
        self._config_name = ""
        # the loaded configuration's: the dialog has no field for them, saving keeps them
        self._endpoint = self._api_key_env = ""
        self._problem_text: Callable[[], str] = str  # the problem line, drawn again in a new language

    def _form(self) -> AugmentForm:
        choice = self._choice
        return AugmentForm(
            field=choice.field,
            instruction=choice.instruction,
            context=", ".join(choice.context),
            model=choice.model,
            temperature="" if choice.temperature is None else f"{choice.temperature:g}",
            language=choice.language,
            concurrency="" if choice.concurrency is None else str(choice.concurrency),
            where=choice.where,
            into=choice.into,
            in_place=not choice.into,
            keep_as_rejected=choice.keep_as_rejected,
        )

    def _title(self) -> str:
        only = self._choice.only_ids
        name = clip(self._dataset_name, 40)
        if only:
            return ngettext(
                "Augment {n} selected example of '{dataset}'", "Augment {n} selected examples of '{dataset}'", len(only)
            ).format(n=len(only), dataset=name)
        return _("Augment every example of '{dataset}'").format(dataset=name)

    def _hints(self) -> dict[str, str]:
        """Each text field's placeholder, in the language now."""
        hints = {name: _(hint) if hint else "" for name, _label, hint in TEXT_FIELDS}
        if self._concurrency is not None:
            hints["concurrency"] = _("requests at once; empty: Settings' {n}").format(n=self._concurrency)
        if self._choice.only_ids:
            hints["where"] = _("the selected rows are augmented")
        return hints

    def draw_text(self) -> None:
        self.query_one("#augment-title", PlainLabel).update(self._title())
        for name, hint in self._hints().items():
            self.query_one(f"#augment-{name}", Input).placeholder = hint
        target = self.query_one("#augment-target", Select)
        chosen = target.value
        target.set_options(self._targets())
        target.value = chosen
        self.query_one("#augment-keep-as-rejected", Checkbox).label = _("Keep the old answer as a rejected answer")
        self.query_one("#preview", Button).label = self._button("preview")
        self.query_one("#start", Button).label = self._button("start")
        self.query_one("#augment-problem", Static).update(Text(self._problem_text()))

    def _button(self, action: str) -> str:
        key = key_for(self, action)
        if action == "preview":
            return _("Preview ({key})").format(key=key)
        return _("Start ({key})").format(key=key)

    @staticmethod
    def _targets() -> list[tuple[str, str]]:
        return [(_("a new dataset"), NEW), (_("in place (undo-able)"), IN_PLACE)]

    def compose(self) -> ComposeResult:
        form = self._form()
        only = self._choice.only_ids
        hints = self._hints()
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title(), classes="dialog-title", id="augment-title")
            with VerticalScroll():
                for name, label, _hint in TEXT_FIELDS:
                    with Horizontal(classes="augment-field"):
                        yield TLabel(label)
                        yield Input(
                            getattr(form, name),
                            placeholder=hints[name],
                            id=f"augment-{name}",
                            compact=True,
                            disabled=name == "where" and bool(only),
                        )
                with Horizontal(classes="augment-field"):
                    yield TLabel(N_("Target"))
                    yield Select(
                        self._targets(),
                        value=IN_PLACE if form.in_place else NEW,
                        id="augment-target",
                        allow_blank=False,
                        compact=True,
                    )
                with Horizontal(classes="augment-field"):
                    yield PlainLabel("")
                    yield Checkbox(
                        _("Keep the old answer as a rejected answer"),
                        form.keep_as_rejected,
                        id="augment-keep-as-rejected",
                        compact=True,
                    )
                yield Static("", id="augment-problem")
                yield Vertical(id="augment-preview")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._button("preview"), id="preview", compact=True)
                yield Button(self._button("start"), variant="primary", id="start", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def typed_form(self) -> AugmentForm:
        """What the form holds now, text as typed."""
        values = {name: self.query_one(f"#augment-{name}", Input).value for name, _label, _hint in TEXT_FIELDS}
        return AugmentForm(
            **values,
            in_place=self.query_one("#augment-target", Select).value == IN_PLACE,
            keep_as_rejected=self.query_one("#augment-keep-as-rejected", Checkbox).value,
            endpoint=self._endpoint,
        )

    def fill(self, form: AugmentForm) -> None:
        """Every field as `form` holds it (the filter stays empty while rows are selected)."""
        for name, _label, _hint in TEXT_FIELDS:
            if name != "where" or not self._choice.only_ids:
                self.query_one(f"#augment-{name}", Input).value = getattr(form, name)
        self.query_one("#augment-target", Select).value = IN_PLACE if form.in_place else NEW
        self.query_one("#augment-keep-as-rejected", Checkbox).value = form.keep_as_rejected
        self._endpoint = form.endpoint

    def typed(self) -> AugmentChoice:
        """The choice the form holds now; raises InvalidInput naming a bad field."""
        form = self.typed_form()
        only = self._choice.only_ids
        choice = choice_of_form(form, self._choice.dataset_id, only, self._choice.max_tokens)
        if only:
            choice = replace(choice, where="")
        check(choice)
        return choice

    @work(exclusive=True, group="configs")
    async def action_save_config(self) -> None:
        """Saves every field under a name (replacing the configuration of that name)."""
        if self._configs is None:
            return

        def make(name: str) -> AugmentConfig:
            return augment_config_of_form(name, self.typed_form(), self._api_key_env)

        self._config_name = await save_as(self, self._configs, self._config_name, make) or self._config_name

    @work(exclusive=True, group="configs")
    async def action_load_config(self) -> None:
        """Fills every field from a saved augment configuration chosen by name."""
        if self._configs is None:
            return
        config = await pick(self, self._configs, AugmentConfig, key_for(self, "save_config"))
        if config is None:
            return
        self.fill(augment_form_of_config(config))
        self._config_name, self._api_key_env = config.name, config.api_key_env
        if config.where and self._choice.only_ids:
            self.notify(
                _("Configuration '{name}' loaded; the selected rows are augmented, not its filter.").format(
                    name=clip(config.name)
                ),
                severity="warning",
            )
            return
        self.notify(_("Configuration '{name}' loaded.").format(name=clip(config.name)))

    def _problem(self, text: str) -> None:
        """The problem line (a sentence already in the language now; it stays as written)."""
        self._problem_text = lambda: text
        self.query_one("#augment-problem", Static).update(Text(text))

    def _checked(self) -> AugmentChoice | None:
        try:
            choice = self.typed()
        except ForgeError as exc:
            self._problem(str(exc))
            return None
        self._problem("")
        return choice

    @on(Button.Pressed, "#preview")
    def action_preview(self) -> None:
        choice = self._checked()
        if choice is not None:
            self._run_preview(choice)

    @work(group="augment-preview", exclusive=True)
    async def _run_preview(self, choice: AugmentChoice) -> None:
        box = self.query_one("#augment-preview", Vertical)
        await box.remove_children()
        await box.mount(Static(Text(_("Asking the model about three examples…"), style="italic")))
        try:
            rows = await self._previewer(choice)
        except ForgeError as exc:
            await box.remove_children()
            self._problem(str(exc))
            return
        await box.remove_children()
        await box.mount(
            Horizontal(
                Static(Text(_("before"), style="bold")), Static(Text(_("after"), style="bold")), classes="preview-row"
            )
        )
        for row in rows:
            await box.mount(
                Horizontal(Static(marked(row, "removed")), Static(marked(row, "added")), classes="preview-row")
            )

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        choice = self._checked()
        if choice is not None:
            self.dismiss(choice)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
