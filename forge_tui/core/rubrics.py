"""Judge rubrics: a Jinja2 template over an example's fields (rendered in the sandbox) that asks a
model for a judgement, and the JSON schema its answer is asked to follow (structured output).

Built in: *overall* (a 1-10 score, five sub-scores, a reason), *pairwise* (which of two answers is
better) and *tool_call* (whether the tool calls fit the request and the tools). A custom rubric is a
template saved by name; its answer follows CUSTOM_SCHEMA. Templates see `system_prompt`,
`user_prompt`, `output`, `reasoning`, `tool_calls`, `tools`, `slots`, `turns`, and for pairwise
`answer_a` and `answer_b`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import field
from typing import Any, Literal

from pydantic.dataclasses import dataclass

from forge_tui.core.chat import ChatMessage
from forge_tui.core.control_chars import refuse_control_chars
from forge_tui.core.errors import InvalidInput
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE
from forge_tui.core.models import Example
from forge_tui.core.templates import TemplateError, compile_source, render_compiled
from forge_tui.i18n import N_, _

RubricKind = Literal["overall", "pairwise", "tool_call", "custom"]
CRITERIA = ("content_quality", "alignment", "factual_correctness", "format", "training_usefulness")
PAIR_VERDICTS = ("a", "b", "tie")
TOOL_VERDICTS = ("fits", "does not fit")
GOOD_SHOT_SCORE = 9
POOR_SHOT_SCORE = 2
MAX_FEW_SHOTS = 20

SYSTEM = (
    "You are a strict, fair judge of training data for fine-tuning language models. Judge only what "
    "you are shown, and reply with one JSON object only."
)


def _score(description: str) -> dict[str, Any]:
    return {"type": "integer", "minimum": int(MIN_SCORE), "maximum": int(MAX_SCORE), "description": description}


_REASON = {"type": "string", "description": "One paragraph: why this score."}

OVERALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "criteria": {
            "type": "object",
            "properties": {name: _score(name.replace("_", " ")) for name in CRITERIA},
            "required": list(CRITERIA),
        },
        "score": _score("The overall score, 1 (useless) to 10 (excellent)."),
        "reason": _REASON,
    },
    "required": ["criteria", "score", "reason"],
}
PAIRWISE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": list(PAIR_VERDICTS)},
        "score": _score("How good the better answer is (either one for a tie), 1 to 10."),
        "reason": _REASON,
    },
    "required": ["verdict", "score", "reason"],
}
TOOL_CALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "verdict": {"type": "string", "enum": list(TOOL_VERDICTS)},
        "score": _score("How well the calls serve the request, 1 to 10."),
        "reason": _REASON,
    },
    "required": ["verdict", "score", "reason"],
}
CUSTOM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"score": _score("The score, 1 to 10."), "reason": _REASON},
    "required": ["score", "reason"],
}

_EXCHANGE = """\
{% if system_prompt %}System prompt given to the assistant:
{{ system_prompt }}

{% endif %}User's request:
{{ user_prompt }}
"""

OVERALL_TEMPLATE = (
    "Judge this example of an instruction and a response, as training data.\n\n"
    + _EXCHANGE
    + """
{% if reasoning %}The assistant's reasoning:
{{ reasoning }}

{% endif %}The assistant's response:
{{ output }}
{% if tool_calls %}
The assistant's tool calls:
{{ tool_calls | tojson }}
{% endif %}
Give each criterion a score from 1 (very poor) to 10 (excellent):
- content_quality: is the response accurate, complete and well written?
- alignment: does the response do what the request asks, and only that?
- factual_correctness: are its facts right?
- format: is it formatted as the request and the system prompt want?
- training_usefulness: would a model learn something good from this example?
Then an overall score from 1 to 10 and a reason of one paragraph.
Reply as JSON: {"criteria": {"content_quality": N, "alignment": N, "factual_correctness": N, "format": N, \
"training_usefulness": N}, "score": N, "reason": "..."}
"""
)

PAIRWISE_TEMPLATE = (
    "Two answers were written for the same request. Decide which one is better training data.\n\n"
    + _EXCHANGE
    + """
Answer A:
{{ answer_a }}

Answer B:
{{ answer_b }}

Say which answer is better: "a", "b", or "tie" when neither is. Give the better answer a score from 1 \
to 10, and a reason of one paragraph.
Reply as JSON: {"verdict": "a" | "b" | "tie", "score": N, "reason": "..."}
"""
)

TOOL_CALL_TEMPLATE = (
    "Judge whether the assistant's tool calls fit the user's request and the tools offered.\n\n"
    + _EXCHANGE
    + """
{% if tools %}Tools offered:
{{ tools | tojson }}

{% endif %}The assistant's tool calls:
{{ tool_calls | tojson }}
{% if output %}
The assistant's text:
{{ output }}
{% endif %}
Do the calls use the right tool, with arguments the request supports and the tool accepts? Say "fits" \
or "does not fit", give a score from 1 to 10, and a reason of one paragraph.
Reply as JSON: {"verdict": "fits" | "does not fit", "score": N, "reason": "..."}
"""
)

CUSTOM_STARTER = (
    "Judge this answer for <what matters to you>.\n\n"
    + _EXCHANGE
    + """
Answer:
{{ output }}

