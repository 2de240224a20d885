"""Augmenting examples (no I/O): which field an instruction rewrites (`answer`, `user_prompt`,
`system_prompt`, `slot:NAME`, `extra:NAME`, `new:NAME`), reading and replacing it in an example's
content, the request sent to the model, the job's counts, and a word diff of before and after."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import InvalidInput
from forge_tui.core.jobs import JobSummary
from forge_tui.core.models import ExampleContent
from forge_tui.i18n import _

PLAIN_FIELDS = {"answer": "output", "user_prompt": "user_prompt", "system_prompt": "system_prompt"}
PREFIXES = ("slot", "extra", "new")
CONTEXT_FIELDS = ("answer", "user_prompt", "system_prompt", "reasoning", "slots")

# Counts in the job's plain results.
PROCESSED = "augment_processed"
CHANGED = "augment_changed"
UNCHANGED = "augment_unchanged"
UNDONE = "augment_undone"


@dataclass(frozen=True)
class FieldRef:
    """A field of an example: `kind` is answer, user_prompt, system_prompt, slot, extra or new."""

    kind: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> FieldRef:
        text = text.strip()
        if text in PLAIN_FIELDS:
            return cls(text)
        prefix, _colon, name = text.partition(":")
        if prefix in PREFIXES and name.strip():
            return cls(prefix, name.strip())
        raise InvalidInput(
            _(
                "Unknown field '{field}': use answer, user_prompt, system_prompt, slot:NAME, extra:NAME or new:NAME."
            ).format(field=clip(text, 40))
        )

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind

    @property
    def is_answer(self) -> bool:
        return self.kind == "answer"

    def read(self, content: ExampleContent) -> str:
        """The field's value as text ("" when the example has none)."""
        if self.kind in PLAIN_FIELDS:
            return str(getattr(content, PLAIN_FIELDS[self.kind]))
        if self.kind == "slot":
            return content.slots.get(self.name, "")
        value = content.extra.get(self.name)
        return "" if value is None else value if isinstance(value, str) else str(value)

    def write(self, content: ExampleContent, value: str) -> ExampleContent:
        """A copy of `content` with the field set to `value`."""
        if self.kind in PLAIN_FIELDS:
            return content.model_copy(update={PLAIN_FIELDS[self.kind]: value})
        if self.kind == "slot":
            return content.model_copy(update={"slots": {**content.slots, self.name: value}})
        return content.model_copy(update={"extra": {**content.extra, self.name: value}})


def template_values(content: ExampleContent) -> dict[str, Any]:
    """What an instruction template sees of an example."""
    return {
        "system_prompt": content.system_prompt,
        "user_prompt": content.user_prompt,
        "answer": content.output,
        "output": content.output,
        "reasoning": content.reasoning,
        "slots": dict(content.slots),
        "extra": dict(content.extra),
        "rejected": list(content.rejected),
    }


SYSTEM = (
    "You rewrite one field of an example in a dataset for fine-tuning language models, following the "
    "instruction. Reply with the new value of the field only: no preamble, no quotes, no explanation."
)


def context_text(content: ExampleContent, fields: list[str]) -> str:
    """The context fields the model is shown, each under its name."""
    parts = []
    for name in fields:
        if name == "slots":
            if content.slots:
                parts.append("slots:\n" + "\n".join(f"{k}: {v}" for k, v in content.slots.items()))
            continue
        value = FieldRef.parse(name).read(content) if name != "reasoning" else content.reasoning
        if value:
            parts.append(f"{name}:\n{value}")
    return "\n\n".join(parts)


def user_message(instruction: str, field: FieldRef, current: str, context: str, language: str) -> str:
    parts = [f"Instruction:\n{instruction}"]
    if context:
        parts.append(f"Context:\n{context}")
    if field.kind == "new":
        parts.append(f"Write the value of the new field '{field.name}'.")
    else:
        parts.append(f"Current value of the field '{field.label}':\n{current}")
    if language:
        parts.append(f"Write the new value in {language}.")
    parts.append("The new value:")
    return "\n\n".join(parts)


def results_line(results: dict[str, float], failed: int, duration_s: float | None) -> str:
    """processed, changed, unchanged, failed and the duration, in one line."""
    processed = int(results.get(PROCESSED, 0)) + failed
    counts = {
        "processed": processed,
        "changed": int(results.get(CHANGED, 0)),
        "unchanged": int(results.get(UNCHANGED, 0)),
        "failed": failed,
    }
    if duration_s is None:
        line = _("{processed} processed, {changed} changed, {unchanged} unchanged, {failed} failed").format(**counts)
    else:
        line = _(
            "{processed} processed, {changed} changed, {unchanged} unchanged, {failed} failed in {seconds} s"
        ).format(seconds=f"{duration_s:.1f}", **counts)
    if results.get(UNDONE):
        line = _("{counts} (undone)").format(counts=line)
    return line


def duration_s(job: JobSummary) -> float | None:
    if job.started_at is None or job.finished_at is None:
        return None
    return max(0.0, (job.finished_at - job.started_at).total_seconds())


def augment_line(job: JobSummary) -> str:
    """An augment job's counts and duration."""
    return results_line(job.results, job.failed, duration_s(job))


def is_augment_results(results: dict[str, float]) -> bool:
    return PROCESSED in results


_WORD = re.compile(r"\s+|[^\s]+")


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """The two texts as runs of words tagged "same", "removed" or "added"."""
    old, new = _WORD.findall(before), _WORD.findall(after)
    runs: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            runs.append(("same", "".join(old[a1:a2])))
            continue
        if a2 > a1:
            runs.append(("removed", "".join(old[a1:a2])))
        if b2 > b1:
            runs.append(("added", "".join(new[b1:b2])))
    return runs


def unified_word_diff(before: str, after: str) -> str:
    """A word diff as git's --word-diff=plain writes it: [-removed-] and {+added+}."""
    marks = {"same": "{}", "removed": "[-{}-]", "added": "{{+{}+}}"}
    return "".join(marks[tag].format(text) for tag, text in word_diff(before, after))
