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
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.backends import BackendService, RememberMode
from forge_tui.services.topics import expand_topic
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TLabel
from forge_tui.ui.widgets.plain import PlainStatic

DEFAULT_BRANCHING = "5"
DEFAULT_DEPTH = "1"
NUMBER_LABELS = {"k": N_("Subtopics"), "depth": N_("Depth")}


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


class TopicTreeDialog(Localized, ModalScreen[list[str] | None]):
    """Seed topic, K and depth; the expanded tree to edit; the leaves it holds on accept."""

    BINDINGS = [
        Binding("ctrl+g", "expand", N_("Expand"), id="topic_tree.expand"),
        Binding("ctrl+s", "accept", N_("Use leaves"), id="topic_tree.accept"),
        Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel"),
    ]

    def __init__(self, expand: Expand, model: str, topic: str, slot: str, language: str | None) -> None:
        super().__init__()
        self._expand = expand
        self._model = model
        self._topic = topic
        self._slot = slot
        self._language = language
        self._status: Callable[[], str] = self._first_status  # the status line, drawn again in a new language

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield TLabel(N_("Expand topics for slot {slot}"), classes="dialog-title", slot=clip(self._slot, 40))
            for name, label, value in (
                ("topic", N_("Seed topic"), self._topic),
                ("k", NUMBER_LABELS["k"], DEFAULT_BRANCHING),
                ("depth", NUMBER_LABELS["depth"], DEFAULT_DEPTH),
            ):
                with Horizontal(classes="tree-field"):
                    yield TLabel(label)
                    yield Input(value, id=f"tree-{name}", compact=True)
            yield TextArea("", id="tree-text", soft_wrap=False)
            yield PlainStatic("", id="tree-status", classes="dim")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("Expand"), id="expand", compact=True)
                yield TButton(N_("Use leaves"), variant="primary", id="accept", compact=True)
                yield TButton(N_("Cancel"), id="cancel", compact=True)

    def _first_status(self) -> str:
        expand, accept = key_for(self, "expand"), key_for(self, "accept")
        model = clip(self._model, 40)
        if not model:
            return _(
                "{expand} asks the model for subtopics; edit the list (indent a subtopic under its topic), "
                "then {accept} uses its leaves."
            ).format(expand=expand, accept=accept)
        return _(
            "{expand} asks {model} for subtopics; edit the list (indent a subtopic under its topic), "
            "then {accept} uses its leaves."
        ).format(expand=expand, model=model, accept=accept)

    def draw_text(self) -> None:
        self.query_one("#tree-status", PlainStatic).update(self._status())

    def _say(self, status: Callable[[], str]) -> None:
        self._status = status
        self.draw_text()

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
        self._say(
            lambda: _("Asking {model} for subtopics of '{topic}'…").format(
                model=clip(request.model, 40), topic=clip(request.topic, 40)
            )
        )
        try:
            root = await self._expand(request)
        except ForgeError as exc:
            self._say(str)
            self.notify(str(exc), title=_("Cannot expand"), severity="error")
            return
        self.tree_area.text = tree_text([root])
        count = len(root.leaves())
        self._say(
            lambda: ngettext(
                "{n} leaf: edit the list, then {key} uses it.",
                "{n} leaves: edit the list, then {key} uses them.",
                count,
            ).format(n=count, key=key_for(self, "accept"))
        )

    def _request(self) -> TopicRequest | None:
        numbers: list[int] = []
        for name, label in NUMBER_LABELS.items():
            text = self.query_one(f"#tree-{name}", Input).value.strip()
            if not text.isdigit():
                self.notify(
                    _("{what} must be a whole number, not '{text}'.").format(what=_(label), text=clip(text, 20)),
                    severity="warning",
                )
                return None
            numbers.append(int(text))
        if not self._model:
            self.notify(_("No generation model chosen: type one in the form's Model field."), severity="warning")
            return None
        topic = self.query_one("#tree-topic", Input).value
        return TopicRequest(self._model, topic, numbers[0], numbers[1], self._language)

    @on(Button.Pressed, "#accept")
    def action_accept(self) -> None:
        found = leaves(parse_tree(self.tree_area.text))
        if not found:
            self.notify(
                _("The list holds no topics yet: {key} expands the seed topic.").format(key=key_for(self, "expand")),
                severity="warning",
            )
            return
        self.dismiss(found)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
