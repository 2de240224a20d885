"""The trainers a bundle can be written for, by the name `--for` takes."""

from __future__ import annotations

from forge_tui.core import bundle_axolotl, bundle_llamafactory, bundle_mlx, bundle_trl, bundle_unsloth
from forge_tui.core.bundle_types import Trainer
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

TRAINERS: dict[str, Trainer] = {
    t.name: t
    for t in (
        bundle_trl.TRAINER,
        bundle_llamafactory.TRAINER,
        bundle_mlx.TRAINER,
        bundle_axolotl.TRAINER,
        bundle_unsloth.TRAINER,
    )
}


def trainer(name: str) -> Trainer:
    found = TRAINERS.get(name.strip().lower())
    if found is None:
        raise InvalidInput(
            _("Bundles are written for {names}, not '{name}'.").format(names=", ".join(TRAINERS), name=name[:40])
        )
    return found
