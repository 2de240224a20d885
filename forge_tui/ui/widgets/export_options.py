"""The Export screen's form: format, reasoning, file type, split and seed, destination, the export
button, progress and the result line. Choices post messages; the screen reads them through the
typed accessors here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static

from forge_tui.core.custom_formats import CUSTOM_PREFIX
from forge_tui.core.example_filter import ReviewFilter, parse_score
from forge_tui.core.export_formats import FORMATS, REASONING_MODES
from forge_tui.i18n import N_, _
from forge_tui.services.dataset_files import FILE_TYPES
from forge_tui.services.exporting import SUFFIX, TABLE_TYPES
from forge_tui.ui.localized import Localized, TInput, TLabel
from forge_tui.ui.shown import shown_markup
from forge_tui.ui.widgets.plain import PlainStatic

DEFAULT_FORMAT = "openai-chat"
REASONING_LABELS = {
    "field": N_("in the format's own field"),
    "think-tags": N_("as <think>…</think> before the answer"),
    "drop": N_("left out"),
}

# The Review choice: which examples are written, by review state (the CLI's --review).
REVIEW_OPTIONS = (
    (N_("all but the rejected ones"), ReviewFilter.NOT_REJECTED),
    (N_("accepted only"), ReviewFilter.ACCEPTED),
    (N_("unreviewed only"), ReviewFilter.UNREVIEWED),
    (N_("all, rejected too"), ReviewFilter.ALL),
)


def reasoning_options(name: str) -> list[tuple[str, str]]:
    modes = FORMATS[name].reasoning_modes if name in FORMATS else REASONING_MODES  # custom: all three
    return [(shown_markup(f"{mode} — {_(REASONING_LABELS[mode])}"), mode) for mode in modes]


def review_options() -> list[tuple[str, str]]:
    return [(_(label), value.value) for label, value in REVIEW_OPTIONS]


def format_about(name: str) -> str:
    """core marks the formats' descriptions and needs with N_()."""
    if name not in FORMATS:
        return _("custom (Jinja2)")
    fmt = FORMATS[name]
    if fmt.needs:
        return _("{about} — only examples with {needs}").format(about=_(fmt.description), needs=_(fmt.needs))
    return _(fmt.description)


SPREADSHEET_SAFE = N_("Spreadsheet-safe cells (= + - @ quoted)")


@dataclass(frozen=True)
class Split:
    share: float | None  # the train share; None writes one file
    seed: int


