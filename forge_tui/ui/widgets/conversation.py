"""The Playground's conversation: one focusable view per turn, the thinking folded until asked for."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from forge_tui.core.tool_checks import calls_to_json
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.playground import Playground, Turn
from forge_tui.ui.dialogs.common import crop
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized

SYSTEM_SHOWN = 60  # cells of the system prompt the status line shows
_ROLE_NAMES = {"user": N_("You"), "assistant": N_("Model"), "tool": N_("Tool {name}")}


class TurnView(Localized, Static, can_focus=True):
    """One turn; its keys act on it through the screen (edit, branch) or here (copy, fold)."""

    DEFAULT_CSS = """
    TurnView {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: outer $primary 40%;
    }
    TurnView.-assistant {
        border-left: outer $accent 60%;
    }
    TurnView.-tool {
        border-left: outer $warning 60%;
    }
    TurnView:focus {
        background: $boost;
        border-left: outer $primary;
    }
    """
    BINDINGS = [
        Binding("e", "screen.edit", N_("Edit"), id="turn.edit"),
        Binding("b", "screen.branch", N_("Branch"), id="turn.branch"),
        Binding("c", "screen.copy", N_("Copy"), id="turn.copy"),
        Binding("f", "fold", N_("Thinking"), id="turn.fold"),
        Binding("up,k", "screen.turn(-1)", N_("Previous turn"), id="turn.previous", show=False),
        Binding("down,j", "screen.turn(1)", N_("Next turn"), id="turn.next", show=False),
    ]

    def __init__(self, index: int, turn: Turn) -> None:
        super().__init__()
        self.index = index
        self.turn = turn
        self.unfolded = False

    @classmethod
    def key(cls, action: str) -> str:
        """The key a turn binds to `action` ("edit", "fold", …), as the bindings give it."""
        turn = cls(0, Turn(role="user"))
        return key_for(turn, f"screen.{action}") or key_for(turn, action)

    def show(self, turn: Turn) -> None:
        self.turn = turn
        self.set_class(turn.role == "assistant", "-assistant")
        self.set_class(turn.role == "tool", "-tool")
        self.update(self._text())

    def draw_text(self) -> None:
        self.show(self.turn)

    def action_fold(self) -> None:
        self.unfolded = not self.unfolded
        self.show(self.turn)

    def _text(self) -> Text:
        turn = self.turn
        text = Text()
        text.append(_(_ROLE_NAMES[turn.role]).format(name=turn.name or "?"), style="bold")
        if turn.streaming:
            text.append(" …", style="dim")
        text.append("\n")
        if turn.thinking:
            if self.unfolded:
                text.append(turn.thinking + "\n", style="dim italic")
            else:
                words = len(turn.thinking.split())
                folded = ngettext(
                    "▸ Thinking, {n} word ({key} unfolds)", "▸ Thinking, {n} words ({key} unfolds)", words
                )
                text.append(folded.format(n=words, key=self.key("fold")) + "\n", style="dim")
        if turn.content:
            text.append(turn.content)
        for call in turn.tool_calls:
            arguments = json.dumps(calls_to_json([call])[0]["arguments"], ensure_ascii=False)
            text.append(f"\n→ {call.name}({arguments})", style="bold")
        if turn.rejected:
            count = len(turn.rejected)
            kept = ngettext("✗ {n} rejected alternative kept", "✗ {n} rejected alternatives kept", count)
            text.append("\n" + kept.format(n=count), style="dim")
        if turn.error:
            text.append("\n" + _("✗ {problem}").format(problem=turn.error), style="bold reverse")
        return text


class ConversationView(VerticalScroll, can_focus=False):
    """Shows the turns it is given: views are added and taken away to match, the rest repainted."""

    DEFAULT_CSS = """
    ConversationView {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # Kept here rather than queried: a view being removed is still a child until the removal runs,
        # and a turn streamed in meanwhile must get a view of its own.
        self.views: list[TurnView] = []

    def show(self, turns: Sequence[Turn]) -> None:
        views = self.views
        for view in views[len(turns) :]:
            view.remove()
        del views[len(turns) :]
        for index, turn in enumerate(turns):
            if index < len(views):
                views[index].show(turn)
            else:
                view = TurnView(index, turn)
                views.append(view)
                self.mount(view)
                view.show(turn)
        if turns and turns[-1].streaming:
            self.scroll_end(animate=False)

    def focus_turn(self, index: int) -> bool:
        views = self.views
        if 0 <= index < len(views):
            views[index].focus()
            views[index].scroll_visible(animate=False)
            return True
        return False


class ChatStatus(Static):
    """Two lines: the model and its settings; the system prompt and the example being continued."""

    DEFAULT_CSS = """
    ChatStatus {
        height: 2;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def show(self, chat: Playground, options_key: str) -> None:
        options = chat.options
        seed = str(options.seed) if options.seed is not None else _("random")
        temperature = f"{options.temperature:g}" if options.temperature is not None else _("default")
        tools = ", ".join(t.name for t in options.tools) or _("none")
        line = _("Model {model} · temperature {temperature} · seed {seed} · tools: {tools}").format(
            model=options.model or "?", temperature=temperature, seed=seed, tools=tools
        )
        system = " ".join(options.system_prompt.split())
        if system:
            shown = crop(system, SYSTEM_SHOWN)
            second = _("System: {prompt}").format(prompt=shown if shown == system else shown + "…")
        else:
            second = _("No system prompt ({key} sets one)").format(key=options_key)
        if chat.example_id is not None:
            second += " · " + _("example {id}: saving updates it").format(id=chat.example_id[:8])
        self.update(Text(f"{line}\n{second}"))
