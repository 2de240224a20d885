"""Where the .tcss files are: inside the wheel, or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

from forge_tui.i18n import _

_PACKAGE = Path(__file__).resolve().parent.parent


def styles_dir() -> Path:
    installed = _PACKAGE / "styles"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / "styles"
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        _("forge-tui's styles are missing: looked in {installed} and {checkout}").format(
            installed=installed, checkout=checkout
        )
    )


def stylesheets() -> list[Path]:
    return sorted(styles_dir().glob("*.tcss"))
