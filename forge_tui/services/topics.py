"""Expanding a seed topic into a tree of subtopics with a model, for a slot's values (structured
output: a JSON object with a "subtopics" list, read with the paraphrase parser when a server answers
in another shape)."""

from __future__ import annotations

import asyncio

from forge_tui.core import language as languages
from forge_tui.core import paraphrase
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.generation import DEFAULT_MAX_TOKENS, MAX_SEED
from forge_tui.core.topic_tree import TopicNode
from forge_tui.i18n import _
from forge_tui.services.backends import BackendService

MAX_BRANCHING = 50
MAX_DEPTH = 2
SYSTEM = (
    "You organise a subject into subtopics. Given a topic, list {k} distinct, specific subtopics of it that "
    "together cover it well; each is a short phrase that makes sense on its own, without the parent topic. "
    'Reply with JSON only: {{"subtopics": ["...", ...]}}.'
)


def schema(k: int) -> dict[str, object]:
    return {
        "type": "object",
        "properties": {"subtopics": {"type": "array", "items": {"type": "string"}, "minItems": k, "maxItems": k}},
        "required": ["subtopics"],
    }


async def expand_topic(
    backend: BackendService,
    model: str,
    topic: str,
    k: int,
    depth: int = 1,
    *,
    seed: int = 0,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    language: str | None = None,
) -> TopicNode:
    """`topic` with `k` subtopics, and with depth 2 each of those with `k` more. A subtopic the model
    cannot expand stays a leaf; a seed topic it cannot expand at all is an error."""
    topic = " ".join(topic.split())
    if not topic:
        raise InvalidInput(_("A topic tree needs a seed topic."))
    if not 1 <= k <= MAX_BRANCHING:
        raise InvalidInput(_("A topic has 1 to {most} subtopics.").format(most=MAX_BRANCHING))
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidInput(_("A topic tree is 1 or {most} levels deep.").format(most=MAX_DEPTH))
    root = TopicNode(
        topic, [TopicNode(t) for t in await _subtopics(backend, model, topic, k, seed, max_tokens, language)]
    )
    if not root.children:
        raise ForgeError(
            _("The model gave no subtopics of '{topic}': try another model or topic.").format(topic=clip(topic))
        )
    if depth == 2:
        found = await asyncio.gather(
            *(
                _subtopics(backend, model, child.topic, k, seed + n + 1, max_tokens, language)
                for n, child in enumerate(root.children)
            )
        )
        for child, subtopics in zip(root.children, found, strict=True):
            child.children = [TopicNode(t) for t in subtopics]
    return root


async def _subtopics(
    backend: BackendService, model: str, topic: str, k: int, seed: int, max_tokens: int, language: str | None
) -> list[str]:
    request = ChatRequest(
        model=model,
        messages=[
            ChatMessage(role="system", content=languages.with_instruction(SYSTEM.format(k=k), language)),
            ChatMessage(role="user", content=f"Topic: {topic}"),
        ],
        response_schema=schema(k),
        temperature=0.7,
        seed=seed % MAX_SEED,
        max_tokens=max_tokens,
    )
    result = await backend.complete(request)
    return paraphrase.parse_variations(result.content, topic)[:k]
