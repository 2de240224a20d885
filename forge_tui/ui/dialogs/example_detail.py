"""One example, every field: read it, edit it, save it explicitly (ctrl+s)."""

from __future__ import annotations

import json
from collections.abc import Callable

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Collapsible, Label, Select, Static, TextArea

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.example_filter import FLAG_MARK, review_mark, source_label
from forge_tui.core.models import Example, ExampleContent, ReviewState
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.keys import key_for
from forge_tui.ui.widgets.plain import PlainStatic

# Saves the new content, desirability (KTO label) and review state and returns the example as
# stored; raises ForgeError with the reason.
Save = Callable[[Example, ExampleContent, bool | None, ReviewState], Example]
# The desirability choices of the detail view: (label, Select value, stored value).
DESIRABILITY = (
    ("not labelled", "none", None),
    ("✓ desirable", "desirable", True),
    ("✗ undesirable", "undesirable", False),
)


def origin(example: Example) -> str:
    """Where the example came from, its review state and its language flag, in one line."""
    meta = example.meta
    text = f"From {source_label(meta.source, meta.job_id)} · {review_mark(meta.review)} {meta.review.value}"
    if meta.language_flag:
        text += f" · {FLAG_MARK} language: {meta.language_flag}"
    return text


def _json_list(text: str, what: str) -> list[object]:
    try:
        value = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(value, list):
        raise InvalidInput(f"{what} must be a JSON list")
    return value


def _params(example: Example) -> str:
    """The generation parameters in one short line (tool definitions by name only)."""
    parts = []
    for key, value in example.meta.params.items():
        if key == "tools" and isinstance(value, list):
            names = [str(t.get("function", t).get("name", "?")) for t in value if isinstance(t, dict)]
            parts.append(f"tools: {', '.join(names)}")
        elif not isinstance(value, (dict, list)):
            parts.append(f"{key}={value}")
    return " · ".join(parts)[:160]


_FIELD_NAMES = {
    "d-system": "system prompt",
    "d-user": "user prompt",
    "d-turns": "conversation",
    "d-output": "answer",
    "d-tools": "tool calls",
    "d-rejected": "rejected answers",
    "d-reasoning": "reasoning",
    "d-extra": "kept-aside fields",
}


def _folded_title(what: str, text: str) -> str:
    return f"{what} ({len(text):,} characters)" if text else f"{what} (none)"


