"""The interface language: `_()` translates a message into the current language.

Outside the layers (core, llm, store, services, ui and cli all import it); it imports only the standard
library, and Babel when a catalog has to be compiled in memory. How to write a translatable text is in
ARCHITECTURE.md ("Text and languages").
"""

from forge_tui.i18n.detection import ENGLISH, LANGUAGES, TRADITIONAL_CHINESE, Detected, detect, from_accept_language
from forge_tui.i18n.translate import N_, _, current, forced, ngettext, set_language, start

__all__ = [
    "ENGLISH",
    "LANGUAGES",
    "N_",
    "TRADITIONAL_CHINESE",
    "Detected",
    "_",
    "current",
    "detect",
    "forced",
    "from_accept_language",
    "ngettext",
    "set_language",
    "start",
]
