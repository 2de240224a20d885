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

from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

N = TypeVar("N", int, float)

OPERATIONS = {
    "merge": "Merge other datasets into a new one",
    "sample": "Sample into a new dataset",
    "split": "Split into NAME-train, NAME-valid, NAME-test",
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


class DatasetOpDialog(ModalScreen[OpRequest | None]):
    """Enter on the last field (or OK) accepts when the numbers read; Escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dataset_ops.cancel")]

    def __init__(self, kind: str, source: str) -> None:
        super().__init__()
        self.kind = kind
        self.source = source

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainLabel(f"{OPERATIONS[self.kind]}: {self.source}", classes="dialog-title")
            if self.kind == "merge":
                yield Input(placeholder="and these datasets (comma-separated)", id="op-others")
                yield Input(f"{self.source}-merged", placeholder="into", id="op-into")
                yield Checkbox("leave out exact duplicates", id="op-dedup", compact=True)
            elif self.kind == "sample":
                yield Input("100", placeholder="how many", id="op-n")
                yield Input(placeholder="stratify by: model, source or slot:NAME (empty: none)", id="op-stratify")
                yield Input("7", placeholder="seed", id="op-seed")
                yield Input(f"{self.source}-sample", placeholder="into", id="op-into")
            else:
                yield Input("0.1", placeholder="valid share", id="op-valid")
                yield Input("0.1", placeholder="test share", id="op-test")
                yield Input("7", placeholder="seed", id="op-seed")
            yield PlainStatic("", classes="error", id="op-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

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
                raise ValueError("Name at least one dataset to merge with this one.")
            dedup = self.query_one("#op-dedup", Checkbox).value
            return OpRequest("merge", self.source, others, into=self._text("into"), dedup=dedup)
        seed = _number(self._text("seed"), "The seed", int)
        if self.kind == "sample":
            n = _number(self._text("n"), "How many", int)
            stratify = self._text("stratify") or None
            return OpRequest("sample", self.source, into=self._text("into"), n=n, stratify=stratify, seed=seed)
        valid, test = (
            _number(self._text("valid"), "The valid share", float),
            _number(self._text("test"), "The test share", float),
        )
        return OpRequest("split", self.source, seed=seed, valid=valid, test=test)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(text: str, what: str, kind: type[N]) -> N:
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"{what} must be a{'n integer' if kind is int else ' number'}, not '{text[:20]}'.") from None
