"""gettext under the current language, with the catalogs of forge_tui/locale."""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

from forge_tui.i18n.detection import ENGLISH, LANGUAGES, Detected, detect
from forge_tui.i18n.marks import N_

DOMAIN = "forge_tui"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_catalogs: dict[str, gettext.NullTranslations] = {}
_current = ENGLISH
_translations: gettext.NullTranslations = gettext.NullTranslations()  # the ids until set_language()
_forced = False

__all__ = ["N_", "_", "catalog", "current", "forced", "ngettext", "set_language", "start"]


def _(message: str) -> str:
    """`message` in the current language (the message itself in English or when it has no translation)."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def current() -> str:
    """The language in use: "en" or "zh_TW"."""
    return _current


def forced() -> bool:
    """Whether --lang or FORGE_TUI_LANG chose the language (then an account's saved choice does not)."""
    return _forced


def set_language(language: str) -> None:
    """Translates from now on into `language` (one of LANGUAGES; any other means English)."""
    global _current, _translations
    _current = language if language in LANGUAGES else ENGLISH
    _translations = catalog(_current)


def start(flag: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """Sets the language a run starts in (detect()) and returns its note, translated, or None."""
    global _forced
    found: Detected = detect(flag, os.environ if environ is None else environ)
    _forced = found.forced
    set_language(found.language)
    return _(found.note) if found.note else None


def catalog(language: str) -> gettext.NullTranslations:
    if language not in _catalogs:
        _catalogs[language] = _load(language)
    return _catalogs[language]


def _load(language: str) -> gettext.NullTranslations:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    mo, po = folder / f"{DOMAIN}.mo", folder / f"{DOMAIN}.po"
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as file:
            return gettext.GNUTranslations(file)
    if po.is_file() and language != ENGLISH:
        return _compiled(po)
    # English is the language of the message ids: its catalog is the identity until someone edits a
    # text there, so a checkout without a built .mo does not pay for compiling it.
    return gettext.NullTranslations()


def _compiled(po: Path) -> gettext.NullTranslations:
    """The wheel ships .mo files (compiled by the build hook, .ci/hatch_build.py), but a source
    checkout has only the .po (or a .mo older than it): compile it in memory, as the build would.
    Measured by bench/startup.py: about 3 ms to compile, plus 25-50 ms to import Babel the first time;
    a .mo loads in under 1 ms."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as file:
        messages = read_po(file)
    buffer = BytesIO()
    write_mo(buffer, messages, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)
