"""Running a dataset operation from a screen: in a thread, asking before a target is replaced."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from textual.screen import Screen

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _
from forge_tui.services.dataset_ops import DatasetOps, TargetExists, Written
from forge_tui.services.workspace import Workspace
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.dataset_ops import OpRequest

T = TypeVar("T")
# The title of the toast when an operation is refused, by operation.
CANNOT = {
    "merge": N_("Cannot merge"),
    "sample": N_("Cannot sample"),
    "split": N_("Cannot split"),
    "move": N_("Cannot move"),
    "copy": N_("Cannot copy"),
}


def _call(ops: DatasetOps, request: OpRequest, replace: bool) -> Callable[[], list[Written]]:
    if request.kind == "merge":
        sources = [request.source, *request.others]
        return lambda: [ops.merge(sources, request.into, request.dedup, replace)]
    if request.kind == "sample":
        return lambda: [ops.sample(request.source, request.into, request.n, request.seed, request.stratify, replace)]
    return lambda: ops.split(request.source, request.valid, request.test, request.seed, replace)


async def _reported(screen: Screen[Any], action: str, call: Callable[[], T]) -> T | None:
    try:
        return await asyncio.to_thread(call)
    except ForgeError as exc:
        screen.notify(str(exc), title=_(CANNOT[action]), severity="error")
        return None


async def run_operation(screen: Screen[Any], workspace: Workspace, request: OpRequest) -> list[Written] | None:
    """The operation's result, or None after a toast saying why nothing was written (or a refused
    replace). Call it from a worker: it may ask before replacing a target."""
    ops = DatasetOps(workspace.home, workspace.unlocked)
    try:
        return await asyncio.to_thread(_call(ops, request, False))
    except TargetExists as exc:
        if not await screen.app.push_screen_wait(
            Confirm(_("Replace the examples of '{name}'?").format(name=exc.name), yes=N_("Replace"))
        ):
            return None
    except ForgeError as exc:
        screen.notify(str(exc), title=_(CANNOT[request.kind]), severity="error")
        return None
    return await _reported(screen, request.kind, _call(ops, request, True))


async def copy_examples(
    screen: Screen[Any], workspace: Workspace, example_ids: list[str], to: str, move: bool
) -> Written | None:
    ops = DatasetOps(workspace.home, workspace.unlocked)
    return await _reported(screen, "move" if move else "copy", lambda: ops.copy(example_ids, to, move))
