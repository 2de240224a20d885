"""Judge jobs (kind "judge"): an LLM judge scores a dataset's examples with a rubric, as a job of the
engine (planned whole, resumable, on a pool), and acts on those below a threshold: nothing, a
reversible rejection, or an auto-fix (the answer rewritten with the judge's reason, the old answer
kept as a rejected one, the new answer judged again, once).

Items are example ids; the spec (rubric, few-shot examples, models, threshold, action) is sealed as
every job's. Each item's outcome is committed with its `done` as an update of the example
(job_runner.ExampleUpdate) and counted in the job's plain results (core.judge_counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from forge_tui.core import judge_counts as counts
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import Conflict, ForgeError, InvalidInput
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.judge_counts import Action
from forge_tui.core.judge_form import ONLY_ALL, JudgeForm
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE, Judgement
from forge_tui.core.models import Example, ReviewState
from forge_tui.core.rubrics import Rubric, builtin_rubrics
from forge_tui.i18n import _
from forge_tui.services import job_kinds
from forge_tui.services.examples import ExampleService
from forge_tui.services.job_runner import ExampleUpdate
from forge_tui.services.jobs import ItemInputs, JobPlan, Recipe
from forge_tui.services.judging import fix_answer, judge_example, judge_pair
from forge_tui.services.model_client import ModelClient

JUDGE = "judge"
EXAMPLE_KEY = "example_id"
DEFAULT_THRESHOLD = 7.0


class ExampleGone(ForgeError):
    """The example an item judges was deleted, or its row does not open."""


class JudgeSpec(BaseModel):
    """A judge job's spec as stored (sealed: the rubric and few-shot examples are content)."""

    rubric: Rubric
    model: str
    fix_model: str = ""
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=MIN_SCORE, le=MAX_SCORE)
    action: Action = Action.NONE
    few_shots: list[Example] = Field(default_factory=list)
    max_tokens: int | None = None


@dataclass(frozen=True)
class JudgeChoice:
    """What the user asked for: which examples, with which rubric and judge, and what happens below."""

    dataset_id: int
    rubric: Rubric
    model: str
    only_unreviewed: bool = True
    threshold: float = DEFAULT_THRESHOLD
    action: Action = Action.NONE
    fix_model: str = ""
    few_shots: Sequence[Example] = ()
    max_tokens: int | None = None


def judge_plan(examples: ExampleService, choice: JudgeChoice) -> JobPlan:
    """A judge job's plan: one item per example chosen (unreviewed ones, or all), in creation order."""
    if not choice.model:
        raise Conflict(_("Choose a judge model: --model, or a default judge model in Settings."))
    if not MIN_SCORE <= choice.threshold <= MAX_SCORE:
        raise Conflict(
            _("The threshold must be between {lowest:g} and {highest:g}.").format(lowest=MIN_SCORE, highest=MAX_SCORE)
        )
    wanted = ExampleFilter(review=ReviewFilter.UNREVIEWED if choice.only_unreviewed else ReviewFilter.ALL)
    ids = examples.ids(choice.dataset_id, wanted)
    spec = JudgeSpec(
        rubric=choice.rubric,
        model=choice.model,
        fix_model=choice.fix_model or choice.model,
        threshold=choice.threshold,
        action=choice.action,
        few_shots=list(choice.few_shots),
        max_tokens=choice.max_tokens,
    )
    which = "unreviewed" if choice.only_unreviewed else "all"
    if choice.only_unreviewed:
        name = _("Judge {count} unreviewed examples with {rubric}")
    else:
        name = _("Judge {count} all examples with {rubric}")
    return JobPlan(
        kind=JUDGE,
        name=clip(name.format(count=len(ids), rubric=choice.rubric.name)),
        dataset_id=choice.dataset_id,
        template_id=None,
        spec=spec.model_dump(mode="json"),
        params={
            "model": choice.model,
            "count": len(ids),
            "threshold": choice.threshold,
            "action": choice.action.value,
            "only": which,
        },
        items=[ItemInputs(idx, {EXAMPLE_KEY: example_id}, 0) for idx, example_id in enumerate(ids)],
    )


