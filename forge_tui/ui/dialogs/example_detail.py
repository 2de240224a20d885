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
from forge_tui.i18n import N_, _
from forge_tui.ui.dialogs.common import Confirm, crop
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.messages import OpenInPlayground
from forge_tui.ui.widgets.plain import PlainStatic

# Saves the new content, desirability (KTO label) and review state and returns the example as
# stored; raises ForgeError with the reason.
Save = Callable[[Example, ExampleContent, bool | None, ReviewState], Example]
# The desirability choices of the detail view: (label, a message id; Select value, stored value).
DESIRABILITY = (
    (N_("not labelled"), "none", None),
    (N_("✓ desirable"), "desirable", True),
    (N_("✗ undesirable"), "undesirable", False),
)


def origin(example: Example) -> str:
    """Where the example came from, its review state and its language flag, in one line."""
    meta = example.meta
    # TRANSLATORS: {source} is audition, import, job 12 or playground, and {review} the review state, as typed in
    # filters.
    text = _("From {source} · {mark} {review}").format(
        source=source_label(meta.source, meta.job_id), mark=review_mark(meta.review), review=meta.review.value
    )
    if meta.language_flag:
        flag = _("{mark} language: {flag}").format(mark=FLAG_MARK, flag=meta.language_flag)
        text = f"{text} · {flag}"
    return text


def _json_list(text: str, what: str) -> list[object]:
    """`text` read as a JSON list; `what` (a message id) names the field in the error."""
    try:
        value = json.loads(text) if text.strip() else []
    except json.JSONDecodeError as exc:
        # TRANSLATORS: {reason} is the JSON parser's own English text.
        raise InvalidInput(
            _("{what} is not valid JSON: {reason} at line {line}").format(what=_(what), reason=exc.msg, line=exc.lineno)
        ) from None
    if not isinstance(value, list):
        raise InvalidInput(_("{what} must be a JSON list").format(what=_(what)))
    return value


def grounding(example: Example) -> tuple[str, int, str] | None:
    """The passage a grounded example was made from: (document, line, text), or None."""
    passage = example.meta.params.get("passage")
    if not isinstance(passage, dict):
        return None
    text = example.content.slots.get(str(passage.get("slot", "chunk")))
    if text is None:
        return None
    return str(passage.get("document", "?")), int(passage.get("line", 0) or 0), text


def _params(example: Example) -> str:
    """The generation parameters in one short line (tool definitions by name only)."""
    parts = []
    for key, value in example.meta.params.items():
        if key == "tools" and isinstance(value, list):
            names = [str(t.get("function", t).get("name", "?")) for t in value if isinstance(t, dict)]
            parts.append(f"tools: {', '.join(names)}")
        elif not isinstance(value, (dict, list)):
            parts.append(f"{key}={value}")
    return crop(" · ".join(parts), 160)


# What the copy toast says, by field (message ids).
_COPIED = {
    "d-system": N_("Copied the system prompt ({n} characters)."),
    "d-user": N_("Copied the user prompt ({n} characters)."),
    "d-turns": N_("Copied the conversation ({n} characters)."),
    "d-output": N_("Copied the answer ({n} characters)."),
    "d-passage": N_("Copied the passage ({n} characters)."),
    "d-tools": N_("Copied the tool calls ({n} characters)."),
    "d-rejected": N_("Copied the rejected answers ({n} characters)."),
    "d-reasoning": N_("Copied the reasoning ({n} characters)."),
    "d-extra": N_("Copied the kept-aside fields ({n} characters)."),
}


def _folded_title(what: str, text: str) -> str:
    """A folded field's title; `what` is a message id."""
    if text:
        return _("{what} ({n} characters)").format(what=_(what), n=f"{len(text):,}")
    return _("{what} (none)").format(what=_(what))


