"""A side-by-side audition: the same prompts go to two models (each an endpoint and a model), their answers
stream as two columns of cards, row by row, and the user picks the better answer of each row.

A pick is saved at once as a preference example: the better answer accepted (chosen, desirable), the other
as its rejected alternative, source `compare`, both models recorded in its params. A row may be shown
swapped (blind comparison: which model is on the left is drawn per row), so picks are stored by model,
never by column. Each side is an AuditionSession over the same presets and seed, so the two models get the
very same requests but for the model's name.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from forge_tui.core.errors import InvalidInput
from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource
from forge_tui.core.prompt_render import render_prompts
from forge_tui.i18n import _
from forge_tui.llm.errors import BackendError
from forge_tui.services.audition import (
    AuditionSession,
    BatchSpec,
    BatchState,
    Card,
    CardState,
    Listener,
    Preset,
)
from forge_tui.services.examples import ExampleService
from forge_tui.services.model_client import ModelClient
from forge_tui.services.paraphrasing import paraphrases

_MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Contender:
    """One side of a comparison: a model on an endpoint (None: the endpoint Settings chose, or the pool)."""

    model: str
    endpoint: str | None = None

    @property
    def label(self) -> str:
        return f"{self.endpoint}/{self.model}" if self.endpoint else self.model


class Pick(StrEnum):
    """What the user chose on a row, by column as shown."""

    LEFT = "left"
    RIGHT = "right"
    NEITHER = "neither"


@dataclass
class Row:
    """Row `index`: card `index` of both sides. `swapped`: side B is shown on the left."""

    index: int
    swapped: bool = False
    winner: int | None = None  # 0 (side A), 1 (side B); None with no pick or both rejected
    picked: bool = False  # a pick was made (the label of a blind row is shown from then on)
    example_id: str | None = None  # the preference example saved for the pick


@dataclass(frozen=True)
class Tally:
    wins: tuple[int, int]
    neither: int

    @property
    def picked(self) -> int:
        return sum(self.wins) + self.neither


@dataclass
class Shown:
    """A row as it is drawn: the left and right cards with their contenders."""

    row: Row
    left: Card
    right: Card
    left_contender: Contender
    right_contender: Contender
    sides: tuple[int, int] = field(default=(0, 1))  # which side is shown left, which right
    blind: bool = False  # the columns' models stay unnamed until the row is picked


class ComparisonSession:
    """One comparison batch. `run()` renders (and paraphrases, with side A's server) once, then streams
    both sides; `pick()` saves a row's verdict. Call `close()` when done with it."""

    def __init__(
        self,
        clients: tuple[ModelClient, ModelClient],
        contenders: tuple[Contender, Contender],
        spec: BatchSpec,
        concurrency: int,
        listener: Listener | None = None,
        blind: bool = False,
    ) -> None:
        if not contenders[0].model or not contenders[1].model:
            raise InvalidInput(_("Choose both models to compare."))
        if contenders[0] == contenders[1]:
            raise InvalidInput(_("Choose two different models to compare (or one model on two endpoints)."))
        self.clients = clients
        self.contenders = contenders
        self.spec = spec
        self.concurrency = concurrency
        self.listener = listener
        self.blind = blind
        self.seed = spec.seed if spec.seed is not None else random.randrange(_MAX_SEED)
        # Made only to check the batch (its size, the template's slots) before anything is sent.
        AuditionSession(clients[0], replace(spec, model=contenders[0].model), concurrency)
        self.sides: tuple[AuditionSession, AuditionSession] | None = None
        self.rows: list[Row] = []
        self.state = BatchState.IDLE
        self.error: str | None = None
        self._run_task: asyncio.Task[None] | None = None
        self._picking = asyncio.Lock()  # two quick picks of a row must not both save an example

    # --- the batch ----------------------------------------------------------------------
    async def run(self) -> None:
        self._run_task = asyncio.current_task()
        try:
            for client, contender in zip(self.clients, self.contenders, strict=True):
                await client.ensure_model(contender.model)
            presets = await self._presets()
            self.sides = (self._side(0, presets), self._side(1, presets))
            draw = random.Random(self.seed)
            self.rows = [Row(i, swapped=self.blind and draw.random() < 0.5) for i in range(len(presets))]
            self._set_state(BatchState.GENERATING)
            await asyncio.gather(*(side.run() for side in self.sides))
            failed = [s for s in self.sides if s.state is BatchState.FAILED]
            if failed:
                self.error = failed[0].error
                self._set_state(BatchState.FAILED)
            elif self.state is BatchState.GENERATING:
                self._set_state(BatchState.DONE)
        except BackendError as exc:
            self.error = str(exc)
            self._set_state(BatchState.FAILED)
        except asyncio.CancelledError:
            self._set_state(BatchState.CANCELLED)
            raise
        finally:
            self._run_task = None

    async def _presets(self) -> tuple[Preset, ...]:
        """The prompts both sides are asked: the stored ones of a regenerate, else the template's, with
        paraphrased variations when a paraphrase model is set."""
        spec = self.spec
        if spec.presets:
            return spec.presets
        rendered = render_prompts(spec.template, spec.slots)
        variations = [rendered.user_prompt]
        if spec.paraphrase_model and spec.batch > 1:
            self._set_state(BatchState.PARAPHRASING)
            client = self.clients[0]
            await client.ensure_model(spec.paraphrase_model)
            max_tokens = spec.max_tokens or client.settings.max_tokens
            variations += await paraphrases(
                client, spec.paraphrase_model, rendered.user_prompt, spec.batch, self.seed, max_tokens
            )
        order = [*range(1, len(variations)), 0]  # the paraphrases first, then the prompt as written
        return tuple(
            Preset(
                prompt=variations[order[i % len(order)]],
                system_prompt=rendered.system_prompt,
                slots=rendered.slots,
            )
            for i in range(spec.batch)
        )

    def _side(self, side: int, presets: tuple[Preset, ...]) -> AuditionSession:
        spec = replace(
            self.spec, model=self.contenders[side].model, presets=presets, paraphrase_model=None, seed=self.seed
        )
        return AuditionSession(self.clients[side], spec, self.concurrency, self.listener)

    @property
    def running(self) -> bool:
        return self._run_task is not None or any(s.running for s in self.sides or ())

    async def cancel(self) -> None:
        if self._run_task is not None and self._run_task is not asyncio.current_task():
            self._run_task.cancel()
            await asyncio.gather(self._run_task, return_exceptions=True)
        await asyncio.gather(*(side.cancel() for side in self.sides or ()))
        if self.state in (BatchState.PARAPHRASING, BatchState.GENERATING):
            self._set_state(BatchState.CANCELLED)

    async def close(self) -> None:
        await self.cancel()

    # --- rows ---------------------------------------------------------------------------
    @property
    def ready(self) -> int:
        """How many rows can be shown: both sides have made their cards (each does once its model answered)."""
        if self.sides is None:
            return 0
        return min(len(self.rows), *(len(side.cards) for side in self.sides))

    def shown(self, index: int) -> Shown:
        if self.sides is None or not 0 <= index < self.ready:
            raise InvalidInput(_("There is no row {index}.").format(index=index + 1))
        row = self.rows[index]
        left, right = (1, 0) if row.swapped else (0, 1)
        return Shown(
            row,
            self.sides[left].cards[index],
            self.sides[right].cards[index],
            self.contenders[left],
            self.contenders[right],
            (left, right),
            self.blind,
        )

    def retry(self, index: int) -> int:
        """Asks again for the row's failed or cancelled answers; returns how many."""
        shown = self.shown(index)
        retried = 0
        for side, card in zip(shown.sides, (shown.left, shown.right), strict=True):
            if card.state in (CardState.FAILED, CardState.CANCELLED) and self.sides is not None:
                self.sides[side].regenerate(index)
                retried += 1
        return retried

    def tally(self) -> Tally:
        wins = [0, 0]
        neither = 0
        for row in self.rows:
            if row.picked and row.winner is None:
                neither += 1
            elif row.winner is not None:
                wins[row.winner] += 1
        return Tally((wins[0], wins[1]), neither)

    async def pick(self, examples: ExampleService, dataset_id: int, index: int, pick: Pick) -> Row:
        """Saves the row's verdict. The better answer becomes an example (accepted, desirable) with the
        other answer as its rejected alternative; picking "neither" saves nothing. A row picked before
        has its earlier example replaced."""
        async with self._picking:
            return await self._pick(examples, dataset_id, index, pick)

    async def _pick(self, examples: ExampleService, dataset_id: int, index: int, pick: Pick) -> Row:
        shown = self.shown(index)
        if shown.left.state is not CardState.DONE or shown.right.state is not CardState.DONE:
            raise InvalidInput(_("Wait for both answers of the row to finish before picking one."))
        row = shown.row
        winner: int | None = None
        if pick is Pick.LEFT:
            winner = shown.sides[0]
        elif pick is Pick.RIGHT:
            winner = shown.sides[1]
        new_id = None
        if winner is not None:
            content, meta = self.example_for(index, winner)
            [new_id] = await asyncio.to_thread(examples.add_many, dataset_id, [(content, meta)])
        if row.example_id is not None:
            await asyncio.to_thread(examples.delete, dataset_id, [row.example_id])
        row.winner, row.picked, row.example_id = winner, True, new_id
        self._changed(None)
        return row

    def example_for(self, index: int, winner: int) -> tuple[ExampleContent, ExampleMeta]:
        """Row `index` as a preference example: side `winner`'s answer chosen, the other's rejected."""
        assert self.sides is not None
        better, worse = self.sides[winner].cards[index], self.sides[1 - winner].cards[index]
        chosen, rejected = self.sides[winner].example_for(better)
        other, _meta = self.sides[1 - winner].example_for(worse)
        content = chosen.model_copy(update={"rejected": [other.output or _tool_text(other)]})
        params: dict[str, Any] = {
            **rejected.params,
            "compare": {
                "chosen_model": self.contenders[winner].model,
                "chosen_endpoint": self.contenders[winner].endpoint,
                "rejected_model": self.contenders[1 - winner].model,
                "rejected_endpoint": self.contenders[1 - winner].endpoint,
                "blind": self.blind,
            },
        }
        meta = rejected.model_copy(update={"params": params, "source": ExampleSource.COMPARE, "desirability": True})
        return content, meta

    # --- events -------------------------------------------------------------------------
    def _set_state(self, state: BatchState) -> None:
        self.state = state
        self._changed(None)

    def _changed(self, card: Card | None) -> None:
        if self.listener is not None:
            self.listener(card)


def same_model(one: str, other: str) -> bool:
    """Whether two names mean one Ollama model ("llama3.2" is "llama3.2:latest")."""

    def full(name: str) -> str:
        return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

    return full(one) == full(other)


def _tool_text(content: ExampleContent) -> str:
    """A rejected answer that was only tool calls, kept as Audition keeps one: the calls as JSON."""
    return json.dumps({"tool_calls": content.tool_calls}, ensure_ascii=False) if content.tool_calls else ""
