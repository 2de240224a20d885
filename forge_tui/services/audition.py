"""An audition batch: paraphrase the prompt, stream one answer per variation as a card, let the user
star, edit, reject and regenerate, then store the starred cards as examples.

No Textual here: the screen and `forge-tui audition` drive the same session. The session runs on the
caller's event loop and calls `listener` (synchronously, cheaply) whenever a card or the batch changes;
the screen only marks what to repaint, so a token never waits on the UI and the UI never on a token.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from forge_tui.core.batch_defaults import DEFAULT_BATCH, DEFAULT_TEMPERATURE, MAX_BATCH
from forge_tui.core.chat import ChatMessage, ChatRequest, ToolCall, Usage
from forge_tui.core.errors import InvalidInput
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.prompt_render import render_prompts
from forge_tui.core.templates import TemplateError, TemplateInfo
from forge_tui.core.tool_checks import calls_to_json as calls_to_json  # where the screens and the CLI import it
from forge_tui.core.tool_checks import tool_call_problems
from forge_tui.core.tool_json import json_items
from forge_tui.i18n import _, ngettext
from forge_tui.llm.errors import BackendError
from forge_tui.services.examples import ExampleService
from forge_tui.services.model_client import ModelClient
from forge_tui.services.paraphrasing import paraphrases

# Each card and each regeneration gets its own seed, derived from the batch seed, so a batch can be
# repeated exactly and a regenerated answer differs from the one it replaces.
_ATTEMPT_SEED_STEP = 7919
_MAX_SEED = 2**31 - 1


class CardState(StrEnum):
    PENDING = "pending"  # waiting for its turn under the concurrency limit
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BatchState(StrEnum):
    IDLE = "idle"
    PARAPHRASING = "paraphrasing"
    GENERATING = "generating"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Preset:
    """A card asked again from a stored example (bulk regenerate): its prompt as sent, its system
    prompt, slots and earlier turns, and the answers already rejected for it."""

    prompt: str
    system_prompt: str = ""
    slots: dict[str, str] = field(default_factory=dict)
    turns: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    source_id: str | None = None  # the example it came from


@dataclass(frozen=True)
class BatchSpec:
    template: TemplateInfo
    slots: dict[str, str]
    model: str
    paraphrase_model: str | None = None  # None: every card uses the prompt as written
    batch: int = DEFAULT_BATCH
    temperature: float | None = DEFAULT_TEMPERATURE
    seed: int | None = None  # None: a random one, recorded with each example
    max_tokens: int | None = None  # None: the backend settings' max_tokens
    # Bulk regenerate: one card per preset instead of rendering the template (no paraphrasing).
    presets: tuple[Preset, ...] = ()


@dataclass
class Card:
    index: int
    variation: int  # index into AuditionSession.variations; 0 is the prompt as written
    prompt: str  # the user prompt as sent
    state: CardState = CardState.PENDING
    parts: list[str] = field(default_factory=list)
    thinking: list[str] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_problems: list[str] = field(default_factory=list)
    error: str | None = None
    usage: Usage | None = None
    # Why the answer ended, as the server said: "stop", "length" (cut by max tokens), "tool_calls"…
    finish_reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    attempt: int = 0
    seed: int | None = None
    starred: bool = False
    edited_output: str | None = None
    edited_tool_calls: list[ToolCall] | None = None
    # Rejected answers for each prompt this card has used: they pair with the kept answer to the
    # same prompt, so switching variation keeps them apart.
    rejected: dict[str, list[str]] = field(default_factory=dict)
    preset: Preset | None = None

    @property
    def output(self) -> str:
        return "".join(self.parts).strip()

    @property
    def answer(self) -> str:
        return self.edited_output if self.edited_output is not None else self.output

    @property
    def calls(self) -> list[ToolCall]:
        return self.edited_tool_calls if self.edited_tool_calls is not None else self.tool_calls

    @property
    def edited(self) -> bool:
        return self.edited_output is not None or self.edited_tool_calls is not None

    @property
    def rejected_here(self) -> list[str]:
        return self.rejected.get(self.prompt, [])

    @property
    def reasoning(self) -> str:
        """The model's thinking before the answer (a <think> block, or the server's reasoning field)."""
        return "".join(self.thinking).strip()

    def rejected_in_batch(self) -> list[tuple[str, str]]:
        """(prompt, answer) of every answer rejected on this card in this batch, oldest first per
        prompt; those a regenerated example brought along were stored with it before."""
        found = []
        for prompt, answers in self.rejected.items():
            earlier = len(self.preset.rejected) if self.preset is not None and prompt == self.preset.prompt else 0
            found += [(prompt, answer) for answer in answers[earlier:]]
        return found

    @property
    def cut_at_max_tokens(self) -> bool:
        """The answer stopped because it reached max tokens, not because the model was done."""
        return self.state is CardState.DONE and self.finish_reason == "length"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.monotonic()) - self.started_at

    @property
    def finished(self) -> bool:
        return self.state in (CardState.DONE, CardState.FAILED, CardState.CANCELLED)


def _rendered(spec: BatchSpec) -> tuple[dict[str, str], str, str]:
    """(slot values, system prompt, user prompt) of the batch. Presets bring their own per card;
    the first preset's prompt then stands for the batch."""
    if spec.presets:
        return {}, "", spec.presets[0].prompt
    rendered = render_prompts(spec.template, spec.slots)
    return rendered.slots, rendered.system_prompt, rendered.user_prompt


