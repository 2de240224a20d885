"""Pause that frees the GPU: once a paused job's last requests ended, its models are unloaded from the
server (Ollama: `keep_alive: 0`), and loaded again before a resumed run asks its first item.

Neither is ever fatal: a server that cannot be told (an OpenAI-compatible one), is gone, or no longer
has the model leaves things as they are; the first request of a resumed run loads the model anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from forge_tui.core.errors import ForgeError
from forge_tui.services.model_client import ModelClient

UNLOAD_WITHIN_S = 30.0  # Ollama unloads at once; a server that does not answer by then is left alone
LOAD_WITHIN_S = 120.0  # loading a large model takes a while; past this the first request waits for it
MODEL_KEYS = ("model", "paraphrase_model", "second_model")  # the models a job's spec may name


def job_models(spec: Mapping[str, Any], also: Iterable[str] = ()) -> list[str]:
    """The models a job's spec names (generation, paraphrase, second answer), each once, in that order."""
    named = [spec.get(key) for key in MODEL_KEYS]
    found: list[str] = []
    for model in (*named, *also):
        if isinstance(model, str) and model.strip() and model.strip() not in found:
            found.append(model.strip())
    return found


async def release(client: ModelClient, model: str) -> list[str]:
    """Unloads the model from the server(s) behind `client`; returns the models freed: `[model]`, or
    `[]` where the server cannot be told, refused or did not answer in time."""
    try:
        freed = await asyncio.wait_for(client.unload(model), UNLOAD_WITHIN_S)
    except (ForgeError, TimeoutError):
        return []
    return [model] if freed else []


async def reload(client: ModelClient, model: str) -> bool:
    """Loads the model ahead of a resumed run; False where it could not (the first request loads it)."""
    try:
        return await asyncio.wait_for(client.load(model), LOAD_WITHIN_S)
    except (ForgeError, TimeoutError):
        return False
