"""Templates (`t`): the list, and editors for system prompt, user prompt, slots and tools, with a live preview."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Collapsible, DataTable, Input, Label, ListItem, ListView, Static, TextArea

from forge_tui.core.chat import ToolDef
from forge_tui.core.errors import ForgeError
from forge_tui.core.sandbox import time_limit
from forge_tui.core.templates import (
    SlotDef,
    TemplateError,
    TemplateInfo,
    check_tool,
    dummy_values,
    render,
    slot_names,
    slot_warnings,
)
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.dialogs.slot_editor import SlotEditor
from forge_tui.ui.messages import TemplateOpened
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.shown import shown_cell
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.jinja_area import JinjaTextArea
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

NEW_SLOT = "\x00new"


def parse_tools(text: str) -> list[ToolDef]:
    """The tool editor's JSON: one tool object or a list of them. Raises TemplateError with the line."""
    if not text.strip():
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(exc.msg, exc.lineno) from None
    items = raw if isinstance(raw, list) else [raw]
    tools = [check_tool(item) for item in items]
    names = [t.name for t in tools]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise TemplateError(f"two tools are named '{duplicate}'")
    return tools


def preview_text(
    system: str, user: str, values: dict[str, str], seconds: float, stop: Callable[[], bool]
) -> tuple[str, bool]:
    """The preview of both prompts, or the error; (text, is an error). Runs in a worker thread."""
    try:
        with time_limit(seconds, stop):
            rendered_system = render(system, values) if system.strip() else ""
            rendered_user = render(user, values)
    except TemplateError as exc:
        return f"✗ Template error — {exc}", True
    text = f"[system]\n{rendered_system}\n\n[user]\n{rendered_user}" if rendered_system else rendered_user
    return text or "(empty)", False


def tools_text(tools: list[ToolDef]) -> str:
    return json.dumps([t.to_openai() for t in tools], indent=2) if tools else ""


class TemplateList(ListView):
    """The sidebar. Letter keys act here; in the editors they type."""

    BINDINGS = [
        Binding("n", "screen.new", "New", id="templates.new"),
        Binding("r", "screen.rename", "Rename", id="templates.rename"),
        Binding("c", "screen.duplicate", "Duplicate", id="templates.duplicate"),
        Binding("a", "screen.archive", "Archive", id="templates.archive"),
        Binding("h", "screen.toggle_archived", "Archived", id="templates.show_archived"),
        Binding("i", "screen.import", "Import", id="templates.import"),
        Binding("w", "screen.export", "Export", id="templates.export"),
    ]


