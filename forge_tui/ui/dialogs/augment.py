"""An augment job for the current dataset (or the selected rows): field, instruction, context fields,
model, temperature, language, and where the result goes (a new dataset or in place). Preview asks the
model about three examples and shows them before and after in two columns, changed words marked;
Start (ctrl+s) hands the choice back to the screen, which plans and starts the job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.services.augment_jobs import AugmentChoice, PreviewRow, check
from forge_tui.ui.keys import key_for
from forge_tui.ui.widgets.plain import PlainLabel

Previewer = Callable[[AugmentChoice], Awaitable[list[PreviewRow]]]
NEW, IN_PLACE = "new", "in_place"
TEXT_FIELDS = (
    ("field", "Field", "answer, user_prompt, system_prompt, slot:N, extra:N, new:N"),
    ("instruction", "Instruction", "Jinja2 over the example: {{ answer }}, {{ slots.topic }}"),
    ("context", "Context", "fields the model also sees, comma-separated"),
    ("model", "Model", ""),
    ("temperature", "Temperature", "empty: the model's default"),
    ("language", "Language", "e.g. zh-TW; empty: as it is"),
    ("into", "New dataset", ""),
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


class AugmentDialog(ModalScreen[AugmentChoice | None]):
    """Every field of an augment job; Preview shows three examples, ctrl+s starts, escape cancels."""

    AUTO_FOCUS = "#augment-instruction"
    BINDINGS = [
        Binding("ctrl+s", "start", "Start", id="augment.start"),
        Binding("ctrl+r", "preview", "Preview", id="augment.preview"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(
        self, choice: AugmentChoice, dataset_name: str, previewer: Previewer, selected: Sequence[str] = ()
    ) -> None:
        super().__init__()
        self._choice = replace(choice, only_ids=tuple(selected))
        self._dataset_name = dataset_name
        self._previewer = previewer

    def compose(self) -> ComposeResult:
        choice = self._choice
        count = f"{len(choice.only_ids)} selected examples" if choice.only_ids else "every example"
        values = {
            "field": choice.field,
            "instruction": choice.instruction,
            "context": ", ".join(choice.context),
            "model": choice.model,
            "temperature": "" if choice.temperature is None else f"{choice.temperature:g}",
            "language": choice.language,
            "into": choice.into,
        }
        with Vertical(classes="dialog"):
            yield PlainLabel(f"Augment {count} of '{clip(self._dataset_name, 40)}'", classes="dialog-title")
            with VerticalScroll():
                for name, label, hint in TEXT_FIELDS:
                    with Horizontal(classes="augment-field"):
                        yield PlainLabel(label)
                        yield Input(values[name], placeholder=hint, id=f"augment-{name}", compact=True)
                with Horizontal(classes="augment-field"):
                    yield PlainLabel("Target")
                    targets = [("a new dataset", NEW), ("in place (undo-able)", IN_PLACE)]
                    yield Select(targets, value=NEW, id="augment-target", allow_blank=False, compact=True)
                yield Static("", id="augment-problem")
                yield Vertical(id="augment-preview")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"Preview ({key_for(self, 'preview')})", id="preview", compact=True)
                yield Button(f"Start ({key_for(self, 'start')})", variant="primary", id="start", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def typed(self) -> AugmentChoice:
        """What the form holds now; raises InvalidInput naming a bad field."""
        value = {name: self.query_one(f"#augment-{name}", Input).value.strip() for name, _, _ in TEXT_FIELDS}
        try:
            temperature = float(value["temperature"]) if value["temperature"] else None
        except ValueError:
            raise InvalidInput("The temperature is a number such as 0.7.") from None
        in_place = self.query_one("#augment-target", Select).value == IN_PLACE
        if not in_place and not value["into"]:
            raise InvalidInput("Name the new dataset, or choose in place.")
        choice = replace(
            self._choice,
            field=value["field"],
            instruction=value["instruction"],
            context=tuple(c.strip() for c in value["context"].split(",") if c.strip()),
            model=value["model"],
            temperature=temperature,
            language=value["language"],
            into="" if in_place else value["into"],
        )
        check(choice)
        return choice

    def _problem(self, text: str) -> None:
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
        await box.mount(Static(Text("Asking the model about three examples…", style="italic")))
        try:
            rows = await self._previewer(choice)
        except ForgeError as exc:
            await box.remove_children()
            self._problem(str(exc))
            return
        await box.remove_children()
        await box.mount(
            Horizontal(Static(Text("before", style="bold")), Static(Text("after", style="bold")), classes="preview-row")
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
