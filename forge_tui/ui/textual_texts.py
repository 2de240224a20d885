"""Textual's own texts that forge-tui shows, marked here so the catalogs translate them: the palette's
system commands (ForgeApp.get_system_commands) and the palette key in the footer (ForgeFooter)."""

from __future__ import annotations

from forge_tui.i18n import N_

TEXTUAL_TEXTS = (
    N_("Theme"),
    N_("Change the current theme"),
    N_("Quit"),
    N_("Quit the application as soon as possible"),
    N_("Minimize"),
    N_("Minimize the widget and restore to normal size"),
    N_("Maximize"),
    N_("Maximize the focused widget"),
    N_("Screenshot"),
    N_("Save an SVG 'screenshot' of the current screen"),
    N_("palette"),
    N_("Open the command palette"),
)
