"""The command line (Typer).

`main` picks the interface language (--lang, else FORGE_TUI_LANG, else the locale) before it imports
the command modules, so their help strings, written with `_()`, are read in that language. `app` is
imported on first use for the same reason.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from forge_tui import i18n
from forge_tui.cli.language_flag import language_flag

if TYPE_CHECKING:
    import typer

    app: typer.Typer

__all__ = ["app", "main"]


def main() -> None:
    flag, tui = language_flag(sys.argv[1:])
    note = i18n.start(flag)
    commands = importlib.import_module("forge_tui.cli.main")
    _restore_main()
    commands.run(flag, note, tui)


def _restore_main() -> None:
    # Importing the submodule forge_tui.cli.main binds that name on this package, over the function.
    globals()["main"] = main


def __getattr__(name: str) -> Any:
    if name == "app":
        from forge_tui.cli.main import app

        _restore_main()
        return app
    raise AttributeError(name)
