"""The editors of one template (system prompt, user prompt, slots, tools) with a live preview.

The editor holds the template as last saved (`template`) and tells what differs from it: the system
prompt has a save of its own, so its changes are tracked apart from the rest. Saving is the screen's
business; it hands the saved template back through `saved()`."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Collapsible, Static, TextArea

from forge_tui.core.template_preview import preview_text
from forge_tui.core.templates import TemplateError, TemplateInfo, dummy_values, slot_names, slot_warnings
from forge_tui.core.tool_json import parse_tools, tools_text
from forge_tui.i18n import N_, _
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.widgets.jinja_area import JinjaTextArea
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic
from forge_tui.ui.widgets.slot_table import SlotTable
from forge_tui.ui.wrap import cut

NEW_SLOT = "\x00new"


@dataclass(frozen=True)
class EditorKeys:
    """The keys the editor's hints name, as bound on its screen."""

    new_template: str
    save_system: str
    insert_slot: str
    add_slot: str


class TemplateEditor(Localized, VerticalScroll, can_focus=False):
    # A preview that takes longer shows the limit instead (the render runs in a thread meanwhile).
    PREVIEW_SECONDS = 2.0

    def __init__(self, keys: EditorKeys, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys = keys
        self.template: TemplateInfo | None = None
        self._loading = False
        self._drawn = False

    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="template-title")
        with Collapsible(title=_("System prompt"), collapsed=True, id="system-box"):
            yield TextArea("", id="system-prompt", soft_wrap=True)
        yield PlainLabel("", id="user-prompt-label")
        yield JinjaTextArea("", id="user-prompt", soft_wrap=True)
        yield PlainLabel("", id="slots-label")
        yield SlotTable(id="slots-table")
        yield PlainStatic("", id="slot-warnings", classes="warning")
        yield Checkbox(_("Tool calling"), id="tool-calling", compact=True)
        yield TextArea("", id="tools-json", soft_wrap=True)
        yield PlainStatic("", classes="error", id="tools-error")
        yield TLabel(N_("Preview"))
        yield PlainStatic("", id="preview")

    def on_mount(self) -> None:
        self.load(None)

    def draw_text(self) -> None:
        """The labels with the keys as bound; after a language switch the title and marks too (the
        edits stay)."""
        table = self.slot_table
        edit, remove = key_for(table, "select_cursor"), key_for(table, "remove_slot")
        self.query_one("#user-prompt-label", PlainLabel).update(
            _("User prompt ({placeholder} placeholders; {key} inserts one)").format(
                placeholder="{{ slot }}", key=self.keys.insert_slot
            )
        )
        self.query_one("#slots-label", PlainLabel).update(
            _("Slots ({add} adds; {edit} edits, {remove} removes)").format(
                add=self.keys.add_slot, edit=edit, remove=remove
            )
        )
        self.query_one("#tool-calling", Checkbox).label = _("Tool calling")
        if self._drawn:
            self._refresh()
        self._drawn = True

    # --- typed access to the parts ------------------------------------------------------
    @property
    def slot_table(self) -> SlotTable:
        return self.query_one(SlotTable)

    @property
    def user_prompt(self) -> JinjaTextArea:
        return self.query_one("#user-prompt", JinjaTextArea)

    @property
    def system_text(self) -> str:
        return self._text("#system-prompt")

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text

    @property
    def _tool_calling(self) -> bool:
        return self.query_one("#tool-calling", Checkbox).value

    # --- loading and saving ---------------------------------------------------------------
    def load(self, template: TemplateInfo | None) -> None:
        """Shows `template` (or nothing), dropping any edits."""
        self._loading = True
        self.template = template
        self.slot_table.show(template.slots if template else [])
        self.query_one("#system-prompt", TextArea).load_text(template.system_prompt if template else "")
        self.user_prompt.load_text(template.user_prompt if template else "")
        self.query_one("#tool-calling", Checkbox).value = bool(template and template.is_tool_calling)
        self.query_one("#tools-json", TextArea).load_text(tools_text(template.tools) if template else "")
        self.disabled = template is None
        self._loading = False
        self._refresh()

    def saved(self, template: TemplateInfo) -> None:
        """What was saved becomes the baseline; edits to the part not saved stay marked as unsaved."""
        self.template = template
        self._refresh()

    def collect(self) -> TemplateInfo:
        """The template with the edits of everything but the system prompt. Raises TemplateError."""
        assert self.template is not None
        tools = parse_tools(self._text("#tools-json")) if self._tool_calling else self.template.tools
        if self._tool_calling and not tools:
            raise TemplateError(_("a tool-calling template needs at least one tool"))
        return self.template.model_copy(
            update={
                "user_prompt": self._text("#user-prompt"),
                "slots": list(self.slot_table.slots),
                "is_tool_calling": self._tool_calling,
                "tools": tools,
            }
        )

    @work(exclusive=True, group="system-history")
    async def choose_system_prompt(self, history: list[tuple[str, datetime]]) -> None:
        """Offers the saved system prompts (newest first); the one chosen goes into the editor, unsaved."""
        options = [
            (str(i), f"{saved_at:%Y-%m-%d %H:%M}  {cut(' '.join(text.split()), 60, '') or _('(empty)')}")
            for i, (text, saved_at) in enumerate(history)
        ]
        choice = await self.app.push_screen_wait(PickOne(_("Saved system prompts, newest first"), options))
        if choice is None:
            return
        self.query_one("#system-box", Collapsible).collapsed = False
        self.query_one("#system-prompt", TextArea).load_text(history[int(choice)][0])
        self._refresh()
        self.notify(
            _("Loaded into the editor; {key} saves it as the current system prompt.").format(key=self.keys.save_system)
        )

    # --- dirty state ------------------------------------------------------------------------
    @property
    def system_dirty(self) -> bool:
        return self.template is not None and self.system_text != self.template.system_prompt

    @property
    def body_dirty(self) -> bool:
        template = self.template
        if template is None:
            return False
        return (
            self._text("#user-prompt") != template.user_prompt
            or self.slot_table.slots != template.slots
            or self._tool_calling != template.is_tool_calling
            or self._text("#tools-json") != tools_text(template.tools)
        )

    def unsaved_changes(self) -> str | None:
        """What would be lost by leaving, as the start of a question; None when nothing would."""
        if self.template is None:
            return None
        name = self.template.name
        if self.system_dirty and self.body_dirty:
            return _("Unsaved changes to the system prompt and template of '{name}'").format(name=name)
        if self.system_dirty:
            return _("Unsaved changes to the system prompt of '{name}'").format(name=name)
        if self.body_dirty:
            return _("Unsaved changes to the template of '{name}'").format(name=name)
        return None

    # --- slots --------------------------------------------------------------------------------
    @work(exclusive=True, group="slot-dialog")
    async def add_slot(self) -> None:
        await self.slot_table.add()

    @work(exclusive=True, group="slot-dialog")
    async def insert_slot(self) -> None:
        """Asks which slot (or a new one) and puts `{{ slot }}` at the cursor of the user prompt."""
        options = [(s.name, f"{s.name}  {s.description}".rstrip()) for s in self.slot_table.slots]
        options.append((NEW_SLOT, _("＋ a new slot…")))
        choice = await self.app.push_screen_wait(PickOne(_("Insert which slot?"), options))
        if choice == NEW_SLOT:
            slot = await self.slot_table.add()
            choice = slot.name if slot is not None else None
        if choice:
            self.user_prompt.insert(f"{{{{ {choice} }}}}")
            self.user_prompt.focus()

    # --- live refresh -------------------------------------------------------------------------
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    @on(SlotTable.Changed)
    def _changed(self) -> None:
        if not self._loading:
            self._refresh()

    def _refresh(self) -> None:
        template = self.template
        title = self.query_one("#template-title", Static)
        if template is None:
            title.update(
                _("No template here yet: press {key} in the list to create one.").format(key=self.keys.new_template)
            )
            self.workers.cancel_group(self, "preview")
            self.query_one("#preview", Static).update("")
            return
        marks = [_(m) for m, shown in ((N_("unsaved"), self.body_dirty), (N_("archived"), template.archived)) if shown]
        title.update(f"{template.name}{'  ● ' + ', '.join(marks) if marks else ''}")
        system_title = (
            _("System prompt  ● unsaved ({key} saves)").format(key=self.keys.save_system)
            if self.system_dirty
            else _("System prompt")
        )
        self.query_one("#system-box", Collapsible).title = system_title
        self.query_one("#tools-json").display = self._tool_calling
        tools_error = self.query_one("#tools-error", Static)
        tools_error.display = self._tool_calling
        if self._tool_calling:
            try:
                parse_tools(self._text("#tools-json"))
                tools_error.update("")
            except TemplateError as exc:
                tools_error.update(_("Tools: {error}").format(error=exc))
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        system, user, slots = self.system_text, self._text("#user-prompt"), self.slot_table.slots
        warnings = self.query_one("#slot-warnings", Static)
        try:
            names = slot_names(system) + [n for n in slot_names(user) if n not in slot_names(system)]
            found = slot_warnings(system + "\n" + user, slots)
        except TemplateError as exc:
            self.workers.cancel_group(self, "preview")
            self._show_preview(_("✗ Template error — {error}").format(error=exc), error=True)
            return
        warnings.update("\n".join(f"⚠ {w}" for w in found))
        warnings.display = bool(found)
        self._render_preview(system, user, dummy_values(slots, names))

    @work(exclusive=True, group="preview")
    async def _render_preview(self, system: str, user: str, values: dict[str, str]) -> None:
        """Renders off the UI thread, so a slow template cannot freeze the screen; a newer preview
        (or leaving the app) stops this one."""
        stop = threading.Event()
        try:
            text, error = await asyncio.to_thread(preview_text, system, user, values, self.PREVIEW_SECONDS, stop.is_set)
        except asyncio.CancelledError:
            stop.set()
            raise
        self._show_preview(text, error)

    def _show_preview(self, text: str, error: bool) -> None:
        # A render that ends after the editor was taken down (the screen left, the app closing) has
        # nowhere to show: a query for #preview would fail in the worker and end the app.
        found = self.query("#preview").results(Static)
        preview = next(found, None)
        if preview is None:
            return
        preview.set_class(error, "error")
        preview.update(text)
