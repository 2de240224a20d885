"""A private stand-in for JUDGE-CORE's names (core.rubrics, services.judging) while that part is not on
this branch: installed only when the real modules are missing, so the real ones win once merged.

The judge asks the (fake) server with the example's prompt and answer in the message and reads
{"score", "criteria", "reason"} from the reply; the fixer asks with the judge's reason and the answer
and takes the reply as the new answer. Tests key the fake's `replies_by_prompt_substring` on markers
in the answers and reasons, which both this and the real judge send.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.errors import ForgeError
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example

CRITERIA = ("content_quality", "alignment", "factual_correctness", "format", "training_usefulness")


def verdict_json(score: float, reason: str) -> str:
    """A judge's reply as the fake sends it."""
    return json.dumps({"score": score, "criteria": dict.fromkeys(CRITERIA, score), "reason": reason})


class Rubric(BaseModel):
    name: str
    kind: str = "overall"
    template: str = "Judge this answer."
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")


class JudgeFailed(ForgeError):
    pass


def builtin_rubrics() -> dict[str, Rubric]:
    return {"overall": Rubric(name="overall")}


async def judge_example(
    client: Any,
    rubric: Rubric,
    example: Example,
    model: str,
    few_shots: Sequence[Example] = (),
    *,
    max_tokens: int | None = None,
) -> Judgement:
    said = f"{rubric.template}\nPrompt: {example.content.user_prompt}\nAnswer: {example.content.output}"
    result = await client.complete(
        ChatRequest(model=model, messages=[ChatMessage(role="user", content=said)], max_tokens=max_tokens or 256)
    )
    try:
        data = json.loads(result.content)
        return Judgement(rubric=rubric.name, model=model, score=data["score"], reason=data.get("reason", ""))
    except (ValueError, KeyError, TypeError) as exc:
        raise JudgeFailed("The judge's answer could not be read as a verdict.") from exc


async def fix_answer(client: Any, example: Example, judgement: Judgement, model: str) -> str:
    said = f"Rewrite the answer. Feedback: {judgement.reason}\nAnswer: {example.content.output}"
    result = await client.complete(ChatRequest(model=model, messages=[ChatMessage(role="user", content=said)]))
    return str(result.content)


def install() -> None:
    if importlib.util.find_spec("forge_tui.core.rubrics") is None:
        rubrics = types.ModuleType("forge_tui.core.rubrics")
        rubrics.Rubric = Rubric  # type: ignore[attr-defined]
        rubrics.builtin_rubrics = builtin_rubrics  # type: ignore[attr-defined]
        sys.modules["forge_tui.core.rubrics"] = rubrics
    if importlib.util.find_spec("forge_tui.services.judging") is None:
        judging = types.ModuleType("forge_tui.services.judging")
        judging.judge_example = judge_example  # type: ignore[attr-defined]
        judging.fix_answer = fix_answer  # type: ignore[attr-defined]
        sys.modules["forge_tui.services.judging"] = judging


install()
