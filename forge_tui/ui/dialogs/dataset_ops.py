"""The form of a dataset operation (merge, sample, split) on the Datasets screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from forge_tui.i18n import N_, _
from forge_tui.ui.dialogs.common import crop
from forge_tui.ui.localized import Localized, TButton, TInput
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

N = TypeVar("N", int, float)

# Message ids (N_): translate where shown.
OPERATIONS = {
    "merge": N_("Merge other datasets into a new one"),
    "sample": N_("Sample into a new dataset"),
    "split": N_("Split into NAME-train, NAME-valid, NAME-test"),
}


@dataclass(frozen=True)
class OpRequest:
    kind: str
    source: str
    others: list[str] = field(default_factory=list)  # merge: the datasets merged after `source`
    into: str = ""
    dedup: bool = False
    n: int = 0
    stratify: str | None = None
    seed: int = 0
    valid: float = 0.1
    test: float = 0.1


class DatasetOpDialog(Localized, ModalScreen[OpRequest | None]):
    """Enter on the last field (or OK) accepts when the numbers read; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="dataset_ops.cancel")]

    def __init__(self, kind: str, source: str) -> None:
        super().__init__()
        self.kind = kind
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainLabel(self._title(), classes="dialog-title", id="op-title")
            if self.kind == "merge":
                yield TInput(placeholder=N_("and these datasets (comma-separated)"), id="op-others")
                yield TInput(f"{self.source}-merged", placeholder=N_("into"), id="op-into")
                yield Checkbox(_("leave out exact duplicates"), id="op-dedup", compact=True)
            elif self.kind == "sample":
                yield TInput("100", placeholder=N_("how many"), id="op-n")
                yield TInput(placeholder=N_("stratify by: model, source or slot:NAME (empty: none)"), id="op-stratify")
                yield TInput("7", placeholder=N_("seed"), id="op-seed")
                yield TInput(f"{self.source}-sample", placeholder=N_("into"), id="op-into")
            else:
                yield TInput("0.1", placeholder=N_("valid share"), id="op-valid")
                yield TInput("0.1", placeholder=N_("test share"), id="op-test")
                yield TInput("7", placeholder=N_("seed"), id="op-seed")
            yield PlainStatic("", classes="error", id="op-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("OK"), variant="primary", id="ok")
                yield TButton(N_("Cancel"), id="cancel")

    def _title(self) -> str:
        return _("{operation}: {dataset}").format(operation=_(OPERATIONS[self.kind]), dataset=self.source)

    def draw_text(self) -> None:
        self.query_one("#op-title", PlainLabel).update(self._title())
        if self.kind == "merge":
            self.query_one("#op-dedup", Checkbox).label = _("leave out exact duplicates")

    def _text(self, name: str) -> str:
        return self.query_one(f"#op-{name}", Input).value.strip()

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _accept(self) -> None:
        try:
            request = self._request()
        except ValueError as exc:
            self.query_one("#op-error", Static).update(str(exc))
            return
        self.dismiss(request)

    def _request(self) -> OpRequest:
        if self.kind == "merge":
            others = [name.strip() for name in self._text("others").split(",") if name.strip()]
            if not others:
                raise ValueError(_("Name at least one dataset to merge with this one."))
            dedup = self.query_one("#op-dedup", Checkbox).value
            return OpRequest("merge", self.source, others, into=self._text("into"), dedup=dedup)
        seed = _number(self._text("seed"), N_("The seed"), int)
        if self.kind == "sample":
            n = _number(self._text("n"), N_("How many"), int)
            stratify = self._text("stratify") or None
            return OpRequest("sample", self.source, into=self._text("into"), n=n, stratify=stratify, seed=seed)
        valid, test = (
            _number(self._text("valid"), N_("The valid share"), float),
            _number(self._text("test"), N_("The test share"), float),
        )
        return OpRequest("split", self.source, seed=seed, valid=valid, test=test)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(text: str, what: str, kind: type[N]) -> N:
    """`text` read as `kind`; `what` (a message id) names it in the sentence of a ValueError."""
    try:
        return kind(text)
    except ValueError:
        if kind is int:
            message = _("{what} must be an integer, not '{text}'.")
        else:
            message = _("{what} must be a number, not '{text}'.")
        raise ValueError(message.format(what=_(what), text=crop(text, 20))) from None
