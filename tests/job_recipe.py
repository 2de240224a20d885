"""A stand-in item function for job tests: one chat request per item to the (fake) server, the
prompt made from the item's slot values. The engine takes it as services.generation's would be."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.errors import ForgeError
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.jobs import ItemInputs, JobPlan, Recipe
from forge_tui.services.model_client import ModelClient

MODEL = "llama3.2:latest"
TOPICS = ("tides", "volcanoes", "glaciers")


@dataclass(frozen=True)
class Made:
    content: ExampleContent
    meta: ExampleMeta


class ItemBroke(ForgeError):
    """What a recipe raises for a failure of the item itself (as ItemFailed)."""


def load(spec: dict[str, Any]) -> dict[str, Any]:
    return spec


async def produce(backend: ModelClient, spec: dict[str, Any], item: ItemInputs) -> Made:
    if item.idx in spec.get("broken", []):
        raise ItemBroke("The template cannot be rendered with this item's values.")
    prompt = spec["prompt"].format(**item.slots)
    request = ChatRequest(
        model=spec["model"], messages=[ChatMessage(role="user", content=prompt)], seed=item.seed, max_tokens=64
    )
    result = await backend.complete(request)
    return Made(
        ExampleContent(user_prompt=prompt, slots=item.slots, output=result.content),
        ExampleMeta(model=spec["model"], params={"seed": item.seed}),
    )


RECIPE: Recipe[dict[str, Any]] = Recipe(load=load, produce=produce)


def planned_slots(idx: int) -> dict[str, str]:
    return {"topic": f"{TOPICS[idx % len(TOPICS)]} {idx}"}


def plan(
    dataset_id: int, count: int, model: str = MODEL, broken: tuple[int, ...] = (), kind: str = "generate"
) -> JobPlan:
    return JobPlan(
        kind=kind,
        name=f"{count} answers about topics",
        dataset_id=dataset_id,
        template_id=None,
        spec={"prompt": "Explain {topic} briefly.", "model": model, "broken": list(broken)},
        params={"model": model, "count": count},
        items=[ItemInputs(i, planned_slots(i), 1000 + i) for i in range(count)],
    )
