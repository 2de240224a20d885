"""An LLM judge's verdict on one example: the score (1-10, plain on the example so the table can
sort and filter by it) and the rest (sub-scores, the reason, a pairwise verdict), which is content
and kept sealed."""

from __future__ import annotations

from pydantic import BaseModel, Field

from forge_tui.core.errors import ForgeError

MIN_SCORE = 1.0
MAX_SCORE = 10.0


class Judgement(BaseModel):
    rubric: str
    model: str = ""
    score: float = Field(ge=MIN_SCORE, le=MAX_SCORE)
    # Sub-scores by criterion (the Overall rubric: content_quality, alignment, factual_correctness,
    # format, training_usefulness), each on the same 1-10 scale.
    criteria: dict[str, float] = Field(default_factory=dict)
    reason: str = ""
    # Pairwise rubric: "a", "b" or "tie"; the tool-call rubric: "fits" or "does not fit".
    verdict: str | None = None


class JudgeFailed(ForgeError):
    """A judge's answer that gives no usable judgement (no score, one outside 1-10, a refusal); the
    message says why in one sentence, and `reason` holds it too."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