class ExampleDetail(ModalScreen[Example | None]):
    """Dismissed with the saved example, or None when nothing was saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="detail.save"),
        Binding("escape", "close", "Close", id="detail.close"),
        Binding("alt+c", "copy_field", "Copy field", id="detail.copy_field"),
    ]

    def __init__(self, example: Example, save: Save) -> None:
        super().__init__()
        self.example = example
        self._save = save
        self._saved: Example | None = None

    def compose(self) -> ComposeResult:
        ex = self.example
        content = ex.content
        tokens = f"{ex.meta.prompt_tokens or '?'} → {ex.meta.completion_tokens or '?'} tokens"
        with Vertical(classes="dialog example-detail"):
            yield Label(f"Example {ex.id}", classes="dialog-title", id="detail-title")
            yield PlainStatic(
                f"{ex.meta.model or 'no model'} · {tokens} · created {ex.created_at:%Y-%m-%d %H:%M} · {_params(ex)}",
                classes="dim",
            )
            yield PlainStatic(origin(ex), classes="dim", id="d-origin")
            with VerticalScroll(can_focus=False):
                if content.slots:
                    slots = "\n".join(f"{k} = {v}" for k, v in content.slots.items())
                    yield Label("Slots (as filled when generated)")
                    yield PlainStatic(slots, classes="dim")
                yield Label("System prompt")
                yield TextArea(content.system_prompt, id="d-system", soft_wrap=True)
                if content.turns:
                    yield Label(f"Conversation before the answer ({len(content.turns)} messages, JSON)")
                    yield TextArea(
                        json.dumps(content.turns, indent=2, ensure_ascii=False), id="d-turns", language="json"
                    )
                else:
                    yield Label("User prompt (as sent)")
                    yield TextArea(content.user_prompt, id="d-user", soft_wrap=True)
                with Collapsible(title=_folded_title("Reasoning", content.reasoning), id="d-reasoning-fold"):
                    yield TextArea(content.reasoning, id="d-reasoning", soft_wrap=True)
                yield Label("Answer")
                yield TextArea(content.output, id="d-output", soft_wrap=True)
                yield Label("Tool calls (JSON)")
                yield TextArea(json.dumps(content.tool_calls, indent=2, ensure_ascii=False), id="d-tools")
                yield Label("Rejected answers (JSON list; each becomes a preference pair on export)")
                yield TextArea(json.dumps(content.rejected, indent=2, ensure_ascii=False), id="d-rejected")
                yield Label("Desirability (KTO: a desirable or an undesirable completion)")
                yield Select(
                    [(label, value) for label, value, _ in DESIRABILITY],
                    value=next(value for _, value, flag in DESIRABILITY if flag is ex.meta.desirability),
                    allow_blank=False,
                    compact=True,
                    id="d-desirability",
                )
                yield Label("Review (export leaves rejected examples out)")
                yield Select(
                    [(f"{review_mark(state)} {state.value}", state.value) for state in ReviewState],
                    value=ex.meta.review.value,
                    allow_blank=False,
                    compact=True,
                    id="d-review",
                )
                if content.extra:
                    names = ", ".join(content.extra)
                    with Collapsible(title=f"Kept-aside fields: {names[:60]}", id="d-extra-fold"):
                        yield TextArea(
                            json.dumps(content.extra, indent=2, ensure_ascii=False, default=str),
                            id="d-extra",
                            language="json",
                            read_only=True,
                        )
            yield PlainStatic("", classes="error", id="d-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._labelled("Save", "save"), variant="primary", id="save", compact=True)
                yield Button(self._labelled("Close", "close"), id="close", compact=True)

    def _labelled(self, label: str, action: str) -> str:
        key = key_for(self, action)
        return f"{label} ({key})" if key else label

    def on_mount(self) -> None:
        self.query_one("#d-output", TextArea).focus()

    def action_copy_field(self) -> None:
        """The whole focused field to the clipboard (ctrl+c in a field copies only the selection)."""
        field = self.focused
        if not isinstance(field, TextArea):
            self.notify("Move to a field first (tab).", severity="warning")
            return
        self.app.copy_to_clipboard(field.text)
        label = _FIELD_NAMES.get(field.id or "", "field")
        self.notify(f"Copied the {label} ({len(field.text):,} characters).")

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text

    def edited(self) -> ExampleContent:
        content = self.example.content
        turns = content.turns
        user = content.user_prompt
        if content.turns:
            turns = [t for t in _json_list(self._text("#d-turns"), "The conversation") if isinstance(t, dict)]
            users = [t for t in turns if t.get("role") == "user"]
            if not users:
                raise InvalidInput("The conversation needs a user message")
            user = str(users[-1].get("content", ""))
        else:
            user = self._text("#d-user")
        calls = _json_list(self._text("#d-tools"), "Tool calls")
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise InvalidInput('Each tool call is {"name": …, "arguments": {…}}')
        rejected = _json_list(self._text("#d-rejected"), "Rejected answers")
        return content.model_copy(
            update={
                "system_prompt": self._text("#d-system"),
                "user_prompt": user,
                "turns": turns,
                "reasoning": self._text("#d-reasoning"),
                "output": self._text("#d-output"),
                "tool_calls": calls,
                "rejected": [str(r) for r in rejected],
            }
        )

    def desirability(self) -> bool | None:
        chosen = self.query_one("#d-desirability", Select).value
        return next(flag for _, value, flag in DESIRABILITY if value == chosen)

    def review(self) -> ReviewState:
        return ReviewState(str(self.query_one("#d-review", Select).value))

    def dirty(self) -> bool:
        meta = self.example.meta
        try:
            return (
                self.edited() != self.example.content
                or self.desirability() is not meta.desirability
                or self.review() is not meta.review
            )
        except ForgeError:
            return True

    @on(TextArea.Changed)
    @on(Select.Changed, "#d-desirability")
    @on(Select.Changed, "#d-review")
    def _changed(self) -> None:
        mark = " • unsaved" if self.dirty() else ""
        self.query_one("#detail-title", Label).update(f"Example {self.example.id}{mark}")

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        error = self.query_one("#d-error", Static)
        try:
            self.example = self._save(self.example, self.edited(), self.desirability(), self.review())
        except ForgeError as exc:
            error.update(f"Not saved: {exc}")
            return
        self._saved = self.example
        error.update("")
        self.query_one("#d-origin", Static).update(origin(self.example))
        self.query_one("#detail-title", Label).update(f"Example {self.example.id} • saved")

    @on(Button.Pressed, "#close")
    @work(group="close", exclusive=True)
    async def action_close(self) -> None:
        if not self.dirty() or await self.app.push_screen_wait(
            Confirm("Leave without saving your edits?", yes="Discard", no="Keep editing")
        ):
            self.dismiss(self._saved)
