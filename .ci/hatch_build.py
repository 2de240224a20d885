"""Hatch build hook: compiles each forge_tui/locale/<lang>/LC_MESSAGES/*.po to its .mo and ships it.

For a wheel the .mo (git-ignored, so hatch would leave it out) is force-included. For an editable
install it is written beside its .po in the checkout, where forge_tui.i18n finds it; a checkout that
was never built compiles the .po in memory instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        for po in sorted((root / "forge_tui" / "locale").glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            with po.open("rb") as source:
                catalog = read_po(source)
            with mo.open("wb") as target:
                write_mo(target, catalog, use_fuzzy=False)
            if version != "editable":
                build_data["force_include"][str(mo)] = mo.relative_to(root).as_posix()
