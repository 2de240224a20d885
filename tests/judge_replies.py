"""What a judge answers, as the fake server is told to send it (`fixed_reply`, `replies_by_prompt_substring`)."""

from __future__ import annotations

import json

from forge_tui.core.rubrics import CRITERIA


def verdict_json(score: float, reason: str) -> str:
    """A judge's reply in the Overall rubric's shape."""
    return json.dumps({"score": score, "criteria": dict.fromkeys(CRITERIA, score), "reason": reason})
