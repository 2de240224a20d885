"""A model's pull as it goes: a bar per layer with bytes and rate, the server's status, and a key that
cancels (the connection closes and Ollama stops the pull)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from time import monotonic

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from forge_tui.core.errors import ForgeError
from forge_tui.core.model_catalog import Layer, PullBoard, PullProgress, size_text
from forge_tui.i18n import N_, _
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic


@dataclass(frozen=True)
class PullResult:
    """How a pull ended: done, cancelled, or the sentence of its error."""

    done: bool = False
    error: str | None = None


def layer_text(layer: Layer) -> str:
    rate = _("{rate}/s").format(rate=size_text(int(layer.rate))) if layer.rate else ""
    done = _("{done} of {total}").format(done=size_text(layer.completed), total=size_text(layer.total))
    return f"{done}  {rate}".rstrip()


class PullDialog(Localized, ModalScreen[PullResult]):
    BINDINGS = [Binding("escape", "cancel_pull", N_("Cancel pull"), id="pull.cancel")]

    def __init__(self, model: str, endpoint: str, start: Callable[[], AsyncIterator[PullProgress]]) -> None:
        super().__init__()
        self._model = model
        self._endpoint = endpoint
        self._start = start
        self.board = PullBoard()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="pull-dialog"):
            yield PlainLabel("", classes="dialog-title", id="pull-title")
            yield PlainStatic("", id="pull-status")
            yield VerticalScroll(id="pull-layers")
            yield PlainStatic("", classes="dim", id="pull-hint")

    def on_mount(self) -> None:
        self._pull()

    def draw_text(self) -> None:
        title = _("Pulling '{model}' onto '{endpoint}'").format(model=self._model, endpoint=self._endpoint)
        self.query_one("#pull-title", Static).update(title)
        self.query_one("#pull-status", Static).update(self.board.status or _("Starting…"))
        key = key_for(self, "cancel_pull")
        self.query_one("#pull-hint", Static).update(_("{key} cancels the pull.").format(key=key) if key else "")

    @work(exclusive=True, group="pull")
    async def _pull(self) -> None:
        try:
            async for line in self._start():
                await self._show(line)
        except ForgeError as exc:
            self.dismiss(PullResult(error=str(exc)))
            return
        self.dismiss(PullResult(done=True))

    async def _show(self, line: PullProgress) -> None:
        layer = self.board.add(line, monotonic())
        self.query_one("#pull-status", Static).update(self.board.status)
        if layer is None:
            return
        key = layer.digest.replace(":", "-")
        found = self.query(f"#layer-{key}")
        if not found:
            row = Horizontal(
                PlainLabel(layer.digest[7:19], classes="layer-name"),
                ProgressBar(total=layer.total or None, show_eta=False, classes="layer-bar"),
                PlainStatic("", classes="layer-bytes"),
                id=f"layer-{key}",
                classes="layer",
            )
            await self.query_one("#pull-layers", VerticalScroll).mount(row)
            found = self.query(f"#layer-{key}")
        row = found.first(Horizontal)
        row.query_one(ProgressBar).update(total=layer.total or None, progress=layer.completed)
        row.query_one(".layer-bytes", Static).update(layer_text(layer))

    def action_cancel_pull(self) -> None:
        self.workers.cancel_group(self, "pull")
        self.dismiss(PullResult())
