"""Choose the model to compare another with: every model of every endpoint, the cursor on its base when the
server knows it (Ollama's parent model), else on the first other model."""

from __future__ import annotations

import contextlib

from textual.screen import Screen

from forge_tui.core.errors import ForgeError
from forge_tui.core.model_catalog import ModelEntry
from forge_tui.i18n import _
from forge_tui.services.comparison import Contender, same_model
from forge_tui.services.models import ModelService
from forge_tui.ui.dialogs.pick import PickOne


def _is(entry: ModelEntry, contender: Contender) -> bool:
    return same_model(entry.name, contender.model) and contender.endpoint in (None, entry.endpoint)


async def ask_rival(screen: Screen[None], service: ModelService, first: Contender) -> Contender | None:
    """The model the user chose to compare `first` with, or None (cancelled, or none to choose)."""
    try:
        catalog = await service.catalog()
    except ForgeError as exc:
        screen.notify(str(exc), title=_("Cannot list the models"), severity="error")
        return None
    others = [e for e in catalog.entries if not _is(e, first)]
    if not others:
        screen.notify(_("There is no other model to compare '{model}' with.").format(model=first.model))
        return None
    base = None
    with contextlib.suppress(ForgeError):  # no details: no base to suggest
        base = (await service.details(first.model, first.endpoint)).parent_model
    bases = [i for i, e in enumerate(others) if base and same_model(e.name, base)]
    bases.sort(key=lambda i: others[i].endpoint != first.endpoint)  # its base on the same server first
    options = []
    for i, entry in enumerate(others):
        label = f"{entry.endpoint}/{entry.name}"
        options.append((str(i), _("{model} (its base)").format(model=label) if i in bases else label))
    title = _("Compare {model} with").format(model=first.label)
    choice = await screen.app.push_screen_wait(PickOne(title, options, highlighted=str(bases[0]) if bases else None))
    if choice is None:
        return None
    chosen = others[int(choice)]
    return Contender(chosen.name, chosen.endpoint)
