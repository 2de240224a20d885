"""Reading a judge's answer as a Judgement, tolerantly: JSON as asked, JSON inside prose or a code
fence, or plain text such as "Score: 7/10". Nothing is clamped: a score outside 1-10 or not a number,
a sub-score likewise, a verdict the rubric does not know, and a refusal are each a JudgeFailed whose
message says which, in one sentence."""

from __future__ import annotations

import math
import re
from typing import Any

from forge_tui.core.judging import MAX_SCORE, MIN_SCORE, JudgeFailed, Judgement
from forge_tui.core.rubrics import CRITERIA, Rubric
from forge_tui.core.structured_output import json_candidates
from forge_tui.i18n import _

EXCERPT = 80  # characters of the answer quoted in a failure
REASON_LIMIT = 4000

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_SCORE_TEXT = re.compile(
    rf"\bscore\b[\s:=\"'*]{{0,6}}(?:is\s+|of\s+)?({_NUMBER})(?:\s*(?:/|out\s+of)\s*(\d+))?", re.IGNORECASE
)
_SCORE_WORD = re.compile(r"\bscore\**\s*[:=]\s*[\"'*]*([A-Za-z][\w-]*)", re.IGNORECASE)
_FRACTION = re.compile(rf"(?<![\w.])({_NUMBER})\s*(?:/|out\s+of)\s*(\d+)\b", re.IGNORECASE)
_REASON_TEXT = re.compile(r"\b(?:reason|explanation|rationale|because)\b\s*[:\-]?\s*(.+)", re.IGNORECASE | re.DOTALL)
_VERDICT_TEXT = re.compile(r"\b(?:verdict|winner|better)\b\W{0,6}([A-Za-z][A-Za-z' ]{0,20})", re.IGNORECASE)
_REFUSAL = re.compile(
    r"\b(?:I\s+(?:cannot|can\s*not|can't|can’t|won't|will\s+not|am\s+(?:not\s+able|unable)|'m\s+(?:not\s+able|unable))"
    r"|I'?m\s+sorry|I\s+apologi[sz]e|as\s+an\s+AI)\b",
    re.IGNORECASE,
)
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "why", "justification")
_SCORE_KEYS = ("score", "overall", "overall_score", "rating")
_VERDICT_KEYS = ("verdict", "winner", "better", "choice", "fits")


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat.rstrip(".") if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def _number(value: Any, what: str) -> float:
    """A score as a number in 1..10, or JudgeFailed naming `what` and the value."""
    if isinstance(value, bool) or value is None:
        raise JudgeFailed(
            _("The judge gave {what} {value}, not a number from 1 to 10.").format(what=what, value=f"{value!r:.40}")
        )
    if isinstance(value, str):
        text = value.strip()
        fraction = _FRACTION.fullmatch(text)
        if fraction:
            return _out_of(fraction.group(1), fraction.group(2), what)
        try:
            value = float(text)
        except ValueError:
            raise JudgeFailed(
                _("The judge gave {what} '{value}', not a number from 1 to 10.").format(what=what, value=excerpt(text))
            ) from None
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise JudgeFailed(
            _("The judge gave {what} {value}, not a number from 1 to 10.").format(what=what, value=str(value)[:40])
        )
    number = float(value)
    if not MIN_SCORE <= number <= MAX_SCORE:
        raise JudgeFailed(
            _("The judge gave {what} {value}, outside the scale of 1 to 10.").format(what=what, value=f"{number:g}")
        )
    return number


def _out_of(number: str, scale: str, what: str) -> float:
    if int(scale) != int(MAX_SCORE):
        raise JudgeFailed(
            _("The judge gave {what} {number}/{scale}, not on the scale of 1 to 10.").format(
                what=what, number=number, scale=scale
            )
        )
    return _number(float(number), what)


def _verdict(value: Any, rubric: Rubric) -> str | None:
    """The rubric's verdict in its own words; JudgeFailed for one it does not know."""
    if rubric.kind == "pairwise":
        text = str(value).strip().lower().strip("\"'. ")
        for prefix in ("answer ", "answer_", "response "):
            text = text.removeprefix(prefix)
        if text in ("a", "b", "tie"):
            return text
        if text in ("equal", "both", "neither", "same", "draw"):
            return "tie"
        raise JudgeFailed(_("The judge's verdict '{verdict}' is not a, b or tie.").format(verdict=excerpt(str(value))))
    if rubric.kind == "tool_call":
        if value is True:
            return "fits"
        if value is False:
            return "does not fit"
        text = " ".join(str(value).strip().lower().strip("\"'.").split())
        if text in ("does not fit", "doesn't fit", "doesn’t fit", "not fit", "no", "false", "does not fits"):
            return "does not fit"
        if text in ("fits", "fit", "yes", "true", "it fits"):
            return "fits"
        raise JudgeFailed(
            _("The judge's verdict '{verdict}' is not 'fits' or 'does not fit'.").format(verdict=excerpt(str(value)))
        )
    return None if value is None else str(value).strip()[:200] or None


