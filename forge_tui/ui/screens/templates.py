"""Templates (`t`): the list beside the editors of the chosen template. The screen wires TemplateList and
TemplateEditor to the template service and asks before unsaved edits would be dropped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input

from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import TInput
from forge_tui.ui.messages import TemplateOpened
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.template_editor import EditorKeys, TemplateEditor
from forge_tui.ui.widgets.template_list import TemplateList


class TemplatesScreen(WorkspaceScreen):
    TITLE = N_("Templates")
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save"), id="templates.save"),
        Binding("ctrl+g", "save_system", N_("Save system prompt"), id="templates.save_system"),
        Binding("f3", "insert_slot", N_("Insert slot"), id="templates.insert_slot"),
        Binding("f4", "add_slot", N_("Add slot"), id="templates.add_slot"),
        Binding("f6", "history", N_("History"), id="templates.history"),
        Binding("ctrl+f", "focus_filter", N_("Filter"), id="templates.filter", show=False),
        # Letters type in the editors; escape leaves them for the list, where keys act again.
        Binding("escape", "focus_list", N_("To the list"), id="templates.to_list", show=False),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.show_archived = False
        self._list = TemplateList(id="templates-list")

    def list_key(self, action: str) -> str:
        """The key of one of the list's actions (new, rename, …), as bound."""
        return key_for(self._list, f"screen.{action}")

    def compose(self) -> ComposeResult:
        keys = EditorKeys(self.list_key("new"), self.key("save_system"), self.key("insert_slot"), self.key("add_slot"))
        yield ForgeHeader()
        with Horizontal(id="templates-body"):
            with Vertical(id="templates-side"):
                yield TInput(placeholder=N_("filter…"), id="templates-filter", compact=True)
                yield self._list
            yield TemplateEditor(keys, id="template-editor")
        yield ForgeFooter()

    def on_mount(self) -> None:
        self.reload()
        self._list.focus()

    def help_text(self) -> str:
        """F1's text, with the keys as bound."""
        list_keys = "/".join(self.list_key(a) for a in ("new", "rename", "duplicate", "archive"))
        list_keys += "/" + "/".join(self.list_key(a) for a in ("toggle_archived", "import", "export"))
        app_keys = ", ".join(self.key(f"show_{s}") for s in ("audition", "examples", "export"))
        return _(
            "A template is a system prompt and a user prompt with {slots}. The system prompt has its own "
            "explicit save ({save_system}) and keeps the last 10 versions ({history}). "
            "Type in the filter to find a template; in the list, {list_keys} create, rename, duplicate, archive, "
            "show archived, import and export. The preview renders with each slot's default (or <slot>) as you "
            "type. In an editor, letters type; {focus_list} goes back to the list, where the app's "
            "keys ({app_keys} …) work again."
        ).format(
            slots="{{ slots }}",
            save_system=self.key("save_system"),
            history=self.key("history"),
            list_keys=list_keys,
            focus_list=self.key("focus_list"),
            app_keys=app_keys,
        )

    # --- typed access -------------------------------------------------------------------
    @property
    def editor(self) -> TemplateEditor:
        return self.query_one(TemplateEditor)

    @property
    def current(self) -> TemplateInfo | None:
        """The template in the editors, as last saved."""
        return self.editor.template

    @property
    def current_id(self) -> int | None:
        return self.current.id if self.current is not None else None

    # --- the list -----------------------------------------------------------------------
    def reload(self, select_id: int | None = None, *, reopen: bool = False) -> None:
        """Lists the templates again and opens the one highlighted. `reopen`: the template in the editors
        was replaced (made, copied, archived), so it is not kept and its edits are dropped."""
        current = None if reopen else self.current
        keep = select_id if select_id is not None else (current.id if current else None)
        search = self.query_one("#templates-filter", Input).value
        index = self._list.show(self.workspace.templates.list(include_archived=self.show_archived, search=search), keep)
        if current is not None and self.editor.unsaved_changes():
            return  # the filter hid it, but edits in progress stay in the editors
        chosen = self._list.templates[index] if index is not None else None
        if chosen is None or current is None or chosen.id != current.id:
            self._open(chosen)

    def _open(self, template: TemplateInfo | None) -> None:
        self.editor.load(template)
        if template is not None and template.id is not None:
            self.post_message(TemplateOpened(template.id))

    @on(Input.Changed, "#templates-filter")
    def _filter(self) -> None:
        self.reload()

    @on(Input.Submitted, "#templates-filter")
    def _filter_done(self) -> None:
        self._list.focus()

    @on(TemplateList.Chosen)
    def _chosen(self, event: TemplateList.Chosen) -> None:
        if self.current is not None and event.template.id == self.current.id:
            return
        if self.editor.unsaved_changes() is None:
            self._open(event.template)
        else:
            self._switch_to(event.template)

    @work(group="templates-dialog")
    async def _switch_to(self, template: TemplateInfo) -> None:
        if await self.may_drop_edits():
            self._open(template)
        elif self.current is not None:
            self._list.reselect(self.current.id)

    def action_focus_list(self) -> None:
        self._list.focus()

    def action_focus_filter(self) -> None:
        self.query_one("#templates-filter", Input).focus()

    # --- unsaved edits ------------------------------------------------------------------
    async def may_drop_edits(self) -> bool:
        """True when nothing is unsaved, or the user agrees to drop it (run from a worker)."""
        problem = self.editor.unsaved_changes()
        if problem is None:
            return True
        question = _("{problem}. Discard them?").format(problem=problem)
        return await self.app.push_screen_wait(Confirm(question, yes=_("Discard"), no=_("Keep editing")))

    def guard_unsaved(self, then: Callable[[], None]) -> None:
        """Runs `then` now, or after the user agrees to drop unsaved edits (the app asks before leaving)."""
        if self.editor.unsaved_changes() is None:
            then()
        else:
            self._guarded(then)

    @work(group="templates-dialog")
    async def _guarded(self, then: Callable[[], None]) -> None:
        if await self.may_drop_edits():
            then()

    # --- saving -------------------------------------------------------------------------
    def action_save(self) -> None:
        if self.current is not None:
            saved = self.report(N_("Not saved"), lambda: self.workspace.templates.save(self.editor.collect()))
            self._saved(saved, N_("Saved '{name}'."))

    def action_save_system(self) -> None:
        if (template_id := self.current_id) is not None:
            text = self.editor.system_text
            saved = self.report(N_("Not saved"), lambda: self.workspace.templates.save_system_prompt(template_id, text))
            self._saved(saved, N_("System prompt saved."))

    def _saved(self, saved: TemplateInfo | None, message: str) -> None:
        """`message`: a message id (N_), with {name} the template's name where it names it."""
        if saved is not None:
            self.editor.saved(saved)
            self._list.replace(saved)
            self.notify(_(message).format(name=saved.name))

    # --- slots and history ----------------------------------------------------------------
    def action_add_slot(self) -> None:
        if self.current is not None:
            self.editor.add_slot()

    def action_insert_slot(self) -> None:
        if self.current is not None:
            self.editor.insert_slot()

    def action_history(self) -> None:
        if (template_id := self.current_id) is None:
            return
        if history := self.workspace.templates.system_prompt_history(template_id):
            self.editor.choose_system_prompt(history)
        else:
            self.notify(_("No saved system prompts yet: {key} saves one.").format(key=self.key("save_system")))

    # --- list actions -------------------------------------------------------------------
    @work(group="templates-dialog")
    async def action_new(self) -> None:
        if not await self.may_drop_edits():
            return
        name = await self.app.push_screen_wait(TextPrompt(_("Name of the new template")))
        if name and (made := self.report(N_("Cannot create"), lambda: self.workspace.templates.create(name))):
            self.reload(made.id, reopen=True)
            self.editor.user_prompt.focus()

    @work(group="templates-dialog")
    async def action_rename(self) -> None:
        current = self.current
        if current is None or (template_id := current.id) is None:
            return
        name = await self.app.push_screen_wait(
            TextPrompt(_("Rename '{name}' to").format(name=current.name), value=current.name)
        )
        rename = self.workspace.templates.rename
        if (
            name
            and name != current.name
            and (renamed := self.report(N_("Cannot rename"), lambda: rename(template_id, name)))
        ):
            self.editor.saved(renamed)
            self.reload(renamed.id)

    @work(group="templates-dialog")
    async def action_duplicate(self) -> None:
        if (template_id := self.current_id) is None or not await self.may_drop_edits():
            return
        if copied := self.report(N_("Cannot duplicate"), lambda: self.workspace.templates.duplicate(template_id)):
            self.reload(copied.id, reopen=True)
            self.notify(_("Made '{name}'.").format(name=copied.name))

    def action_archive(self) -> None:
        current = self.current
        if current is None or (template_id := current.id) is None:
            return
        archive = not current.archived
        if changed := self.report(
            N_("Cannot archive"), lambda: self.workspace.templates.set_archived(template_id, archive)
        ):
            self.reload(reopen=True)
            shows = self.list_key("toggle_archived")
            if not changed.archived:
                said = _("Unarchived '{name}'.")
            elif not self.show_archived:
                said = _("Archived '{name}' ({key} shows archived templates).")
            else:
                said = _("Archived '{name}'.")
            self.notify(said.format(name=changed.name, key=shows))

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.reload()

    @work(group="templates-dialog")
    async def action_import(self) -> None:
        if not await self.may_drop_edits():
            return
        path = await self.app.push_screen_wait(TextPrompt(_("Import a template file (.toml or .json)")))
        read = self.workspace.templates.import_file
        if path and (imported := self.report(N_("Cannot import"), lambda: read(Path(path).expanduser()))):
            self.reload(imported.id, reopen=True)
            self.notify(_("Imported '{name}'.").format(name=imported.name))

    @work(group="templates-dialog")
    async def action_export(self) -> None:
        current = self.current
        if current is None or (template_id := current.id) is None:
            return
        default = f"{current.name.lower().replace(' ', '-')}.toml"
        path = await self.app.push_screen_wait(TextPrompt(_("Export to (.toml or .json)"), value=default))
        write = self.workspace.templates.export_file
        if path and (written := self.report(N_("Cannot export"), lambda: write(template_id, Path(path).expanduser()))):
            self.notify(_("Wrote {path}").format(path=written))
