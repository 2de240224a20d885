"""Embeddings from both APIs of the fake server (Ollama's /api/embed, the OpenAI-compatible
/v1/embeddings), in their wire shapes: one vector per text, in order; a missing model is named."""

from __future__ import annotations

import httpx
import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.llm.errors import ModelNotFound
from forge_tui.services.backends import BackendService
from tests.fake_ollama import FakeOllama, fake_embedding

TEXTS = ["The river rose in spring.", "In spring the river rose!", "Bread is baked at dawn."]


@pytest.mark.parametrize("kind", ["ollama", "openai"])
async def test_embed_gives_one_vector_per_text_in_order(fake: FakeOllama, kind: str) -> None:
    async with BackendService(BackendSettings(kind=kind, base_url=fake.base_url)) as service:  # type: ignore[arg-type]
        vectors = await service.embed("llama3.2", TEXTS)
        assert vectors == [fake_embedding(t) for t in TEXTS]
        with pytest.raises(ModelNotFound, match="nope"):
            await service.embed("nope", TEXTS)
    same, other = (
        sum(a * b for a, b in zip(vectors[0], vectors[1], strict=True)),
        sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True)),
    )
    assert same > 0.99 and other < 0.6


def test_the_wire_shapes_are_ollamas(fake: FakeOllama) -> None:
    native = httpx.post(f"{fake.base_url}/api/embed", json={"model": "llama3.2", "input": "one text"}).json()
    assert set(native) == {"model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"}
    assert native["embeddings"] == [fake_embedding("one text")] and native["prompt_eval_count"] == 2
    openai = httpx.post(f"{fake.base_url}/v1/embeddings", json={"model": "llama3.2", "input": ["a b", "c"]}).json()
    assert openai["object"] == "list" and openai["model"] == "llama3.2"
    assert [(d["object"], d["index"]) for d in openai["data"]] == [("embedding", 0), ("embedding", 1)]
    assert openai["usage"] == {"prompt_tokens": 3, "total_tokens": 3}
