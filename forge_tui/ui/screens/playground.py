"""Playground (`p`): chat with a model, branch, and save the conversation as one example.

The conversation (services.playground) does the work; ConversationView shows its turns. The app
installs this screen once per workspace, so a conversation (and an answer streaming) outlives a
visit to another screen. An example opened here from Examples (StartFromExample) is continued, and
saving updates it.
"""

from __future__ import annotations

import json
from dataclasses import replace

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import ForgeError
from forge_tui.core.tool_checks import calls_to_json
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.endpoint_pool import open_client
from forge_tui.services.model_client import ModelClient
from forge_tui.services.playground import ChatOptions, Playground, model_names
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.chat_options import ChatOptionsDialog
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.help_texts import playground_help
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized
from forge_tui.ui.messages import StartFromExample
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.conversation import ChatStatus, ConversationView, TurnView
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader


class PlaygroundScreen(Localized, WorkspaceScreen):
    TITLE = N_("Playground")
    BINDINGS = [
        Binding("ctrl+s", "save", N_("Save as example"), id="playground.save"),
        Binding("ctrl+o", "options", N_("Options"), id="playground.options"),
        Binding("ctrl+t", "tools", N_("Tools"), id="playground.tools"),
        Binding("ctrl+n", "new_chat", N_("New chat"), id="playground.new"),
        Binding("escape", "stop", N_("Stop"), id="playground.stop"),
        Binding("up", "turn(-1)", N_("Last turn"), show=False, id="playground.last_turn"),
    ]

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self.chat = self._new_chat()
        self._client: ModelClient | None = None
        self._client_for_key: tuple[BackendSettings, str] | None = None
        self._models: list[str] = []  # what the endpoints serve, suggested in the options

    def _new_chat(self) -> Playground:
        model = self.workspace.settings.backend().generation_model or ""
        return Playground(ChatOptions(model=model), self._changed)

    def help_text(self) -> str:
        return playground_help(self.key, TurnView.key, key_for(self.message_field, "submit"))

    # --- layout -----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield ChatStatus(id="playground-status")
        yield ConversationView(id="playground-turns")
        yield Input(id="playground-input")
        yield ForgeFooter()

    @property
    def conversation(self) -> ConversationView:
        return self.query_one(ConversationView)

    @property
    def message_field(self) -> Input:
        return self.query_one("#playground-input", Input)

    def on_mount(self) -> None:
        self.message_field.focus()
        self._changed()
        self._load_models()

    @work(exclusive=True, group="playground-models")
    async def _load_models(self) -> None:
        self._models = await model_names(self.workspace.settings.backend())
        if not self.chat.options.model and self._models:
            # Settings names no generation model: a chat with the first one served beats a refusal.
            self.chat.options = replace(self.chat.options, model=self._models[0])
            self.draw_text()

    def draw_text(self) -> None:
        self.query_one(ChatStatus).show(self.chat, self.key("options"))
        call = self.chat.pending_call()
        send = key_for(self.message_field, "submit")
        self.message_field.placeholder = (
            _("The result of {tool}, as the tool would answer — {key} sends").format(tool=call.name, key=send)
            if call is not None
            else _("Message — {key} sends").format(key=send)
        )

    def _changed(self) -> None:
        if self.is_mounted:
            self.conversation.show(self.chat.turns)
            self.draw_text()

    # --- talking ----------------------------------------------------------------------
    @on(Input.Submitted, "#playground-input")
    def _send(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip() and self.chat.wants_answer() and not self.chat.streaming:
            self._reply()  # an answer that failed: Enter asks again
            return
        if self.report(N_("Cannot send"), lambda: self.chat.say(text), severity="warning") is None:
            return
        self.message_field.value = ""
        if self.chat.wants_answer():
            self._reply()

    @work(exclusive=True, group="playground-reply")
    async def _reply(self, rejected: list[str] | None = None) -> None:
        chat = self.chat
        try:
            client = self._client_for(chat.options.model)
            await chat.reply(client, rejected)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot ask the model"), severity="warning")

    def _client_for(self, model: str) -> ModelClient:
        """The endpoint chosen in Settings, or the pool of those serving `model`."""
        settings = self.workspace.settings.backend()
        if self._client is None or self._client_for_key != (settings, model):
            remember = self.workspace.settings.remember_structured_output
            old, self._client = self._client, open_client(settings, model, settings.endpoint, remember)
            self._client_for_key = (settings, model)
            if old is not None:
                self.run_worker(old.aclose(), group="playground-close")
        return self._client

    def action_stop(self) -> None:
        if self.chat.streaming:
            self.workers.cancel_group(self, "playground-reply")
            self.notify(_("Stopped the answer."))

    # --- turn keys --------------------------------------------------------------------
    def _focused_index(self) -> int | None:
        focused = self.focused
        return focused.index if isinstance(focused, TurnView) else None

    def action_turn(self, step: int) -> None:
        index = self._focused_index()
        target = len(self.chat.turns) - 1 if index is None else index + step
        if not self.conversation.focus_turn(target) and index is not None and step > 0:
            self.message_field.focus()

    @work(group="playground-dialog")
    async def action_edit(self) -> None:
        index = self._focused_index()
        if index is None or index >= len(self.chat.turns):
            return
        turn = self.chat.turns[index]
        calls = None
        if turn.role == "assistant" and (turn.tool_calls or self.chat.options.tools):
            calls = json.dumps(calls_to_json(turn.tool_calls), indent=2, ensure_ascii=False)
        asks: list[bool] = []

        def apply(text: str, calls_text: str | None) -> None:
            asks.append(self.chat.edit(index, text, calls_text))

        await self.app.push_screen_wait(CardEditor(_("Edit turn {n}").format(n=index + 1), turn.content, calls, apply))
        if asks and asks[0]:
            self._reply()
            self.message_field.focus()

    def action_branch(self) -> None:
        index = self._focused_index()
        if index is None:
            return
        rejected = self.report(N_("Cannot branch"), lambda: self.chat.branch(index), severity="warning")
        if rejected is not None:
            self._reply(rejected)
            self.message_field.focus()

    def action_copy(self) -> None:
        index = self._focused_index()
        if index is not None and index < len(self.chat.turns):
            text = self.chat.turns[index].as_text()
            self.app.copy_to_clipboard(text)
            self.notify(_("Copied turn {n} ({count} characters).").format(n=index + 1, count=len(text)))

    # --- the conversation -------------------------------------------------------------
    def action_save(self) -> None:
        dataset = self.workspace.datasets.current()
        if dataset is None:
            none = _("There is no current dataset: make one on the Datasets screen ({key}).")
            self.notify(none.format(key=self.key("show_datasets")), severity="warning")
            return
        saved = self.report(
            N_("Cannot save the conversation"), lambda: self.chat.save(self.workspace.examples, dataset.id)
        )
        if saved is None:
            return
        if saved.updated:
            done = _("Updated example {id} in '{dataset}'.")
        else:
            done = _("Saved the conversation as example {id} in '{dataset}'.")
        self.notify(done.format(id=saved.example_id[:8], dataset=dataset.name))
        self.draw_text()

    @work(group="playground-dialog")
    async def action_options(self) -> None:
        options = await self.app.push_screen_wait(ChatOptionsDialog(self.chat.options, self._models))
        if options is not None:
            self.chat.options = options
            self.draw_text()

    @work(group="playground-dialog")
    async def action_tools(self) -> None:
        templates = self.report(N_("Cannot list the templates"), self.workspace.templates.list) or []
        with_tools = [t for t in templates if t.tools]
        choices = [("none", _("No tools"))] + [
            (
                str(t.id),
                ngettext("{name} ({n} tool)", "{name} ({n} tools)", len(t.tools)).format(name=t.name, n=len(t.tools)),
            )
            for t in with_tools
        ]
        choice = await self.app.push_screen_wait(PickOne(_("Offer the tools of which template?"), choices))
        if choice is None:
            return
        template = next((t for t in with_tools if str(t.id) == choice), None)
        if template is None:
            self.chat.use_tools([], None, "")
        else:
            self.chat.use_tools(list(template.tools), template.id, template.name)

    @work(group="playground-dialog")
    async def action_new_chat(self) -> None:
        if await self._may_replace():
            self._replace(self._new_chat())

    @work(group="playground-dialog")
    async def on_start_from_example(self, message: StartFromExample) -> None:
        if await self._may_replace():
            model = self.workspace.settings.backend().generation_model or ""
            self._replace(Playground.from_example(message.example, model, self._changed))
            self.notify(_("Continue the conversation; saving updates this example."))

    async def _may_replace(self) -> bool:
        chat = self.chat
        if not (chat.turns and chat.unsaved):
            return True
        question = _("The conversation is not saved. Leave it and start another?")
        confirm = Confirm(question, yes=_("Leave it"), no=_("Keep it"))
        answer: bool = await self.app.push_screen_wait(confirm)
        return answer

    def _replace(self, chat: Playground) -> None:
        self.workers.cancel_group(self, "playground-reply")
        self.chat = chat
        self._changed()
        self.message_field.focus()
