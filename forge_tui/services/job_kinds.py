"""Which recipe runs a job of each kind (`job.kind`): the CLI and the TUI resume any stored job by it."""

from __future__ import annotations

from typing import Any

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import Conflict
from forge_tui.i18n import _
from forge_tui.services.job_runner import Recipe

_RECIPES: dict[str, Recipe[Any]] = {}


def register(kind: str, recipe: Recipe[Any]) -> None:
    _RECIPES[kind] = recipe


def recipe_for(kind: str) -> Recipe[Any]:
    # The built-in kinds register themselves when their module is first imported.
    from forge_tui.services import generation_jobs  # noqa: F401

    if kind == "judge":
        from forge_tui.services import judge_jobs  # noqa: F401
    elif kind == "dedup":
        from forge_tui.services import dedup_jobs  # noqa: F401
    elif kind == "augment":
        from forge_tui.services import augment_jobs  # noqa: F401
    elif kind == "train":
        from forge_tui.services import train_jobs  # noqa: F401

    found = _RECIPES.get(kind)
    if found is None:
        raise Conflict(_("This version of forge-tui cannot run jobs of kind '{kind}'.").format(kind=clip(kind)))
    return found