class ExampleDetail(Localized, ModalScreen[Example | None]):
    """Dismissed with the saved example, or None when nothing was saved."""

    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="detail.save"),
        Binding("escape", "close", N_("Close"), id="detail.close"),
        Binding("alt+c", "copy_field", N_("Copy field"), id="detail.copy_field"),
        Binding("alt+p", "open_in_playground", N_("Playground"), id="detail.playground"),
    ]

    def __init__(self, example: Example, save: Save) -> None:
        super().__init__()
        self.example = example
        self._save = save
        self._saved: Example | None = None
        self._state = ""  # "", "unsaved" or "saved": the mark after the title
        self._problem: Callable[[], str] = str  # the error line, drawn again in a new language

    def compose(self) -> ComposeResult:
        ex = self.example
        content = ex.content
        with Vertical(classes="dialog example-detail"):
            yield Label(self._title(), classes="dialog-title", id="detail-title", markup=False)
            yield PlainStatic(self._about(), classes="dim", id="d-about")
            yield PlainStatic(origin(ex), classes="dim", id="d-origin")
            grounded = grounding(ex)
            passage_slot = str(ex.meta.params["passage"].get("slot", "chunk")) if grounded else ""
            with VerticalScroll(can_focus=False):
                shown_slots = {k: v for k, v in content.slots.items() if k != passage_slot}
                if shown_slots:
                    slots = "\n".join(f"{k} = {v}" for k, v in shown_slots.items())
                    yield TLabel(N_("Slots (as filled when generated)"))
                    yield PlainStatic(slots, classes="dim")
                yield TLabel(N_("System prompt"))
                yield TextArea(content.system_prompt, id="d-system", soft_wrap=True)
                if content.turns:
                    yield TLabel(N_("Conversation before the answer ({n} messages, JSON)"), n=len(content.turns))
                    yield TextArea(
                        json.dumps(content.turns, indent=2, ensure_ascii=False), id="d-turns", language="json"
                    )
                else:
                    yield TLabel(N_("User prompt (as sent)"))
                    yield TextArea(content.user_prompt, id="d-user", soft_wrap=True)
                with Collapsible(title=_folded_title(N_("Reasoning"), content.reasoning), id="d-reasoning-fold"):
                    yield TextArea(content.reasoning, id="d-reasoning", soft_wrap=True)
                if grounded is None:
                    yield TLabel(N_("Answer"))
                    yield TextArea(content.output, id="d-output", soft_wrap=True)
                else:  # the passage beside the answer, to check one against the other
                    document, line, text = grounded
                    with Horizontal(id="d-grounded"):
                        with Vertical(classes="d-column"):
                            yield TLabel(
                                N_("Passage ({document}, line {line})"), document=crop(document, 30), line=line
                            )
                            yield TextArea(text, id="d-passage", soft_wrap=True, read_only=True)
                        with Vertical(classes="d-column"):
                            yield TLabel(N_("Answer"))
                            yield TextArea(content.output, id="d-output", soft_wrap=True)
                yield TLabel(N_("Tool calls (JSON)"))
                yield TextArea(json.dumps(content.tool_calls, indent=2, ensure_ascii=False), id="d-tools")
                yield TLabel(N_("Rejected answers (JSON list; each becomes a preference pair on export)"))
                yield TextArea(json.dumps(content.rejected, indent=2, ensure_ascii=False), id="d-rejected")
                yield TLabel(N_("Desirability (KTO: a desirable or an undesirable completion)"))
                yield Select(
                    self._desirability_options(),
                    value=next(value for _label, value, flag in DESIRABILITY if flag is ex.meta.desirability),
                    allow_blank=False,
                    compact=True,
                    id="d-desirability",
                )
                yield TLabel(N_("Review (export leaves rejected examples out)"))
                yield Select(
                    [(f"{review_mark(state)} {state.value}", state.value) for state in ReviewState],
                    value=ex.meta.review.value,
                    allow_blank=False,
                    compact=True,
                    id="d-review",
                )
                if content.extra:
                    names = ", ".join(content.extra)
                    title = _("Kept-aside fields: {names}").format(names=crop(names, 60))
                    with Collapsible(title=title, id="d-extra-fold"):
                        yield TextArea(
                            json.dumps(content.extra, indent=2, ensure_ascii=False, default=str),
                            id="d-extra",
                            language="json",
                            read_only=True,
                        )
            yield PlainStatic("", classes="error", id="d-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._labelled("save"), variant="primary", id="save", compact=True)
                yield Button(self._labelled("close"), id="close", compact=True)

    def _labelled(self, action: str) -> str:
        key = key_for(self, action)
        if action == "save":
            return _("Save ({key})").format(key=key) if key else _("Save")
        return _("Close ({key})").format(key=key) if key else _("Close")

    @staticmethod
    def _desirability_options() -> list[tuple[str, str]]:
        return [(_(label), value) for label, value, _flag in DESIRABILITY]

    def _about(self) -> str:
        ex = self.example
        return _("{model} · {prompt} → {completion} tokens · created {created} · {params}").format(
            model=ex.meta.model or _("no model"),
            prompt=ex.meta.prompt_tokens or "?",
            completion=ex.meta.completion_tokens or "?",
            created=f"{ex.created_at:%Y-%m-%d %H:%M}",
            params=_params(ex),
        )

    def _title(self) -> str:
        if self._state == "unsaved":
            return _("Example {id} • unsaved").format(id=self.example.id)
        if self._state == "saved":
            return _("Example {id} • saved").format(id=self.example.id)
        return _("Example {id}").format(id=self.example.id)

    def draw_text(self) -> None:
        self.query_one("#detail-title", Label).update(self._title())
        self.query_one("#d-about", PlainStatic).update(self._about())
        self.query_one("#d-origin", PlainStatic).update(origin(self.example))
        self.query_one("#d-error", Static).update(self._problem())
        self.query_one("#save", Button).label = self._labelled("save")
        self.query_one("#close", Button).label = self._labelled("close")
        reasoning = self.query_one("#d-reasoning-fold", Collapsible)
        reasoning.title = _folded_title(N_("Reasoning"), self.query_one("#d-reasoning", TextArea).text)
        desirability = self.query_one("#d-desirability", Select)
        chosen = desirability.value
        desirability.set_options(self._desirability_options())
        desirability.value = chosen

    def on_mount(self) -> None:
        self.query_one("#d-output", TextArea).focus()

    def action_copy_field(self) -> None:
        """The whole focused field to the clipboard (ctrl+c in a field copies only the selection)."""
        field = self.focused
        if not isinstance(field, TextArea):
            self.notify(_("Move to a field first (tab)."), severity="warning")
            return
        self.app.copy_to_clipboard(field.text)
        copied = _COPIED.get(field.id or "", N_("Copied the field ({n} characters)."))
        self.notify(_(copied).format(n=f"{len(field.text):,}"))

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text

    def edited(self) -> ExampleContent:
        content = self.example.content
        turns = content.turns
        user = content.user_prompt
        if content.turns:
            turns = [t for t in _json_list(self._text("#d-turns"), N_("The conversation")) if isinstance(t, dict)]
            users = [t for t in turns if t.get("role") == "user"]
            if not users:
                raise InvalidInput(_("The conversation needs a user message"))
            user = str(users[-1].get("content", ""))
        else:
            user = self._text("#d-user")
        calls = _json_list(self._text("#d-tools"), N_("Tool calls"))
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise InvalidInput(_("Each tool call is {shape}").format(shape='{"name": …, "arguments": {…}}'))
        rejected = _json_list(self._text("#d-rejected"), N_("Rejected answers"))
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
        return next(flag for _label, value, flag in DESIRABILITY if value == chosen)

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
        self._state = "unsaved" if self.dirty() else ""
        self.query_one("#detail-title", Label).update(self._title())

    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        error = self.query_one("#d-error", Static)
        try:
            self.example = self._save(self.example, self.edited(), self.desirability(), self.review())
        except ForgeError as exc:
            reason = str(exc)
            self._problem = lambda: _("Not saved: {reason}").format(reason=reason)
            error.update(self._problem())
            return
        self._saved = self.example
        self._problem = str
        error.update("")
        self._state = "saved"
        self.query_one("#d-origin", Static).update(origin(self.example))
        self.query_one("#detail-title", Label).update(self._title())

    def action_open_in_playground(self) -> None:
        """Continues or fixes the example (as last saved) in the Playground."""
        if self.dirty():
            unsaved = _("Save your edits ({key}) or undo them before opening the example in the Playground.")
            self.notify(unsaved.format(key=key_for(self, "save")), severity="warning")
            return
        example = self.example
        self.dismiss(self._saved)
        self.app.post_message(OpenInPlayground(example))

    @on(Button.Pressed, "#close")
    @work(group="close", exclusive=True)
    async def action_close(self) -> None:
        if not self.dirty() or await self.app.push_screen_wait(
            Confirm(_("Leave without saving your edits?"), yes=N_("Discard"), no=N_("Keep editing"))
        ):
            self.dismiss(self._saved)
