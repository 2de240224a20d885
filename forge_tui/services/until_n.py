"""Generation jobs that keep going until N examples pass ("until N pass").

The plan is the attempts cap (GenerationSpec.planned_count items, sealed like any plan). Each item's
example is judged as it is made and checked against the passing ones for near-duplicates; one that
passes is stored `unreviewed`, one that fails `rejected` (kept, counted), each with its judgement.
The decision and the count happen on the event loop without an await between them, so concurrent
items never pass more than N. With quotas, an item whose weighted slot value already has its share
of N passing examples is skipped. Once N passed (counted in the database, so a resume continues the
count), every remaining item is done without an example and the job ends done; a job that used up
its attempts first fails with the count.

JUDGE-CORE (`services.judging.judge_example`, `core.rubrics.builtin_rubrics`) and DEDUP
(`core.dedup.NearDuplicateIndex`) are found by name when a job first needs them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from forge_tui.core.bounded_text import clip
from forge_tui.core.dedup import NearDuplicateIndex
from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import GenerationSpec, PlannedItem, quota_shares
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.rubrics import builtin_rubrics
from forge_tui.i18n import _
from forge_tui.services.generation import generate_item
from forge_tui.services.job_runner import JudgedExample, NoExample, Produced, RunContext
from forge_tui.services.judging import judge_example
from forge_tui.services.model_client import ModelClient
from forge_tui.store import job_targets
from forge_tui.store.jobs import ItemInputs


class DuplicateIndex(Protocol):
    def add(self, key: str, text: str) -> list[tuple[str, float]]: ...


@dataclass
class TargetRun:
    """One run of a job with a target: the spec and what has passed so far."""

    spec: GenerationSpec
    passed: int = 0
    per_value: dict[str, Counter[str]] = field(default_factory=dict)
    shares: dict[str, dict[str, int]] = field(default_factory=dict)
    index: DuplicateIndex | None = None

    @property
    def target(self) -> int | None:
        """None: inline judging, every planned item is made and judged."""
        return self.spec.target_accepted

    def full(self, slots: dict[str, str]) -> bool:
        """Whether the target is met, or one of the item's slot values has its share already."""
        if self.target is None:
            return False
        if self.passed >= self.target:
            return True
        return any(
            self.per_value.get(name, Counter())[slots.get(name, "")] >= share.get(slots.get(name, ""), 0)
            for name, share in self.shares.items()
        )

    def count(self, slots: dict[str, str]) -> None:
        self.passed += 1
        for name in self.shares:
            self.per_value.setdefault(name, Counter())[slots.get(name, "")] += 1


def start(spec: GenerationSpec) -> TargetRun:
    run = TargetRun(spec=spec, shares=quota_shares(spec))
    if spec.dedup_threshold is not None:
        run.index = NearDuplicateIndex(threshold=spec.dedup_threshold)
    return run


def dedup_text(content: ExampleContent) -> str:
    return content.output


def prepare(run: TargetRun, context: RunContext) -> None:
    """The count, the quotas' counts and the dedup index, from the job's passing examples."""
    run.passed = 0
    run.per_value = {}
    if run.index is not None:
        run.index = start(run.spec).index
    for found in job_targets.passed(context.conn, context.job_id, context.example_cipher, context.item_cipher):
        run.count(found.slots)
        if run.index is not None:
            run.index.add(str(found.idx), dedup_text(found.example.content))


def target_met(run: TargetRun, context: RunContext) -> bool:
    return run.target is not None and job_targets.passed_count(context.conn, context.job_id) >= run.target


def shortfall(run: TargetRun, context: RunContext) -> str | None:
    if run.target is None:
        return None
    passed = job_targets.passed_count(context.conn, context.job_id)
    if passed >= run.target:
        return None
    return _(
        "{passed} of {target} passed after {attempts} attempts: the judge threshold or dedup may be too strict."
    ).format(passed=passed, target=run.target, attempts=run.spec.planned_count)


async def produce(client: ModelClient, run: TargetRun, item: ItemInputs) -> Produced:
    if run.full(item.slots):
        return NoExample()
    made = await generate_item(client, run.spec, PlannedItem(idx=item.idx, slots=item.slots, seed=item.seed))
    judgement = await judge(client, run.spec, item, made.content, made.meta) if run.spec.judge else None
    # From here to the count nothing awaits, so no other item passes meanwhile.
    if run.full(item.slots):
        return NoExample()
    passes = judgement is None or run.spec.judge is None or judgement.score >= run.spec.judge.threshold
    if passes and run.index is not None and run.index.add(str(item.idx), dedup_text(made.content)):
        passes = False
    if passes:
        run.count(item.slots)
    return JudgedExample(made.content, made.meta, judgement, passes)


async def judge(
    client: ModelClient, spec: GenerationSpec, item: ItemInputs, content: ExampleContent, meta: ExampleMeta
) -> Judgement:
    assert spec.judge is not None
    rubrics = builtin_rubrics()
    rubric = rubrics.get(spec.judge.rubric)
    if rubric is None:
        raise InvalidInput(
            _("No rubric named '{rubric}': choose one of {names}.").format(
                rubric=clip(spec.judge.rubric), names=", ".join(sorted(rubrics))
            )
        )
    now = datetime.now(UTC)
    example = Example(
        id=f"item-{item.idx}", dataset_id=spec.dataset_id, content=content, meta=meta, created_at=now, updated_at=now
    )
    return await judge_example(client, rubric, example, spec.judge.model)
