"""Preference pairs from reviews: an example a person rejected and an accepted one with the same
prompt (system prompt, user prompt, slot values and earlier turns all equal) make a pair, chosen =
the accepted answer, rejected = the rejected one. The prompt is grouped by a hash, so an export
holds ids and hashes, not content, while it pairs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from forge_tui.core.models import Example, ExampleContent


def prompt_key(content: ExampleContent) -> bytes:
    """Equal for two examples exactly when their prompts are equal (a 128-bit hash)."""
    prompt = [content.system_prompt, content.user_prompt, content.slots, content.turns]
    text = json.dumps(prompt, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def with_rejected(example: Example, answers: Sequence[str]) -> Example:
    """The example with its siblings' rejected answers added to its own (each answer once, never its
    own answer), so a preference format writes a pair for each."""
    content = example.content
    added = [a for a in dict.fromkeys(answers) if a != content.output and a not in content.rejected]
    if not added:
        return example
    return example.model_copy(update={"content": content.model_copy(update={"rejected": [*content.rejected, *added]})})