def presets_from(examples: Iterable[Example]) -> tuple[Preset, ...]:
    """Cards to ask again, one per stored example."""
    return tuple(
        Preset(
            prompt=e.content.user_prompt,
            system_prompt=e.content.system_prompt,
            slots=dict(e.content.slots),
            turns=list(e.content.turns),
            rejected=list(e.content.rejected),
            source_id=e.id,
        )
        for e in examples
    )


def _answer_text(card: Card) -> str:
    """What a rejected answer is kept as: its text, or its tool calls as JSON when it had no text."""
    if card.answer or not card.calls:
        return card.answer
    return json.dumps({"tool_calls": calls_to_json(card.calls)}, ensure_ascii=False)


Listener = Callable[[Card | None], None]


class AuditionSession:
    """One batch. `run()` paraphrases and streams every card; the other methods act on single cards
    while it runs or afterwards. Call `close()` (or `cancel()`) when done with it."""

    def __init__(
        self,
        backend: ModelClient,
        spec: BatchSpec,
        concurrency: int,
        listener: Listener | None = None,
    ) -> None:
        if not spec.model:
            raise InvalidInput(_("No generation model chosen — pick one in Settings (s) or in the form"))
        if not 1 <= (len(spec.presets) or spec.batch) <= MAX_BATCH:
            raise InvalidInput(_("A batch has 1 to {most} cards.").format(most=MAX_BATCH))
        self.backend = backend
        self.spec = spec
        self.listener = listener
        self.slot_values, self.system_prompt, self.original = _rendered(spec)
        self.seed = spec.seed if spec.seed is not None else random.randrange(_MAX_SEED)
        # Always sent: a model that never stops would otherwise stream until the answer's time limit.
        self.max_tokens = spec.max_tokens or backend.settings.max_tokens
        self.variations: list[str] = [self.original]
        self.cards: list[Card] = []
        self.state = BatchState.IDLE
        self.error: str | None = None
        self.paraphrase_note: str | None = None
        self._semaphore = asyncio.Semaphore(concurrency)
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._run_task: asyncio.Task[None] | None = None

    # --- the batch ----------------------------------------------------------------------
    async def run(self) -> None:
        """Paraphrase, then stream every card. Errors that stop the whole batch (the model is
        missing, the server is down while paraphrasing) end up in `error`; a card's own failure
        stays in the card."""
        self._run_task = asyncio.current_task()
        try:
            await self.backend.ensure_model(self.spec.model)
            if self.spec.paraphrase_model and self.spec.batch > 1 and not self.spec.presets:
                self._set_state(BatchState.PARAPHRASING)
                await self.backend.ensure_model(self.spec.paraphrase_model)
                self.variations = [self.original, *await self._paraphrase()]
            self._set_state(BatchState.GENERATING)
            if self.spec.presets:
                self.cards = [
                    Card(index=i, variation=0, prompt=p.prompt, rejected={p.prompt: list(p.rejected)}, preset=p)
                    for i, p in enumerate(self.spec.presets)
                ]
            else:
                self.cards = [self._new_card(i) for i in range(self.spec.batch)]
            for card in self.cards:
                self._start(card)
            await self.wait()
            if self.state is BatchState.GENERATING:
                self._set_state(BatchState.DONE)
        except BackendError as exc:
            self.error = str(exc)
            self._set_state(BatchState.FAILED)
        except asyncio.CancelledError:
            self._set_state(BatchState.CANCELLED)
            raise
        finally:
            self._run_task = None

    async def _paraphrase(self) -> list[str]:
        wanted = self.spec.batch
        assert self.spec.paraphrase_model is not None
        found = await paraphrases(
            self.backend, self.spec.paraphrase_model, self.original, wanted, self.seed, self.max_tokens
        )
        if len(found) < wanted:
            self.paraphrase_note = ngettext(
                "The paraphrase model gave {count} distinct variation of {wanted}; "
                "the rest of the cards use the prompt as written.",
                "The paraphrase model gave {count} distinct variations of {wanted}; "
                "the rest of the cards use the prompt as written.",
                len(found),
            ).format(count=len(found), wanted=wanted)
        return found

    def _new_card(self, index: int) -> Card:
        # Cards take the paraphrases in order, then the prompt as written, then repeat with new seeds.
        pool = [*range(1, len(self.variations)), 0]
        variation = pool[index % len(pool)]
        return Card(index=index, variation=variation, prompt=self.variations[variation])

    async def wait(self) -> None:
        """Until every card has finished (including regenerations started meanwhile)."""
        while True:
            pending = [t for t in self._tasks.values() if not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    @property
    def running(self) -> int:
        return sum(1 for t in self._tasks.values() if not t.done())

    async def cancel(self) -> None:
        """Stops every request in flight at once; the server sees the connections close."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        if self._run_task is not None and self._run_task is not asyncio.current_task():
            tasks.append(self._run_task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.state in (BatchState.PARAPHRASING, BatchState.GENERATING):
            self._set_state(BatchState.CANCELLED)

    async def close(self) -> None:
        await self.cancel()

    # --- one card -----------------------------------------------------------------------
    def card(self, index: int) -> Card:
        if not 0 <= index < len(self.cards):
            raise InvalidInput(_("There is no card {index}.").format(index=index + 1))
        return self.cards[index]

    def regenerate(self, index: int) -> Card:
        """Keeps a finished answer as rejected and asks again; a failed or cancelled card is retried."""
        card = self.card(index)
        if card.state is CardState.DONE and (card.answer or card.calls):
            card.rejected.setdefault(card.prompt, []).append(_answer_text(card))
        card.attempt += 1
        self._start(card)
        return card

    def use_variation(self, index: int, variation: int) -> Card:
        """Switches the card to another variation (0: the prompt as written) and regenerates. The
        answer to the old prompt is dropped, not rejected: it answered a different question."""
        if not 0 <= variation < len(self.variations):
            raise InvalidInput(_("There is no variation {variation}.").format(variation=variation))
        card = self.card(index)
        card.variation = variation
        card.prompt = self.variations[variation]
        card.attempt += 1
        self._start(card)
        return card

    def star(self, index: int, starred: bool | None = None) -> Card:
        card = self.card(index)
        if card.state is not CardState.DONE:
            raise InvalidInput(_("Only a finished answer can be starred."))
        card.starred = not card.starred if starred is None else starred
        self._changed(card)
        return card

    def edit_output(self, index: int, text: str) -> Card:
        card = self.card(index)
        if card.state is not CardState.DONE:
            raise InvalidInput(_("Wait for the answer to finish before editing it."))
        card.edited_output = None if text == card.output else text
        self._changed(card)
        return card

    def edit_tool_calls(self, index: int, text: str) -> Card:
        """Replaces the card's tool calls with JSON text (a list of {"name", "arguments"}); the calls
        must name offered tools and fit their schemas."""
        card = self.card(index)
        calls = parse_tool_calls(text)
        problems = self.tool_problems(calls)
        if problems:
            raise TemplateError("; ".join(problems))
        card.edited_tool_calls = None if calls == card.tool_calls else calls
        self._changed(card)
        return card

    def tool_problems(self, calls: list[ToolCall]) -> list[str]:
        return tool_call_problems(self.spec.template.tools, calls)

    # --- streaming ----------------------------------------------------------------------
    def _start(self, card: Card) -> None:
        old = self._tasks.get(card.index)
        if old is not None and not old.done():
            old.cancel()
        card.state = CardState.PENDING
        card.parts, card.thinking, card.tool_calls, card.tool_problems = [], [], [], []
        card.error, card.usage, card.started_at, card.finished_at = None, None, None, None
        card.finish_reason = None
        card.starred, card.edited_output, card.edited_tool_calls = False, None, None
        card.seed = (self.seed + card.index + _ATTEMPT_SEED_STEP * card.attempt) % _MAX_SEED
        self._changed(card)
        self._tasks[card.index] = asyncio.create_task(self._stream(card, old), name=f"audition-card-{card.index}")

    def request_for(self, card: Card) -> ChatRequest:
        system = card.preset.system_prompt if card.preset is not None else self.system_prompt
        messages = [ChatMessage(role="system", content=system)] if system else []
        if card.preset is not None and card.preset.turns:
            messages += [_turn_message(t) for t in card.preset.turns]
        else:
            messages.append(ChatMessage(role="user", content=card.prompt))
        template = self.spec.template
        return ChatRequest(
            model=self.spec.model,
            messages=messages,
            temperature=self.spec.temperature,
            seed=card.seed,
            max_tokens=self.max_tokens,
            tools=template.tools if template.is_tool_calling else [],
        )

    async def _stream(self, card: Card, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        request = self.request_for(card)
        try:
            async with self._semaphore:
                card.state = CardState.STREAMING
                card.started_at = time.monotonic()
                self._changed(card)
                async for chunk in self.backend.stream(request):
                    if chunk.content:
                        card.parts.append(chunk.content)
                    if chunk.thinking:
                        card.thinking.append(chunk.thinking)
                    if chunk.done:
                        card.tool_calls = chunk.tool_calls
                        card.usage = chunk.usage
                        card.finish_reason = chunk.done_reason
                    self._changed(card)
            card.tool_problems = self.tool_problems(card.tool_calls) if self.spec.template.is_tool_calling else []
            if self.spec.template.is_tool_calling and not card.tool_calls:
                card.tool_problems.append(_("the model answered without calling a tool"))
            card.state = CardState.DONE
        except BackendError as exc:
            card.state = CardState.FAILED
            card.error = str(exc)
        except asyncio.CancelledError:
            card.state = CardState.CANCELLED
            card.error = _("Cancelled")
            raise
        except Exception as exc:  # a card must never take the batch down with it
            card.state = CardState.FAILED
            card.error = _("Unexpected error: {kind}: {exc}").format(kind=type(exc).__name__, exc=exc)
        finally:
            card.finished_at = time.monotonic()
            self._changed(card)

    # --- saving -------------------------------------------------------------------------
    def starred(self) -> list[Card]:
        return [c for c in self.cards if c.starred and c.state is CardState.DONE]

    def rejected_answers(self) -> list[tuple[Card, str, str]]:
        """(card, prompt, answer) of every answer rejected in this batch (Card.rejected_in_batch)."""
        return [(card, prompt, answer) for card in self.cards for prompt, answer in card.rejected_in_batch()]

    def _params(self, variation: int) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.spec.temperature,
            "batch_seed": self.seed,
            "max_tokens": self.max_tokens,
            "variation": variation,
            "paraphrase_model": self.spec.paraphrase_model if variation else None,
            "template": self.spec.template.name,
        }
        if self.spec.template.is_tool_calling:
            params["tools"] = [t.to_openai() for t in self.spec.template.tools]
        return params

    def _content(self, card: Card, prompt: str, **fields: Any) -> ExampleContent:
        preset = card.preset
        return ExampleContent(
            system_prompt=preset.system_prompt if preset is not None else self.system_prompt,
            user_prompt=prompt,
            slots=preset.slots if preset is not None else self.slot_values,
            turns=list(preset.turns) if preset is not None else [],
            **fields,
        )

    def example_for(self, card: Card) -> tuple[ExampleContent, ExampleMeta]:
        """The card's answer as an example; a starred one is labelled desirable (KTO)."""
        usage = card.usage or Usage()
        params = self._params(card.variation) | {
            "seed": card.seed,
            "edited": card.edited,
            "tokens_estimated": usage.estimated,
        }
        content = self._content(
            card,
            card.prompt,
            output=card.answer,
            tool_calls=calls_to_json(card.calls),
            rejected=list(card.rejected_here),
            reasoning=card.reasoning,
        )
        meta = ExampleMeta(
            model=self.spec.model,
            params={k: v for k, v in params.items() if v is not None},
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            template_id=self.spec.template.id,
            desirability=True if card.starred else None,
        )
        return content, meta

    def undesirable_example(self, card: Card, prompt: str, answer: str) -> tuple[ExampleContent, ExampleMeta]:
        """A rejected answer as an example of its own, labelled undesirable (KTO)."""
        variation = self.variations.index(prompt) if prompt in self.variations else card.variation
        params = self._params(variation) | {"rejected_answer": True}
        meta = ExampleMeta(
            model=self.spec.model,
            params={k: v for k, v in params.items() if v is not None},
            template_id=self.spec.template.id,
            desirability=False,
        )
        return self._content(card, prompt, output=answer), meta

    async def add_starred(self, examples: ExampleService, dataset_id: int) -> int:
        """Writes every starred card as an example (desirable) in one transaction; then stops what is
        still streaming and clears the cards. Returns how many were added."""
        starred = self.starred()
        if not starred:
            raise InvalidInput(_("No starred cards to add: star the answers you want to keep first (space)."))
        await self._store(examples, dataset_id, [self.example_for(card) for card in starred])
        return len(starred)

    async def add_with_rejected(self, examples: ExampleService, dataset_id: int) -> tuple[int, int]:
        """As add_starred, and every answer rejected in this batch becomes an example of its own,
        labelled undesirable (KTO), all in one transaction. Returns (desirable, undesirable) added."""
        starred, rejected = self.starred(), self.rejected_answers()
        if not starred and not rejected:
            raise InvalidInput(_("Nothing to add: star the answers to keep (space) or reject answers (x) first."))
        items = [self.example_for(card) for card in starred]
        items += [self.undesirable_example(card, prompt, answer) for card, prompt, answer in rejected]
        await self._store(examples, dataset_id, items)
        return len(starred), len(rejected)

    async def _store(
        self, examples: ExampleService, dataset_id: int, items: list[tuple[ExampleContent, ExampleMeta]]
    ) -> None:
        examples.add_many(dataset_id, items)
        await self.cancel()
        self.cards = []
        self._tasks.clear()
        self._changed(None)

    # --- events -------------------------------------------------------------------------
    def _set_state(self, state: BatchState) -> None:
        self.state = state
        self._changed(None)

    def _changed(self, card: Card | None) -> None:
        if self.listener is not None:
            self.listener(card)


def _turn_message(turn: dict[str, Any]) -> ChatMessage:
    """A stored turn (core.conversation's neutral message) as a chat message to send."""
    calls = [
        ToolCall(name=c["name"], arguments=c.get("arguments", {}), id=c.get("id")) for c in turn.get("tool_calls") or []
    ]
    return ChatMessage(
        role=turn.get("role", "user"),
        content=str(turn.get("content") or ""),
        tool_calls=calls,
        tool_call_id=turn.get("tool_call_id"),
    )


def parse_tool_calls(text: str) -> list[ToolCall]:
    """Tool calls edited as JSON: a list of {"name", "arguments"} (one object is accepted too)."""
    calls = []
    for number, item in enumerate(json_items(text), start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise TemplateError(_("call {number}: a call is an object with a name and arguments").format(number=number))
        arguments = item.get("arguments", {})
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                raise TemplateError(_("call {number}: arguments are not JSON").format(number=number)) from None
        if not isinstance(arguments, dict):
            raise TemplateError(_("call {number}: arguments must be a JSON object").format(number=number))
        calls.append(ToolCall(name=item["name"], arguments=arguments, id=item.get("id")))
    return calls