class TemplatesScreen(WorkspaceScreen):
    TITLE = "Templates"
    HELP = (
        "A template is a system prompt and a user prompt with {{ slots }}. The system prompt has its own "
        "explicit save (ctrl+g) and keeps the last 10 versions (f6). Type in the filter to find a template; "
        "in the list, n/r/c/a/h/i/w create, rename, duplicate, archive, show archived, import and export. "
        "The preview renders with each slot's default (or <slot>) as you type. In an editor, letters type; "
        "escape goes back to the list, where the app's keys (g, e, x …) work again."
    )
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="templates.save"),
        Binding("ctrl+g", "save_system", "Save system prompt", id="templates.save_system"),
        Binding("f3", "insert_slot", "Insert slot", id="templates.insert_slot"),
        Binding("f4", "add_slot", "Add slot", id="templates.add_slot"),
        Binding("f6", "history", "History", id="templates.history"),
        Binding("ctrl+f", "focus_filter", "Filter", id="templates.filter", show=False),
        # Letters type in the editors; escape leaves them for the list, where keys act again.
        Binding("escape", "focus_list", "To the list", id="templates.to_list", show=False),
    ]
    # A preview that takes longer shows the limit instead (the render runs in a thread meanwhile).
    PREVIEW_SECONDS = 2.0

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.show_archived = False
        self.templates: list[TemplateInfo] = []
        self.current: TemplateInfo | None = None
        self.slots: list[SlotDef] = []
        self._loading = False

    # --- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        with Horizontal(id="templates-body"):
            with Vertical(id="templates-side"):
                yield Input(placeholder="filter…", id="templates-filter", compact=True)
                yield TemplateList(id="templates-list")
            with VerticalScroll(id="template-editor", can_focus=False):
                yield PlainStatic("", id="template-title")
                with Collapsible(title="System prompt", collapsed=True, id="system-box"):
                    yield TextArea("", id="system-prompt", soft_wrap=True)
                yield Label("User prompt ({{ slot }} placeholders; f3 inserts one)")
                yield JinjaTextArea("", id="user-prompt", soft_wrap=True)
                yield Label("Slots (f4 adds; Enter edits, Delete removes)")
                yield DataTable(id="slots-table", cursor_type="row")
                yield PlainStatic("", id="slot-warnings", classes="warning")
                yield Checkbox("Tool calling", id="tool-calling", compact=True)
                yield TextArea("", id="tools-json", soft_wrap=True)
                yield PlainStatic("", classes="error", id="tools-error")
                yield Label("Preview")
                yield PlainStatic("", id="preview")
        yield ForgeFooter()

    def on_mount(self) -> None:
        table = self.query_one("#slots-table", DataTable)
        table.add_columns("Slot", "Description", "Default", "Values")
        self.reload()
        self.query_one(TemplateList).focus()

    # --- the list ---------------------------------------------------------------------
    def reload(self, select_id: int | None = None) -> None:
        search = self.query_one("#templates-filter", Input).value
        self.templates = self.workspace.templates.list(include_archived=self.show_archived, search=search)
        keep = select_id if select_id is not None else (self.current.id if self.current else None)
        index = next((i for i, t in enumerate(self.templates) if t.id == keep), 0 if self.templates else None)
        labels = [f"{t.name}{'  (archived)' if t.archived else ''}" for t in self.templates]
        self.run_worker(self._fill_list(labels, index), group="template-list", exclusive=True)
        if self.unsaved_changes():
            return  # the filter hid it, but edits in progress stay in the editors
        if index is not None and (self.current is None or self.templates[index].id != self.current.id):
            self._load(self.templates[index])
        elif index is None:
            self._load(None)

    async def _fill_list(self, labels: list[str], index: int | None) -> None:
        # The old items must be gone before the index is set, or it would point at one of them.
        view = self.query_one(TemplateList)
        await view.clear()
        await view.extend(ListItem(PlainLabel(label)) for label in labels)
        with self.prevent(ListView.Highlighted):
            view.index = None
            view.index = index

    @on(Input.Changed, "#templates-filter")
    def _filter(self) -> None:
        self.reload()

    @on(Input.Submitted, "#templates-filter")
    def _filter_done(self) -> None:
        self.query_one(TemplateList).focus()

    @on(ListView.Highlighted, "#templates-list")
    def _highlighted(self, event: ListView.Highlighted) -> None:
        index = self.query_one(TemplateList).index
        if index is None or index >= len(self.templates):
            return
        chosen = self.templates[index]
        if self.current is not None and chosen.id == self.current.id:
            return
        self.guard_unsaved(lambda: self._load(chosen), on_cancel=self._reselect_current)

    def _reselect_current(self) -> None:
        if self.current is None:
            return
        index = next((i for i, t in enumerate(self.templates) if t.id == self.current.id), None)
        with self.prevent(ListView.Highlighted):
            self.query_one(TemplateList).index = index

    def action_focus_list(self) -> None:
        self.query_one(TemplateList).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#templates-filter", Input).focus()

    # --- loading into the editors -----------------------------------------------------
    def _load(self, template: TemplateInfo | None) -> None:
        self._loading = True
        self.current = template
        if template is not None and template.id is not None:
            self.post_message(TemplateOpened(template.id))
        self.slots = list(template.slots) if template else []
        self.query_one("#system-prompt", TextArea).load_text(template.system_prompt if template else "")
        self.query_one("#user-prompt", TextArea).load_text(template.user_prompt if template else "")
        self.query_one("#tool-calling", Checkbox).value = bool(template and template.is_tool_calling)
        self.query_one("#tools-json", TextArea).load_text(tools_text(template.tools) if template else "")
        self.query_one("#template-editor").disabled = template is None
        self._loading = False
        self._refresh_slots()
        self._refresh()

    # --- dirty state ------------------------------------------------------------------
    @property
    def system_dirty(self) -> bool:
        return self.current is not None and self._text("#system-prompt") != self.current.system_prompt

    @property
    def body_dirty(self) -> bool:
        if self.current is None:
            return False
        return (
            self._text("#user-prompt") != self.current.user_prompt
            or self.slots != self.current.slots
            or self.query_one("#tool-calling", Checkbox).value != self.current.is_tool_calling
            or self._text("#tools-json") != tools_text(self.current.tools)
        )

    def unsaved_changes(self) -> str | None:
        """What would be lost by leaving, for the app's and the list's confirmation."""
        parts = [what for what, dirty in (("system prompt", self.system_dirty), ("template", self.body_dirty)) if dirty]
        if not parts or self.current is None:
            return None
        return f"Unsaved changes to the {' and '.join(parts)} of '{self.current.name}'"

    def guard_unsaved(self, then: Callable[[], None], on_cancel: Callable[[], None] | None = None) -> None:
        """Runs `then` now, or after the user agrees to drop unsaved changes."""
        problem = self.unsaved_changes()
        if problem is None:
            then()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                then()
            elif on_cancel is not None:
                on_cancel()

        self.app.push_screen(Confirm(f"{problem}. Discard them?", yes="Discard", no="Keep editing"), answered)

    def _text(self, selector: str) -> str:
        return self.query_one(selector, TextArea).text

    # --- live refresh -----------------------------------------------------------------
    @on(TextArea.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if not self._loading:
            self._refresh()

    def _refresh(self) -> None:
        template = self.current
        title = self.query_one("#template-title", Static)
        if template is None:
            title.update("No template here yet: press n in the list to create one.")
            self.workers.cancel_group(self, "preview")
            self.query_one("#preview", Static).update("")
            return
        marks = [m for m, on in (("unsaved", self.body_dirty), ("archived", template.archived)) if on]
        title.update(f"{template.name}{'  ● ' + ', '.join(marks) if marks else ''}")
        box = self.query_one("#system-box", Collapsible)
        box.title = "System prompt  ● unsaved (ctrl+g saves)" if self.system_dirty else "System prompt"
        tool_calling = self.query_one("#tool-calling", Checkbox).value
        self.query_one("#tools-json").display = tool_calling
        tools_error = self.query_one("#tools-error", Static)
        tools_error.display = tool_calling
        if tool_calling:
            try:
                parse_tools(self._text("#tools-json"))
                tools_error.update("")
            except TemplateError as exc:
                tools_error.update(f"Tools: {exc}")
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        system, user = self._text("#system-prompt"), self._text("#user-prompt")
        warnings = self.query_one("#slot-warnings", Static)
        try:
            names = slot_names(system) + [n for n in slot_names(user) if n not in slot_names(system)]
            found = slot_warnings(system + "\n" + user, self.slots)
        except TemplateError as exc:
            self.workers.cancel_group(self, "preview")
            self._show_preview(f"✗ Template error — {exc}", error=True)
            return
        warnings.update("\n".join(f"⚠ {w}" for w in found))
        warnings.display = bool(found)
        self._render_preview(system, user, dummy_values(self.slots, names))

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
        preview = self.query_one("#preview", Static)
        preview.set_class(error, "error")
        preview.update(text)

    def _refresh_slots(self) -> None:
        table = self.query_one("#slots-table", DataTable)
        table.clear()
        for slot in self.slots:
            table.add_row(
                slot.name,
                shown_cell(slot.description),
                shown_cell(slot.default),
                str(len(slot.values) or ""),
                key=slot.name,
            )
        table.display = bool(self.slots)

    # --- saving -----------------------------------------------------------------------
    def _collect(self) -> TemplateInfo:
        assert self.current is not None
        tool_calling = self.query_one("#tool-calling", Checkbox).value
        tools = parse_tools(self._text("#tools-json")) if tool_calling else self.current.tools
        if tool_calling and not tools:
            raise TemplateError("a tool-calling template needs at least one tool")
        return self.current.model_copy(
            update={
                "user_prompt": self._text("#user-prompt"),
                "slots": list(self.slots),
                "is_tool_calling": tool_calling,
                "tools": tools,
            }
        )

    def action_save(self) -> None:
        if self.current is None:
            return
        try:
            saved = self.workspace.templates.save(self._collect())
        except ForgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._after_save(saved, f"Saved '{saved.name}'.")

    def action_save_system(self) -> None:
        if self.current is None or self.current.id is None:
            return
        try:
            saved = self.workspace.templates.save_system_prompt(self.current.id, self._text("#system-prompt"))
        except ForgeError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self._after_save(saved, "System prompt saved.")

    def _after_save(self, saved: TemplateInfo, message: str) -> None:
        # The saved part becomes the new baseline; edits to the other part stay marked as unsaved.
        self.current = saved
        self.templates = [saved if t.id == saved.id else t for t in self.templates]
        self._refresh()
        self.notify(message)

    # --- slots ------------------------------------------------------------------------
    def action_add_slot(self, then: Callable[[SlotDef], None] | None = None) -> None:
        if self.current is None:
            return

        def added(slot: SlotDef | None) -> None:
            if slot is None:
                return
            self.slots.append(slot)
            self._refresh_slots()
            self._refresh()
            if then is not None:
                then(slot)

        self.app.push_screen(SlotEditor(None, {s.name for s in self.slots}), added)

    @on(DataTable.RowSelected, "#slots-table")
    def _edit_slot(self, event: DataTable.RowSelected) -> None:
        index = event.cursor_row
        old = self.slots[index]

        def edited(slot: SlotDef | None) -> None:
            if slot is not None:
                self.slots[index] = slot
                self._refresh_slots()
                self._refresh()

        self.app.push_screen(SlotEditor(old, {s.name for s in self.slots} - {old.name}), edited)

    def on_key(self, event: Any) -> None:
        table = self.query_one("#slots-table", DataTable)
        if event.key == "delete" and table.has_focus and self.slots:
            del self.slots[table.cursor_row]
            self._refresh_slots()
            self._refresh()
            event.stop()

    def action_insert_slot(self) -> None:
        if self.current is None:
            return
        editor = self.query_one("#user-prompt", JinjaTextArea)

        def insert(slot_name: str) -> None:
            editor.insert(f"{{{{ {slot_name} }}}}")
            editor.focus()

        def picked(choice: str | None) -> None:
            if choice == NEW_SLOT:
                self.action_add_slot(then=lambda slot: insert(slot.name))
            elif choice:
                insert(choice)

        options = [(s.name, f"{s.name}  {s.description}".rstrip()) for s in self.slots]
        options.append((NEW_SLOT, "＋ a new slot…"))
        self.app.push_screen(PickOne("Insert which slot?", options), picked)

    # --- system prompt history ----------------------------------------------------------
    def action_history(self) -> None:
        if self.current is None or self.current.id is None:
            return
        history = self.workspace.templates.system_prompt_history(self.current.id)
        if not history:
            self.notify("No saved system prompts yet: ctrl+g saves one.")
            return
        options = [
            (str(i), f"{saved_at:%Y-%m-%d %H:%M}  {' '.join(text.split())[:60] or '(empty)'}")
            for i, (text, saved_at) in enumerate(history)
        ]

        def picked(choice: str | None) -> None:
            if choice is None:
                return
            box = self.query_one("#system-box", Collapsible)
            box.collapsed = False
            self.query_one("#system-prompt", TextArea).load_text(history[int(choice)][0])
            self._refresh()
            self.notify("Loaded into the editor; ctrl+g saves it as the current system prompt.")

        self.app.push_screen(PickOne("Saved system prompts, newest first", options), picked)

    # --- list actions -----------------------------------------------------------------
    def _run(self, what: str, action: Callable[[], TemplateInfo]) -> TemplateInfo | None:
        try:
            return action()
        except ForgeError as exc:
            self.notify(str(exc), title=f"Cannot {what}", severity="error")
            return None

    def action_new(self) -> None:
        def create(name: str | None) -> None:
            if name and (made := self._run("create", lambda: self.workspace.templates.create(name))):
                self.current = None
                self.reload(made.id)
                self.query_one("#user-prompt", TextArea).focus()

        def ask() -> None:
            self.app.push_screen(TextPrompt("Name of the new template"), create)

        self.guard_unsaved(ask)

    def action_rename(self) -> None:
        current = self.current
        if current is None or current.id is None:
            return
        template_id = current.id

        def rename(name: str | None) -> None:
            if name and name != current.name:
                renamed = self._run("rename", lambda: self.workspace.templates.rename(template_id, name))
                if renamed:
                    self.current = renamed
                    self.reload(renamed.id)

        self.app.push_screen(TextPrompt(f"Rename '{current.name}' to", value=current.name), rename)

    def action_duplicate(self) -> None:
        current = self.current
        if current is None or current.id is None:
            return
        template_id = current.id

        def duplicate() -> None:
            if copied := self._run("duplicate", lambda: self.workspace.templates.duplicate(template_id)):
                self.current = None
                self.reload(copied.id)
                self.notify(f"Made '{copied.name}'.")

        self.guard_unsaved(duplicate)

    def action_archive(self) -> None:
        current = self.current
        if current is None or current.id is None:
            return
        template_id = current.id
        changed = self._run("archive", lambda: self.workspace.templates.set_archived(template_id, not current.archived))
        if changed:
            self.current = None
            self.reload()
            verb = "Archived" if changed.archived else "Unarchived"
            hint = " (h shows archived templates)" if changed.archived and not self.show_archived else ""
            self.notify(f"{verb} '{changed.name}'{hint}.")

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.reload()

    def action_import(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                imported = self._run("import", lambda: self.workspace.templates.import_file(Path(path).expanduser()))
                if imported:
                    self.current = None
                    self.reload(imported.id)
                    self.notify(f"Imported '{imported.name}'.")

        def ask() -> None:
            self.app.push_screen(TextPrompt("Import a template file (.toml or .json)"), chosen)

        self.guard_unsaved(ask)

    def action_export(self) -> None:
        current = self.current
        if current is None or current.id is None:
            return
        template_id = current.id
        default = f"{current.name.lower().replace(' ', '-')}.toml"

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                written = self.workspace.templates.export_file(template_id, Path(path).expanduser())
            except ForgeError as exc:
                self.notify(str(exc), title="Cannot export", severity="error")
                return
            self.notify(f"Wrote {written}")

        self.app.push_screen(TextPrompt("Export to (.toml or .json)", value=default), chosen)