Give a score from 1 (poor) to 10 (excellent) and a reason.
Reply as JSON: {"score": N, "reason": "..."}
"""
)


@dataclass(frozen=True)
class Rubric:
    name: str
    kind: RubricKind
    template: str
    schema: dict[str, Any] = field(default_factory=lambda: dict(CUSTOM_SCHEMA))
    # How many of the dataset's accepted and rejected examples the prompt shows first (few-shot).
    few_shots: int = 0
    builtin: bool = False


def builtin_rubrics() -> dict[str, Rubric]:
    return {
        "overall": Rubric("overall", "overall", OVERALL_TEMPLATE, OVERALL_SCHEMA, builtin=True),
        "pairwise": Rubric("pairwise", "pairwise", PAIRWISE_TEMPLATE, PAIRWISE_SCHEMA, builtin=True),
        "tool_call": Rubric("tool_call", "tool_call", TOOL_CALL_TEMPLATE, TOOL_CALL_SCHEMA, builtin=True),
    }


def example_values(example: Example, answer_a: str = "", answer_b: str = "") -> dict[str, Any]:
    """What a rubric's template sees of an example (and, for pairwise, the two answers)."""
    content = example.content
    tools = content.extra.get("tools")
    return {
        "system_prompt": content.system_prompt,
        "user_prompt": content.user_prompt,
        "output": content.output,
        "reasoning": content.reasoning,
        "tool_calls": content.tool_calls,
        "tools": tools if isinstance(tools, list) else [],
        "slots": content.slots,
        "turns": content.turns,
        "answer_a": answer_a,
        "answer_b": answer_b,
    }


def render_prompt(rubric: Rubric, values: dict[str, Any]) -> str:
    """The rubric's template rendered in the sandbox; raises TemplateError."""
    return render_compiled(compile_source(rubric.template), values).strip()


def shot_reply(rubric: Rubric, good: bool) -> str:
    """The answer a few-shot example is shown with: a person kept it (good) or turned it down."""
    score = GOOD_SHOT_SCORE if good else POOR_SHOT_SCORE
    reply: dict[str, Any] = {}
    properties = rubric.schema.get("properties", {})
    if "criteria" in properties:
        names = properties["criteria"].get("properties", {})
        reply["criteria"] = dict.fromkeys(names, score)
    verdicts = properties.get("verdict", {}).get("enum")
    if isinstance(verdicts, list) and len(verdicts) >= 2:
        reply["verdict"] = verdicts[0] if good else verdicts[-1]
    reply["score"] = score
    reply["reason"] = (
        "A person accepted this example as good training data."
        if good
        else "A person rejected this example as poor training data."
    )
    return json.dumps(reply, ensure_ascii=False)


def judge_messages(
    rubric: Rubric, values: dict[str, Any], shots: Sequence[tuple[dict[str, Any], bool]] = ()
) -> list[ChatMessage]:
    """The conversation that asks for a judgement: each few-shot example (its values, and whether a
    person kept it) as a question answered with a high or a low score, then the example itself."""
    messages = [ChatMessage(role="system", content=SYSTEM)]
    for shot_values, good in shots:
        messages.append(ChatMessage(role="user", content=render_prompt(rubric, shot_values)))
        messages.append(ChatMessage(role="assistant", content=shot_reply(rubric, good)))
    messages.append(ChatMessage(role="user", content=render_prompt(rubric, values)))
    return messages


_SAMPLE_VALUES: dict[str, Any] = {
    "system_prompt": "You are a helpful assistant.",
    "user_prompt": "What is the boiling point of water at sea level?",
    "output": "100 °C (212 °F).",
    "reasoning": "",
    "tool_calls": [],
    "tools": [],
    "slots": {"topic": "water"},
    "turns": [],
    "answer_a": "100 °C.",
    "answer_b": "About 90 °C.",
}
_NAMES_A_SCORE = re.compile(r"\bscores?\b", re.IGNORECASE)


def check_rubric_name(name: str) -> str:
    refuse_control_chars(name, N_("A rubric name"))
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("A rubric needs a name."))
    if len(name) > 120:
        raise InvalidInput(_("A rubric name is at most 120 characters."))
    return name


def check_custom_rubric(name: str, template: str, few_shots: int = 0) -> Rubric:
    """A custom rubric, checked: its name is not a built-in one, its template renders against a
    sample example (TemplateError says where it does not) and asks for a score."""
    name = check_rubric_name(name)
    if name in builtin_rubrics():
        raise InvalidInput(_("'{name}' is a built-in rubric; choose another name.").format(name=name))
    if not 0 <= few_shots <= MAX_FEW_SHOTS:
        raise InvalidInput(
            _("A rubric shows 0 to {limit} few-shot examples, not {count}.").format(
                limit=MAX_FEW_SHOTS, count=few_shots
            )
        )
    rubric = Rubric(name, "custom", template, dict(CUSTOM_SCHEMA), few_shots=few_shots)
    try:
        text = render_prompt(rubric, dict(_SAMPLE_VALUES))
    except TemplateError as exc:
        # The same kind of error (a passed limit stays a TemplateLimitError), saying where it arose.
        raise type(exc)(
            _("the rubric does not render for a sample example: {problem}").format(problem=exc.reason), exc.line
        ) from None
    if not _NAMES_A_SCORE.search(text):
        raise InvalidInput(_("A rubric must ask for a score (from 1 to 10): its text never says 'score'."))
    return rubric
