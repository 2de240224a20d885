"""Expand topics: the model turns a seed topic into a tree of subtopics, the user edits it as an
indented list, and its leaves become a slot's values (TopicTreeDialog)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, TextArea

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.core.topic_tree import TopicNode, leaves, parse_tree, tree_text
from forge_tui.services.backends import BackendService, RememberMode
from forge_tui.services.topics import expand_topic
from forge_tui.ui.keys import key_for
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

DEFAULT_BRANCHING = "5"
DEFAULT_DEPTH = "1"


@dataclass(frozen=True)
class TopicRequest:
    model: str
    topic: str
    k: int
    depth: int
    language: str | None


Expand = Callable[[TopicRequest], Awaitable[TopicNode]]


def topic_expander(settings: Callable[[], BackendSettings], remember: RememberMode | None) -> Expand:
    """Expands a topic through the backend settings as they are when asked."""

    async def expand(request: TopicRequest) -> TopicNode:
        async with BackendService(settings(), remember=remember) as backend:
            return await expand_topic(
                backend, request.model, request.topic, request.k, request.depth, language=request.language
            )

    return expand


class TopicTreeDialog(ModalScreen[list[str] | None]):
    """Seed topic, K and depth; the expanded tree to edit; the leaves it holds on accept."""

    BINDINGS = [
        Binding("ctrl+g", "expand", "Expand", id="topic_tree.expand"),
        Binding("ctrl+s", "accept", "Use leaves", id="topic_tree.accept"),
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, expand: Expand, model: str, topic: str, slot: str, language: str | None) -> None:
        super().__init__()
        self._expand = expand
        self._model = model
        self._topic = topic
        self._slot = slot
        self._language = language

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield PlainLabel(f"Expand topics for slot {clip(self._slot, 40)}", classes="dialog-title")
            for name, label, value in (
                ("topic", "Seed topic", self._topic),
                ("k", "Subtopics", DEFAULT_BRANCHING),
                ("depth", "Depth", DEFAULT_DEPTH),
            ):
                with Horizontal(classes="tree-field"):
                    yield PlainLabel(label)
                    yield Input(value, id=f"tree-{name}", compact=True)
            yield TextArea("", id="tree-text", soft_wrap=False)
            yield PlainStatic("", id="tree-status", classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Expand", id="expand", compact=True)
                yield Button("Use leaves", variant="primary", id="accept", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._say(
            f"{key_for(self, 'expand')} asks {clip(self._model, 40) or 'the model'} for subtopics; edit the list "
            f"(indent a subtopic under its topic), then {key_for(self, 'accept')} uses its leaves."
        )

    def _say(self, text: str) -> None:
        self.query_one("#tree-status", PlainStatic).update(text)

    @property
    def tree_area(self) -> TextArea:
        return self.query_one("#tree-text", TextArea)

    @on(Button.Pressed, "#expand")
    @on(Input.Submitted)
    @work(exclusive=True, group="expand")
    async def action_expand(self) -> None:
        request = self._request()
        if request is None:
            return
        self._say(f"Asking {clip(request.model, 40)} for subtopics of '{clip(request.topic, 40)}'…")
        try:
            root = await self._expand(request)
        except ForgeError as exc:
            self._say("")
            self.notify(str(exc), title="Cannot expand", severity="error")
            return
        self.tree_area.text = tree_text([root])
        self._say(f"{len(root.leaves())} leaves: edit the list, then {key_for(self, 'accept')} uses them.")

    def _request(self) -> TopicRequest | None:
        numbers: list[int] = []
        for name, label in (("k", "Subtopics"), ("depth", "Depth")):
            text = self.query_one(f"#tree-{name}", Input).value.strip()
            if not text.isdigit():
                self.notify(f"{label} must be a whole number, not '{clip(text, 20)}'.", severity="warning")
                return None
            numbers.append(int(text))
        if not self._model:
            self.notify("No generation model chosen: type one in the form's Model field.", severity="warning")
            return None
        topic = self.query_one("#tree-topic", Input).value
        return TopicRequest(self._model, topic, numbers[0], numbers[1], self._language)

    @on(Button.Pressed, "#accept")
    def action_accept(self) -> None:
        found = leaves(parse_tree(self.tree_area.text))
        if not found:
            self.notify(
                f"The list holds no topics yet: {key_for(self, 'expand')} expands the seed topic.", severity="warning"
            )
            return
        self.dismiss(found)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