def _example_of(item: ItemInputs) -> str:
    return item.slots.get(EXAMPLE_KEY, "")


async def _produce(client: ModelClient, spec: JudgeSpec, item: ItemInputs) -> ExampleUpdate:
    example = item.example
    if example is None:
        raise ExampleGone(
            _("Example {example} was deleted or cannot be read.").format(example=clip(_example_of(item), 40))
        )
    if spec.rubric.kind == "pairwise":
        return await _pairwise(client, spec, example)
    judged = await _judge(client, spec, example)
    tally = {counts.PROCESSED: 1.0}
    if judged.score >= spec.threshold:
        return ExampleUpdate(example.id, judged, tally=tally | {counts.KEPT: 1, counts.SCORE_SUM: judged.score})
    if spec.action is Action.NONE:
        return ExampleUpdate(example.id, judged, tally=tally | {counts.BELOW: 1, counts.SCORE_SUM: judged.score})
    if spec.action is Action.REJECT:
        return ExampleUpdate(
            example.id,
            judged,
            review=ReviewState.REJECTED,
            tally=tally | {counts.REMOVED: 1, counts.SCORE_SUM: judged.score},
        )
    fixed_output = await fix_answer(client, example, judged, spec.fix_model or spec.model)
    content = example.content.model_copy(
        update={"output": fixed_output, "rejected": [*example.content.rejected, example.content.output]}
    )
    again = await _judge(client, spec, example.model_copy(update={"content": content}))
    outcome = counts.FIXED if again.score >= spec.threshold else counts.STILL_LOW
    return ExampleUpdate(example.id, again, content=content, tally=tally | {outcome: 1, counts.SCORE_SUM: again.score})


async def _pairwise(client: ModelClient, spec: JudgeSpec, example: Example) -> ExampleUpdate:
    """The pairwise rubric on a preference pair: the answer (a) against its first rejected answer (b).
    When b is the better one the two change places, so the pair's chosen side is the better answer."""
    content = example.content
    if not content.rejected:
        return ExampleUpdate(example.id, tally={counts.PROCESSED: 1, counts.UNPAIRED: 1})
    judged = await judge_pair(
        client, spec.rubric, example, content.output, content.rejected[0], spec.model, max_tokens=spec.max_tokens
    )
    tally = {counts.PROCESSED: 1.0, counts.SCORE_SUM: judged.score}
    if judged.verdict != "b":
        return ExampleUpdate(example.id, judged, tally=tally | {counts.KEPT: 1})
    swapped = content.model_copy(
        update={"output": content.rejected[0], "rejected": [content.output, *content.rejected[1:]]}
    )
    return ExampleUpdate(example.id, judged, content=swapped, tally=tally | {counts.SWAPPED: 1})


async def _judge(client: ModelClient, spec: JudgeSpec, example: Example) -> Judgement:
    return await judge_example(client, spec.rubric, example, spec.model, spec.few_shots, max_tokens=spec.max_tokens)


def _load(stored: dict[str, Any]) -> JudgeSpec:
    return JudgeSpec.model_validate(stored)


JUDGE_RECIPE: Recipe[JudgeSpec] = Recipe(load=_load, produce=_produce, example_of=_example_of)

job_kinds.register(JUDGE, JUDGE_RECIPE)


def choice_from_form(form: JudgeForm, dataset_id: int) -> JudgeChoice:
    """What the Jobs screen's dialog asks for; raises InvalidInput naming a bad field."""
    rubric = builtin_rubrics().get(form.rubric)
    if rubric is None:
        raise InvalidInput(_("No rubric named '{rubric}'.").format(rubric=clip(form.rubric, 60)))
    if not form.model.strip():
        raise InvalidInput(_("Choose a judge model."))
    return JudgeChoice(
        dataset_id=dataset_id,
        rubric=rubric,
        model=form.model.strip(),
        only_unreviewed=form.only != ONLY_ALL,
        threshold=form.threshold_value(),
        action=form.action_value(),
        fix_model=form.fix_model.strip(),
    )