def _criteria_names(rubric: Rubric) -> tuple[str, ...]:
    criteria = rubric.schema.get("properties", {}).get("criteria", {})
    names = criteria.get("properties", {}) if isinstance(criteria, dict) else {}
    return tuple(names) if names else (CRITERIA if rubric.kind == "overall" else ())


def _from_object(value: dict[str, Any], rubric: Rubric, model: str) -> Judgement | None:
    """The judgement an object gives, or None when it names no score."""
    lowered = {str(k).strip().lower(): v for k, v in value.items()}
    score_key = next((k for k in _SCORE_KEYS if k in lowered and not isinstance(lowered[k], dict)), None)
    if score_key is None:
        return None
    score = _number(lowered[score_key], _("the score"))
    criteria: dict[str, float] = {}
    found = lowered.get("criteria")
    source = {str(k).strip().lower(): v for k, v in found.items()} if isinstance(found, dict) else lowered
    for name in _criteria_names(rubric):
        if name in source:
            criteria[name] = _number(source[name], _("the {name} score").format(name=name.replace("_", " ")))
    if isinstance(found, dict) and not _criteria_names(rubric):
        for name, sub in found.items():
            criteria[str(name)[:60]] = _number(sub, _("the {name} score").format(name=str(name)[:40]))
    reason = next((str(lowered[k]) for k in _REASON_KEYS if isinstance(lowered.get(k), str | int | float)), "")
    verdict_key = next((k for k in _VERDICT_KEYS if k in lowered), None)
    verdict = _verdict(lowered[verdict_key], rubric) if verdict_key else None
    return _judgement(rubric, model, score, criteria, reason, verdict)


def _judgement(
    rubric: Rubric, model: str, score: float, criteria: dict[str, float], reason: str, verdict: str | None
) -> Judgement:
    if verdict is None and rubric.kind in ("pairwise", "tool_call"):
        if rubric.kind == "pairwise":
            raise JudgeFailed(_("The judge gave a score but no verdict (a, b or tie)."))
        raise JudgeFailed(_("The judge gave a score but no verdict ('fits' or 'does not fit')."))
    return Judgement(
        rubric=rubric.name,
        model=model,
        score=score,
        criteria=criteria,
        reason=reason.strip()[:REASON_LIMIT],
        verdict=verdict,
    )


def _from_text(text: str, rubric: Rubric, model: str) -> Judgement | None:
    """A judgement written as text ("Score: 7/10 ... Reason: ..."), or None when it names no score."""
    found = _SCORE_TEXT.search(text)
    if found is not None:
        raw, scale = found.group(1), found.group(2)
        score = _out_of(raw, scale, _("the score")) if scale else _number(raw, _("the score"))
    else:
        fraction = _FRACTION.search(text)
        if fraction is None:
            word = _SCORE_WORD.search(text)
            if word is not None:
                raise JudgeFailed(
                    _("The judge gave the score '{value}', not a number from 1 to 10.").format(
                        value=excerpt(word.group(1))
                    )
                )
            return None
        score = _out_of(fraction.group(1), fraction.group(2), _("the score"))
    reason_match = _REASON_TEXT.search(text)
    reason = reason_match.group(1) if reason_match else text
    verdict = None
    if rubric.kind in ("pairwise", "tool_call"):
        said = _VERDICT_TEXT.search(text)
        lowered = text.lower()
        if rubric.kind == "tool_call" and re.search(r"\b(?:does\s+not|doesn't|doesn’t)\s+fit\b", lowered):
            verdict = "does not fit"
        elif said is not None:
            verdict = _verdict(said.group(1).split()[0] if rubric.kind == "pairwise" else said.group(1), rubric)
        elif rubric.kind == "tool_call" and re.search(r"\bfits\b", lowered):
            verdict = "fits"
    return _judgement(rubric, model, score, {}, reason, verdict)


def parse_judgement(text: str, rubric: Rubric, model: str) -> Judgement:
    """The judgement in a judge's answer; JudgeFailed (one sentence) when there is none to trust."""
    if not text.strip():
        raise JudgeFailed(_("The judge's answer was empty."))
    for value in json_candidates(text):
        if isinstance(value, dict):
            judged = _from_object(value, rubric, model)
            if judged is not None:
                return judged
    judged = _from_text(text, rubric, model)
    if judged is not None:
        return judged
    if _REFUSAL.search(text):
        raise JudgeFailed(_("The judge refused to evaluate the example: '{answer}'.").format(answer=excerpt(text)))
    raise JudgeFailed(_("The judge's answer held no score: '{answer}'.").format(answer=excerpt(text)))
