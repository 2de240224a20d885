"""The Playground: one conversation with one model, streamed turn by turn, that becomes an example.

No Textual here. The screen drives a `Playground` on its own event loop and repaints when `listener`
is called (synchronously, once per streamed piece). Turns are the neutral messages of
core.conversation; an assistant turn also keeps the answers branched away from it (`rejected`).

Saved, the conversation is one multi-turn example (source playground, accepted): the last answer's
rejected alternatives are its `rejected` (preference pairs against the same conversation), and an
earlier answer's stay in that turn under "rejected" (kept, but not written by the preference formats,
whose prompt is the whole conversation before the last answer).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.batch_defaults import DEFAULT_TEMPERATURE
from forge_tui.core.chat import ChatMessage, ChatRequest, ToolCall, ToolDef, Usage
from forge_tui.core.conversation import ConversationError, Message, conversation, from_conversation
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import ForgeError, InvalidInput, NotFound
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.tool_checks import calls_to_json
from forge_tui.i18n import _
from forge_tui.llm.errors import BackendError
from forge_tui.services.audition import parse_tool_calls
from forge_tui.services.backends import BackendService
from forge_tui.services.endpoints import configured, server_settings
from forge_tui.services.examples import ExampleService
from forge_tui.services.model_client import ModelClient

TurnRole = Literal["user", "assistant", "tool"]


@dataclass
class Turn:
    role: TurnRole
    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str = ""  # a tool result: the tool that answered
    rejected: list[str] = field(default_factory=list)  # an answer: those branched away from it, oldest first
    streaming: bool = False
    error: str | None = None
    usage: Usage | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def as_text(self) -> str:
        """The turn as one text: its content, then its tool calls as JSON (what copy and branch keep)."""
        if not self.tool_calls:
            return self.content
        calls = json.dumps(calls_to_json(self.tool_calls), ensure_ascii=False)
        return f"{self.content}\n{calls}" if self.content else calls

    def message(self) -> Message:
        """The turn as core.conversation's neutral message."""
        message: Message = {"role": self.role, "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = calls_to_json(self.tool_calls)
        if self.thinking:
            message["reasoning"] = self.thinking
        if self.role == "tool":
            if self.name:
                message["name"] = self.name
            if self.tool_call_id:
                message["tool_call_id"] = self.tool_call_id
        return message

    def chat_message(self) -> ChatMessage:
        return ChatMessage(
            role=self.role, content=self.content, tool_calls=list(self.tool_calls), tool_call_id=self.tool_call_id
        )


@dataclass
class ChatOptions:
    model: str
    system_prompt: str = ""
    temperature: float | None = DEFAULT_TEMPERATURE
    seed: int | None = None  # None: the server's own
    tools: list[ToolDef] = field(default_factory=list)
    template_id: int | None = None  # the template the tools came from
    template_name: str = ""


@dataclass(frozen=True)
class Saved:
    example_id: str
    updated: bool  # True: the example the conversation was opened from was changed in place


class Playground:
    def __init__(self, options: ChatOptions, listener: Callable[[], None] | None = None) -> None:
        self.options = options
        self.listener = listener
        self.turns: list[Turn] = []
        # The example this conversation was opened from or last saved as: saving again updates it.
        self.example_id: str | None = None
        self.dataset_id: int | None = None
        self.slots: dict[str, str] = {}
        self.extra: dict[str, Any] = {}
        self.unsaved = False  # changed since it was opened or last saved

    # --- reading --------------------------------------------------------------------------------
    @property
    def streaming(self) -> bool:
        return any(t.streaming for t in self.turns)

    def pending_call(self) -> ToolCall | None:
        """The first tool call of the last answer that no tool result after it answers yet."""
        for index in range(len(self.turns) - 1, -1, -1):
            turn = self.turns[index]
            if turn.role == "assistant":
                answered = sum(1 for t in self.turns[index + 1 :] if t.role == "tool")
                return turn.tool_calls[answered] if answered < len(turn.tool_calls) else None
            if turn.role == "user":
                return None
        return None

    def wants_answer(self) -> bool:
        """True when the model speaks next: after a user message, or once every tool call is answered."""
        live = [t for t in self.turns if not t.failed]
        return bool(live) and live[-1].role != "assistant" and self.pending_call() is None

    def messages(self) -> list[Message]:
        """The conversation as neutral messages, the system prompt first; failed answers left out."""
        messages: list[Message] = []
        if self.options.system_prompt:
            messages.append({"role": "system", "content": self.options.system_prompt})
        return messages + [t.message() for t in self.turns if not t.failed]

    # --- changes --------------------------------------------------------------------------------
    def say(self, text: str) -> Turn:
        """The user's message, or the answer of the tool call waiting for one (a tool result)."""
        if self.streaming:
            raise InvalidInput(_("Wait for the answer to finish, or stop it first."))
        if not text.strip():
            raise InvalidInput(_("Type a message first."))
        self._drop_failed()
        call = self.pending_call()
        if call is not None:
            turn = Turn(role="tool", content=text, tool_call_id=call.id, name=call.name)
        else:
            turn = Turn(role="user", content=text)
        self.turns.append(turn)
        self._changed()
        return turn

    async def reply(self, client: ModelClient, rejected: list[str] | None = None) -> Turn:
        """Streams the model's next answer into a new turn. A failure stays in the turn as its error; the
        next reply takes its place and, unless given others, its rejected alternatives."""
        if rejected is None:
            rejected = [text for t in self.turns if t.failed for text in t.rejected]
        self._drop_failed()
        if not self.wants_answer():
            raise InvalidInput(_("There is nothing for the model to answer: type a message first."))
        if not self.options.model.strip():
            raise InvalidInput(_("Choose a model in the chat's options first (or a generation model in Settings)."))
        request = self.request(client.settings.max_tokens)
        turn = Turn(role="assistant", streaming=True, rejected=list(rejected))
        self.turns.append(turn)
        self._changed()
        parts: list[str] = []
        thinking: list[str] = []
        try:
            async for chunk in client.stream(request):
                if chunk.content:
                    parts.append(chunk.content)
                if chunk.thinking:
                    thinking.append(chunk.thinking)
                turn.content, turn.thinking = "".join(parts).lstrip(), "".join(thinking).strip()
                if chunk.done:
                    turn.tool_calls = list(chunk.tool_calls)
                    turn.usage = chunk.usage
                self._changed()
        except BackendError as exc:
            turn.error = str(exc)
        except asyncio.CancelledError:
            turn.error = _("Stopped before the answer was complete.")
            raise
        finally:
            turn.streaming = False
            turn.content = turn.content.strip()
            self._changed()
        return turn

    def request(self, max_tokens: int | None = None) -> ChatRequest:
        options = self.options
        system = [ChatMessage(role="system", content=options.system_prompt)] if options.system_prompt else []
        return ChatRequest(
            model=options.model,
            messages=system + [t.chat_message() for t in self.turns if not t.failed],
            temperature=options.temperature,
            seed=options.seed,
            max_tokens=max_tokens,
            tools=list(options.tools),
        )

    def edit(self, index: int, text: str, calls_text: str | None = None) -> bool:
        """Changes a turn. A user message or tool result changes what follows, so the turns after it go
        and True says the model should answer again; an answer is fixed in place (False)."""
        turn = self._turn(index)
        if turn.role == "assistant":
            calls = parse_tool_calls(calls_text) if calls_text is not None else turn.tool_calls
            turn.content, turn.tool_calls, turn.error = text.strip(), calls, None
            self._changed()
            return False
        if not text.strip():
            raise InvalidInput(_("A message cannot be empty."))
        turn.content = text
        del self.turns[index + 1 :]
        self._changed()
        return self.wants_answer()

    def branch(self, index: int) -> list[str]:
        """Takes back the answer at `index` and what followed it; returns its rejected alternatives with
        the old answer added, for `reply` to carry (the old answer becomes a rejected alternative)."""
        turn = self._turn(index)
        if turn.role != "assistant":
            raise InvalidInput(_("Branch on an answer of the model, not on a message."))
        rejected = list(turn.rejected)
        if not turn.failed and (text := turn.as_text()):
            rejected.append(text)
        del self.turns[index:]
        self._changed()
        return rejected

    def use_tools(self, tools: list[ToolDef], template_id: int | None, template_name: str) -> None:
        self.options.tools, self.options.template_id, self.options.template_name = tools, template_id, template_name
        self._changed()

    def _turn(self, index: int) -> Turn:
        if self.streaming:
            raise InvalidInput(_("Wait for the answer to finish, or stop it first."))
        if not 0 <= index < len(self.turns):
            raise InvalidInput(_("There is no turn {n}.").format(n=index + 1))
        return self.turns[index]

    def _drop_failed(self) -> None:
        self.turns = [t for t in self.turns if not t.failed]

    def _changed(self) -> None:
        self.unsaved = True
        if self.listener is not None:
            self.listener()

    # --- the example ----------------------------------------------------------------------------
    def example(self) -> tuple[ExampleContent, ExampleMeta]:
        """The conversation as one example; raises InvalidInput when it does not end with an answer."""
        if self.streaming:
            raise InvalidInput(_("Wait for the answer to finish, or stop it first."))
        live = [t for t in self.turns if not t.failed]
        if not live or live[-1].role != "assistant":
            raise InvalidInput(_("The conversation does not end with an answer of the model yet."))
        messages = self.messages()
        for message, turn in zip(messages[-len(live) : -1], live[:-1], strict=True):
            if turn.rejected:
                message["rejected"] = list(turn.rejected)
        try:
            content = from_conversation(messages, rejected=live[-1].rejected, slots=self.slots)
        except ConversationError as exc:
            raise InvalidInput(_("This conversation cannot be an example: {reason}.").format(reason=exc)) from None
        content = content.model_copy(update={"extra": dict(self.extra)})
        options = self.options
        params: dict[str, Any] = {"temperature": options.temperature, "seed": options.seed}
        if options.tools:
            params["tools"] = [t.to_openai() for t in options.tools]
        if options.template_name:
            params["template"] = options.template_name
        usage = live[-1].usage or Usage()
        meta = ExampleMeta(
            model=options.model,
            params={k: v for k, v in params.items() if v is not None},
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            template_id=options.template_id,
            desirability=True,
            source=ExampleSource.PLAYGROUND,
            review=ReviewState.ACCEPTED,
        )
        return content, meta

    def save(self, examples: ExampleService, dataset_id: int) -> Saved:
        """Updates the example the conversation came from (or was saved as) when it is in `dataset_id`
        and still there, so fixing an example does not leave the old one beside it; else adds a new
        example. Either way it is accepted, and a later save updates it."""
        content, meta = self.example()
        if self.example_id is not None and self.dataset_id == dataset_id:
            try:
                old = examples.get(self.example_id)
            except NotFound:
                old = None
            if old is not None:
                examples.replace(old, content, _made_now(old.meta, meta))
                self.unsaved = False
                return Saved(old.id, updated=True)
        self.example_id, self.dataset_id = examples.add(dataset_id, content, meta), dataset_id
        self.unsaved = False
        return Saved(self.example_id, updated=False)

    @classmethod
    def from_example(
        cls, example: Example, default_model: str, listener: Callable[[], None] | None = None
    ) -> Playground:
        """A conversation that continues `example`: its system prompt, turns and answer, the answer's
        rejected alternatives, and the model, temperature, seed and tools it was made with."""
        params = example.meta.params
        temperature = params.get("temperature")
        seed = params.get("seed")
        options = ChatOptions(
            model=example.meta.model or default_model,
            system_prompt=example.content.system_prompt,
            temperature=float(temperature) if isinstance(temperature, int | float) else DEFAULT_TEMPERATURE,
            seed=seed if isinstance(seed, int) else None,
            tools=_tools(params.get("tools")),
            template_id=example.meta.template_id,
            template_name=str(params.get("template") or ""),
        )
        playground = cls(options, listener)
        playground.turns = [_turn(m) for m in conversation(example.content)[1 if options.system_prompt else 0 :]]
        last = playground.turns[-1]
        last.rejected = list(example.content.rejected)
        if not (last.content or last.tool_calls or last.rejected):
            playground.turns.pop()  # an example without an answer yet: the model may give one
        playground.example_id, playground.dataset_id = example.id, example.dataset_id
        playground.slots, playground.extra = dict(example.content.slots), dict(example.content.extra)
        return playground


# The parameters the Playground sets; an example's others (an audition's variation, say) stay.
_CHAT_PARAMS = ("temperature", "seed", "tools", "template")


def _made_now(before: ExampleMeta, now: ExampleMeta) -> ExampleMeta:
    params = {k: v for k, v in before.params.items() if k not in _CHAT_PARAMS} | now.params
    return now.model_copy(update={"params": params, "template_id": now.template_id or before.template_id})


async def model_names(settings: BackendSettings) -> list[str]:
    """Every model the configured endpoints serve, each asked at once (one that does not answer gives
    the names it listed when last asked), without repeats, in order."""

    async def ask(endpoint: Endpoint) -> list[str]:
        asking = server_settings(settings, endpoint).model_copy(update={"max_retries": 0})
        try:
            async with BackendService(asking) as service:
                return [m.name for m in await service.models()]
        except ForgeError:
            return list(endpoint.models)

    found = await asyncio.gather(*(ask(e) for e in configured(settings)))
    return list(dict.fromkeys(name for names in found for name in names))


def _turn(message: Message) -> Turn:
    role = message.get("role")
    calls = [
        ToolCall(name=str(c.get("name", "")), arguments=_arguments(c.get("arguments")), id=c.get("id"))
        for c in message.get("tool_calls") or []
        if isinstance(c, dict)
    ]
    rejected = message.get("rejected")
    return Turn(
        role=role if role in ("user", "assistant", "tool") else "user",
        content=str(message.get("content") or ""),
        thinking=str(message.get("reasoning") or ""),
        tool_calls=calls,
        tool_call_id=message.get("tool_call_id"),
        name=str(message.get("name") or ""),
        rejected=[str(r) for r in rejected] if isinstance(rejected, list) else [],
    )


def _arguments(found: object) -> dict[str, Any]:
    """A call's arguments as an object (an imported call may keep them as JSON text)."""
    if isinstance(found, str):
        try:
            found = json.loads(found)
        except json.JSONDecodeError:
            return {}
    return dict(found) if isinstance(found, dict) else {}


def _tools(found: object) -> list[ToolDef]:
    """Tools as an example's params keep them (OpenAI's function shape); anything else is left out."""
    tools = []
    for item in found if isinstance(found, list) else []:
        function = item.get("function") if isinstance(item, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            tools.append(
                ToolDef(
                    name=function["name"],
                    description=str(function.get("description") or ""),
                    parameters=parameters if isinstance(parameters, dict) else {"type": "object", "properties": {}},
                )
            )
    return tools