class ExportOptions(Localized, VerticalScroll, can_focus=False):
    @dataclass
    class FormatChosen(Message):
        """Another format was chosen (its reasoning choices and the destination follow already)."""

        name: str

    class ReasoningChosen(Message):
        pass

    class ReviewChosen(Message):
        """Another review choice: the preview shows the first examples it takes."""

    def __init__(self, run_label: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._run_label = run_label
        self._dataset_name = ""
        self._custom_names: list[str] = []
        self._drawn = False

    def compose(self) -> ComposeResult:
        yield TLabel(N_("Format"))
        yield Select[str]([(f.name, f.name) for f in FORMATS.values()], id="format", allow_blank=False,
                          compact=True)  # fmt: skip
        yield PlainStatic("", id="format-about", classes="dim")
        yield TLabel(N_("Reasoning"))
        yield Select[str](reasoning_options(DEFAULT_FORMAT), id="reasoning", value="field", allow_blank=False,
                          compact=True)  # fmt: skip
        yield TLabel(N_("Examples (by review state)"))
        yield Select[str](review_options(), id="review",
                          value=ReviewFilter.NOT_REJECTED.value, allow_blank=False, compact=True)  # fmt: skip
        yield TLabel(N_("Minimum judge score (empty: every example, the unjudged too)"))
        yield TInput("", id="min-score", placeholder=N_("e.g. 7 (1-10)"), compact=True)
        yield TLabel(N_("File type"))
        yield Select[str]([(t, t) for t in FILE_TYPES], id="file-type", value="jsonl", allow_blank=False,
                          compact=True)  # fmt: skip
        yield Checkbox(_(SPREADSHEET_SAFE), id="spreadsheet-safe", compact=True)
        yield TLabel(N_("Train share (empty: one file) · seed"))
        with Horizontal(classes="row"):
            yield TInput("", type="number", id="split", placeholder=N_("e.g. 0.9"), compact=True)
            yield Input("0", type="integer", id="export-seed", compact=True)
        yield TLabel(N_("Write to"))
        yield Input("", id="destination", compact=True)
        yield Button(self._run_label, variant="primary", id="run", compact=True)
        yield ProgressBar(id="progress", show_eta=False)
        yield PlainStatic("", id="export-result")

    def draw_text(self) -> None:
        """The choices' labels and the format's description again; what is chosen stays. The run
        button's label and the result line are the screen's (it gave them already translated)."""
        if not self._drawn:  # at mount: composed in the current language, and the screen fills the formats
            self._drawn = True
            return
        with self.prevent(Select.Changed):
            choices = (
                ("#format", self._format_options()),
                ("#reasoning", reasoning_options(self.chosen)),
                ("#review", review_options()),
            )
            for selector, options in choices:
                select = self.query_one(selector, Select)
                value = select.value
                select.set_options(options)
                if any(option == value for _label, option in options):
                    select.value = value
        self.query_one("#spreadsheet-safe", Checkbox).label = _(SPREADSHEET_SAFE)
        self.query_one("#format-about", Static).update(format_about(self.chosen))

    def on_mount(self) -> None:
        self.query_one("#progress", ProgressBar).display = False  # shown from the first export on
        self.query_one("#spreadsheet-safe", Checkbox).display = False  # for CSV and TSV only

    # --- what is chosen ---------------------------------------------------------------------------
    @property
    def chosen(self) -> str:
        value = self.query_one("#format", Select).value
        return value if isinstance(value, str) else DEFAULT_FORMAT

    @property
    def reasoning(self) -> str | None:
        value = self.query_one("#reasoning", Select).value
        return value if isinstance(value, str) else None

    @property
    def review(self) -> ReviewFilter:
        return ReviewFilter(str(self.query_one("#review", Select).value))

    def min_score(self) -> float | None:
        """Raises ValueError (one sentence) when the minimum score is not a score."""
        return parse_score(self.query_one("#min-score", Input).value)

    @property
    def kind(self) -> str:
        return str(self.query_one("#file-type", Select).value)

    @property
    def spreadsheet_safe(self) -> bool:
        return self.kind in TABLE_TYPES and self.query_one("#spreadsheet-safe", Checkbox).value

    @property
    def destination(self) -> Path:
        return Path(self.query_one("#destination", Input).value).expanduser()

    def split(self) -> Split:
        """Raises ValueError when the share or the seed is no number."""
        share = self.query_one("#split", Input).value.strip()
        return Split(float(share) if share else None, int(self.query_one("#export-seed", Input).value or 0))

    # --- changing the choices ---------------------------------------------------------------------
    def fill_formats(self, custom_names: list[str], chosen: str) -> None:
        self._custom_names = list(custom_names)
        options = self._format_options()
        select = self.query_one("#format", Select)
        select.set_options(options)
        select.value = chosen if any(value == chosen for _, value in options) else DEFAULT_FORMAT

    def _format_options(self) -> list[tuple[str, str]]:
        options = [(shown_markup(f"{f.name} — {_(f.description)}"), f.name) for f in FORMATS.values()]
        options += [
            (shown_markup(_("{name} — custom").format(name=CUSTOM_PREFIX + name)), CUSTOM_PREFIX + name)
            for name in self._custom_names
        ]
        return options

    def set_dataset(self, name: str) -> None:
        """The destination is named after the dataset and the format."""
        self._dataset_name = name
        self._set_destination()

    def _set_destination(self) -> None:
        stem = f"{self._dataset_name or 'dataset'}-{self.chosen.removeprefix(CUSTOM_PREFIX)}".replace(" ", "_")
        self.query_one("#destination", Input).value = str(Path.cwd() / f"{stem}{SUFFIX.get(self.kind, '.jsonl')}")

    @on(Select.Changed, "#format")
    def _format_changed(self, event: Select.Changed) -> None:
        event.stop()
        name = self.chosen
        self.query_one("#format-about", Static).update(format_about(name))
        select = self.query_one("#reasoning", Select)
        with self.prevent(Select.Changed):  # the format's default reasoning is chosen
            select.set_options(reasoning_options(name))
            select.value = FORMATS[name].reasoning if name in FORMATS else "field"
        self._set_destination()
        self.post_message(self.FormatChosen(name))

    @on(Select.Changed, "#reasoning")
    def _reasoning_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.ReasoningChosen())

    @on(Select.Changed, "#review")
    def _review_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.ReviewChosen())

    @on(Select.Changed, "#file-type")
    def _type_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.query_one("#spreadsheet-safe", Checkbox).display = self.kind in TABLE_TYPES
        self._set_destination()

    # --- a run ------------------------------------------------------------------------------------
    def started(self, stop_key: str) -> None:
        self.show_result(_("Exporting… ({key} stops)").format(key=stop_key) if stop_key else _("Exporting…"))
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True

    def progress(self, done: int, total: int) -> None:
        self.query_one("#progress", ProgressBar).update(total=max(total, 1), progress=done)

    def show_result(self, text: str) -> None:
        self.query_one("#export-result", Static).update(text)
