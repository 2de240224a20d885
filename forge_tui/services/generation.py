"""What one item of a generation job produces: render the template with the item's slots, optionally
paraphrase the prompt, then ask the model for the kind of example the job makes.

A failure that belongs to the item (a template that does not render with its values, an empty
answer, a tool call that is still invalid after one retry) is ItemFailed, recorded with the item; a
transport failure (BackendError) propagates, for the job engine to retry with backoff.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from forge_tui.core import language as languages
from forge_tui.core.chat import ChatMessage, ChatRequest, ChatResult
from forge_tui.core.conversation import Message, answer_message
from forge_tui.core.errors import ForgeError
from forge_tui.core.generation import MAX_SEED, ExampleKind, GenerationSpec, ItemFailed, PlannedItem, SourceType
from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.prompt_render import render_prompts
from forge_tui.core.templates import TemplateError
from forge_tui.core.tool_checks import calls_to_json, tool_call_problems
from forge_tui.i18n import _
from forge_tui.services.model_client import ModelClient
from forge_tui.services.paraphrasing import paraphrases

# Seeds of the other requests an item makes, derived from its own so that a rerun asks the same.
_SECOND_ANSWER_SEED = 104_729
_TOOL_RETRY_SEED = 7919
_USER_TURN_SEED = 15_485_863

USER_SIMULATOR = (
    "You play the user in a conversation with an AI assistant. Given the conversation so far, write the "
    "user's next message: a natural follow-up question or request that builds on the last answer. "
    "Reply with that message only, without a label or quotes."
)


@dataclass
class GeneratedExample:
    content: ExampleContent
    meta: ExampleMeta
    finish_reason: str | None  # of the answer kept: "length" when max tokens cut it


@dataclass
class _Answers:
    """The requests of one item, for its token counts and finish reason."""

    results: list[ChatResult] = field(default_factory=list)

    def add(self, result: ChatResult) -> ChatResult:
        self.results.append(result)
        return result

    def tokens(self, kind: str) -> int | None:
        counts = [getattr(r.usage, kind) for r in self.results]
        return sum(c for c in counts if c is not None) if any(c is not None for c in counts) else None

    @property
    def estimated(self) -> bool:
        return any(r.usage.estimated for r in self.results)


async def generate_item(backend: ModelClient, spec: GenerationSpec, item: PlannedItem) -> GeneratedExample:
    try:
        rendered = render_prompts(spec.template, item.slots)
    except TemplateError as exc:
        raise ItemFailed(
            _("The template cannot be rendered with this item's values: {problem}").format(problem=exc)
        ) from None
    system_prompt = languages.with_instruction(rendered.system_prompt, spec.language)
    prompt = rendered.user_prompt
    params: dict[str, Any] = {
        "kind": spec.kind.value,
        "temperature": spec.temperature,
        "seed": item.seed,
        "max_tokens": spec.max_tokens,
        "template": spec.template.name,
        "item": item.idx,
        "language": spec.language,
    }
    for name, source in spec.sources.items():
        passage = source.passage_of(item.slots, name) if source.type is SourceType.PASSAGES else None
        if passage is not None:  # which chunk the example was grounded in (sealed with the parameters)
            params["passage"] = {**passage.reference(), "slot": name}
    if spec.paraphrase_model:
        found = await paraphrases(backend, spec.paraphrase_model, prompt, 1, item.seed, spec.max_tokens)
        if found:
            prompt = found[0]
            params["paraphrase_model"] = spec.paraphrase_model
    answers = _Answers()
    base = ExampleContent(system_prompt=system_prompt, user_prompt=prompt, slots=rendered.slots)
    if spec.kind is ExampleKind.MULTI_TURN:
        content, last = await _conversation(backend, spec, item, base, answers)
        params["turns"] = spec.turns
    elif spec.kind is ExampleKind.PREFERENCE:
        content, last = await _preference(backend, spec, item, base, answers)
        params["second_model"] = spec.second_model
        params["second_temperature"] = spec.second_temperature
    elif spec.kind is ExampleKind.TOOL_CALLING:
        content, last, retried = await _tool_calls(backend, spec, item, base, answers)
        params["tool_retry"] = retried or None
    else:
        result = answers.add(await backend.complete(_request(spec, base, item.seed)))
        content, last = base.model_copy(update=_answer_fields(result)), result
    if spec.template.is_tool_calling and spec.kind in (ExampleKind.SINGLE, ExampleKind.TOOL_CALLING):
        params["tools"] = [t.to_openai() for t in spec.template.tools]
    if not content.output.strip() and not content.tool_calls:
        raise ItemFailed(_("The model gave an empty answer."))
    params["tokens_estimated"] = answers.estimated or None
    meta = ExampleMeta(
        model=spec.model,
        params={k: v for k, v in params.items() if v is not None},
        prompt_tokens=answers.tokens("prompt_tokens"),
        completion_tokens=answers.tokens("completion_tokens"),
        template_id=spec.template.id,
        source=ExampleSource.JOB,
        review=ReviewState.UNREVIEWED,
        language_flag=_flag(content, spec.language),
    )
    cut = any(r.done_reason == "length" for r in answers.results)
    return GeneratedExample(content=content, meta=meta, finish_reason="length" if cut else last.done_reason)


def _request(
    spec: GenerationSpec,
    content: ExampleContent,
    seed: int,
    *,
    model: str | None = None,
    temperature: float | None = None,
    history: list[Message] | None = None,
) -> ChatRequest:
    messages = [ChatMessage(role="system", content=content.system_prompt)] if content.system_prompt else []
    if history:
        messages += [_chat_message(m) for m in history]
    else:
        messages.append(ChatMessage(role="user", content=content.user_prompt))
    offer_tools = spec.template.is_tool_calling and spec.kind in (ExampleKind.SINGLE, ExampleKind.TOOL_CALLING)
    return ChatRequest(
        model=model or spec.model,
        messages=messages,
        temperature=spec.temperature if temperature is None else temperature,
        seed=seed % MAX_SEED,
        max_tokens=spec.max_tokens,
        tools=spec.template.tools if offer_tools else [],
    )


def _answer_fields(result: ChatResult) -> dict[str, Any]:
    return {"output": result.content, "tool_calls": calls_to_json(result.tool_calls), "reasoning": result.thinking}


def _chat_message(message: Message) -> ChatMessage:
    return ChatMessage(role=message["role"], content=str(message.get("content") or ""))


async def _preference(
    backend: ModelClient, spec: GenerationSpec, item: PlannedItem, base: ExampleContent, answers: _Answers
) -> tuple[ExampleContent, ChatResult]:
    """Two answers to one prompt: the first is kept as the output (chosen until a judge or a person
    decides), the second as rejected."""
    first = answers.add(await backend.complete(_request(spec, base, item.seed)))
    second_request = _request(
        spec,
        base,
        item.seed + _SECOND_ANSWER_SEED,
        model=spec.second_model,
        temperature=spec.second_temperature,
    )
    second = answers.add(await backend.complete(second_request))
    if not second.content.strip():
        raise ItemFailed(_("The second model gave an empty answer."))
    fields = _answer_fields(first) | {"rejected": [second.content]}
    return base.model_copy(update=fields), first


async def _tool_calls(
    backend: ModelClient, spec: GenerationSpec, item: PlannedItem, base: ExampleContent, answers: _Answers
) -> tuple[ExampleContent, ChatResult, bool]:
    """An answer whose tool calls fit the tools' schemas; an invalid one is asked again once."""
    problems: list[str] = []
    for attempt in range(2):
        result = answers.add(await backend.complete(_request(spec, base, item.seed + _TOOL_RETRY_SEED * attempt)))
        if not result.tool_calls:
            problems = [_("the model answered without calling a tool")]
            continue
        problems = tool_call_problems(spec.template.tools, result.tool_calls)
        if not problems:
            return base.model_copy(update=_answer_fields(result)), result, attempt > 0
    raise ItemFailed(_("Tool call invalid after a retry: {problems}.").format(problems="; ".join(problems)))


