"""Asking the paraphrase model for variations of a prompt (Audition's cards and jobs' items)."""

from __future__ import annotations

from forge_tui.core import paraphrase
from forge_tui.core.chat import ChatRequest
from forge_tui.services.model_client import ModelClient

PARAPHRASE_TEMPERATURE = 0.9


async def paraphrases(
    backend: ModelClient, model: str, prompt: str, wanted: int, seed: int, max_tokens: int
) -> list[str]:
    """Up to `wanted` distinct variations of `prompt` (fewer when the model gives fewer); backend
    errors propagate."""
    request = ChatRequest(
        model=model,
        messages=paraphrase.messages(prompt, wanted),
        response_schema=paraphrase.schema(wanted),
        temperature=PARAPHRASE_TEMPERATURE,
        seed=seed,
        max_tokens=max_tokens,
    )
    result = await backend.complete(request)
    return paraphrase.parse_variations(result.content, prompt)[:wanted]
