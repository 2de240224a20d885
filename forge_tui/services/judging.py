"""Asking a judge model about examples: judging one example with a rubric (few-shot examples a person
kept or turned down first), choosing between two answers, rewriting an answer from a judge's reason,
and how well the stored scores agree with the person's own decisions (calibration).

Transport errors (BackendError) propagate: the job engine retries them. An answer that gives no
judgement to trust, or a rubric that does not render for an example, is a JudgeFailed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forge_tui.core import calibration
from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.judge_output import parse_judgement
from forge_tui.core.judging import JudgeFailed, Judgement
from forge_tui.core.models import Example, ReviewState
from forge_tui.core.rubrics import Rubric, example_values, judge_messages
from forge_tui.core.templates import TemplateError
from forge_tui.i18n import N_, _
from forge_tui.services.examples import ExampleService
from forge_tui.services.model_client import ModelClient
from forge_tui.services.workspace import Workspace

JUDGE_TEMPERATURE = 0.0
FIX_TEMPERATURE = 0.3

FIX_SYSTEM = (
    "You improve answers in a dataset for fine-tuning language models. A reviewer judged an answer and "
    "said what is wrong with it. Write a better answer to the same request that fixes those problems. "
    "Reply with the improved answer only: no preamble, no notes about what you changed."
)


def _messages(rubric: Rubric, values: dict[str, Any], shots: Sequence[Example] = ()) -> list[ChatMessage]:
    taken = [
        (example_values(e), e.meta.review is ReviewState.ACCEPTED)
        for e in shots
        if e.meta.review in (ReviewState.ACCEPTED, ReviewState.REJECTED)
    ]
    try:
        return judge_messages(rubric, values, taken)
    except TemplateError as exc:
        raise JudgeFailed(
            _("The rubric '{name}' does not render for this example: {problem}").format(
                name=rubric.name, problem=str(exc)[:160]
            )
        ) from None


async def _ask(
    client: ModelClient, rubric: Rubric, messages: list[ChatMessage], model: str, max_tokens: int | None
) -> Judgement:
    request = ChatRequest(
        model=model,
        messages=messages,
        response_schema=rubric.schema,
        temperature=JUDGE_TEMPERATURE,
        max_tokens=max_tokens,
    )
    result = await client.complete(request)
    return parse_judgement(result.content, rubric, model)


async def judge_example(
    client: ModelClient,
    rubric: Rubric,
    example: Example,
    model: str,
    few_shots: Sequence[Example] = (),
    *,
    max_tokens: int | None = None,
) -> Judgement:
    """The judge's judgement of `example`. Of `few_shots`, accepted examples are shown first as good
    (a high score) and rejected ones as poor (a low score); unreviewed ones are left out."""
    return await _ask(client, rubric, _messages(rubric, example_values(example), few_shots), model, max_tokens)


async def judge_pair(
    client: ModelClient,
    rubric: Rubric,
    prompt_example: Example,
    answer_a: str,
    answer_b: str,
    model: str,
    *,
    max_tokens: int | None = None,
) -> Judgement:
    """Which of two answers to `prompt_example`'s request is better: the verdict is a, b or tie."""
    values = example_values(prompt_example, answer_a, answer_b)
    judged = await _ask(client, rubric, _messages(rubric, values), model, max_tokens)
    if judged.verdict not in ("a", "b", "tie"):
        raise JudgeFailed(
            _("The rubric '{name}' gave no verdict between the two answers (a, b or tie).").format(name=rubric.name)
        )
    return judged


def fix_messages(example: Example, judgement: Judgement) -> list[ChatMessage]:
    content = example.content
    parts = []
    if content.system_prompt:
        parts.append(f"System prompt the answer must follow:\n{content.system_prompt}")
    parts.append(f"Request:\n{content.user_prompt}")
    parts.append(f"Answer to improve:\n{content.output}")
    review = f"Reviewer's score: {judgement.score:g} of 10."
    if judgement.reason:
        review += f"\nReviewer's reason: {judgement.reason}"
    parts.append(review)
    parts.append("Write the improved answer.")
    return [ChatMessage(role="system", content=FIX_SYSTEM), ChatMessage(role="user", content="\n\n".join(parts))]


async def fix_answer(
    client: ModelClient, example: Example, judgement: Judgement, model: str, *, max_tokens: int | None = None
) -> str:
    """A new answer to the example's request that fixes what the judgement's reason says."""
    request = ChatRequest(
        model=model, messages=fix_messages(example, judgement), temperature=FIX_TEMPERATURE, max_tokens=max_tokens
    )
    result = await client.complete(request)
    fixed = result.content.strip()
    if not fixed:
        raise JudgeFailed(_("The model gave an empty answer when asked to fix the example."))
    return fixed


def few_shot_examples(examples: ExampleService, dataset_id: int, count: int) -> list[Example]:
    """Up to `count` examples a person decided on, half kept and half turned down where the dataset
    has them (the newest first); rows that do not open are skipped."""
    if count <= 0:
        return []
    kept = examples.ids(dataset_id, ExampleFilter(review=ReviewFilter.ACCEPTED))[::-1]
    dropped = examples.ids(dataset_id, ExampleFilter(review=ReviewFilter.REJECTED))[::-1]
    wanted_dropped = min(len(dropped), count // 2)
    wanted_kept = min(len(kept), count - wanted_dropped)
    wanted_dropped = min(len(dropped), count - wanted_kept)
    chosen = kept[:wanted_kept] + dropped[:wanted_dropped]
    return [e for e in examples.open_ids(dataset_id, chosen) if isinstance(e, Example)]


def calibration_report(
    workspace: Workspace, dataset_id: int, rubric_name: str | None, threshold: float, *, for_machine: bool = False
) -> dict[str, Any]:
    """How well the stored judgements (of `rubric_name`; None: any rubric) agree with the person's
    decisions in the dataset: accepted examples count as good, rejected ones as bad, unreviewed ones
    are left out. The figures of core.calibration, the counts, and a `summary` sentence (in English
    when `for_machine`: --json output never depends on the language)."""
    examples = workspace.examples
    decided = [
        (example_id, state is ReviewState.ACCEPTED)
        for state, review in (
            (ReviewState.ACCEPTED, ReviewFilter.ACCEPTED),
            (ReviewState.REJECTED, ReviewFilter.REJECTED),
        )
        for example_id in examples.ids(dataset_id, ExampleFilter(review=review))
    ]
    judged = examples.judgements(dataset_id, [example_id for example_id, _good in decided])
    pairs = [
        (judged[example_id].score, good)
        for example_id, good in decided
        if example_id in judged and (rubric_name is None or judged[example_id].rubric == rubric_name)
    ]
    figures = calibration.calibrate(pairs, threshold)
    return {
        "dataset_id": dataset_id,
        "rubric": rubric_name,
        **figures.to_dict(),
        "decided": len(decided),
        "unjudged": len(decided) - len(pairs),
        "summary": calibration.summary(figures, N_ if for_machine else _),
    }