async def _conversation(
    backend: ModelClient, spec: GenerationSpec, item: PlannedItem, base: ExampleContent, answers: _Answers
) -> tuple[ExampleContent, ChatResult]:
    """`spec.turns` user messages, each answered: the first is the item's prompt, each later one is
    written by the model playing the user. Kept as an imported conversation is: every message but the
    last answer in `turns`, which ends with the last user message that `user_prompt` repeats."""
    history: list[Message] = [{"role": "user", "content": base.user_prompt}]
    result = answers.add(await backend.complete(_request(spec, base, item.seed, history=history)))
    for turn in range(1, spec.turns):
        history.append(answer_message(result.content, [], result.thinking))
        asked = answers.add(await backend.complete(_user_turn_request(spec, history, item.seed + turn)))
        user_message = asked.content.strip()
        if not user_message:
            raise ItemFailed(_("The model playing the user wrote nothing for turn {turn}.").format(turn=turn + 1))
        history.append({"role": "user", "content": user_message})
        seed = item.seed + turn * _USER_TURN_SEED
        result = answers.add(await backend.complete(_request(spec, base, seed, history=history)))
    fields = _answer_fields(result) | {"turns": history, "user_prompt": history[-1]["content"]}
    return base.model_copy(update=fields), result


def _user_turn_request(spec: GenerationSpec, history: list[Message], seed: int) -> ChatRequest:
    transcript = "\n\n".join(f"{m['role'].capitalize()}: {m['content']}" for m in history)
    system = languages.with_instruction(USER_SIMULATOR, spec.language)
    return ChatRequest(
        model=spec.model,
        messages=[
            ChatMessage(role="system", content=system),
            ChatMessage(role="user", content=f"The conversation so far:\n\n{transcript}\n\nThe user's next message:"),
        ],
        temperature=spec.temperature,
        seed=(seed * _USER_TURN_SEED) % MAX_SEED,
        max_tokens=spec.max_tokens,
    )


def _flag(content: ExampleContent, language: str | None) -> str | None:
    answers = [content.output, *content.rejected]
    answers += [str(t.get("content") or "") for t in content.turns if t.get("role") == "assistant"]
    try:
        return languages.language_flag("\n".join(a for a in answers if a), language)
    except ForgeError as exc:  # OpenCC missing: the item is kept from the job, with the reason
        raise ItemFailed(str(exc)) from None
