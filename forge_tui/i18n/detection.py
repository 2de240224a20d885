"""Which language to show: from --lang, the environment, the account's choice or a browser's header."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from forge_tui.i18n.marks import N_

ENGLISH = "en"
TRADITIONAL_CHINESE = "zh_TW"
# Each language in its own words, as the language choice lists them.
LANGUAGES = {ENGLISH: "English", TRADITIONAL_CHINESE: "繁體中文"}
# The locale variables in the order gettext reads them.
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
SIMPLIFIED_NOTE = N_("Simplified Chinese is not translated yet, so forge-tui is shown in Traditional Chinese.")

_TRADITIONAL_PARTS = frozenset({"tw", "hk", "mo", "hant"})


@dataclass(frozen=True)
class Detected:
    """A language forge-tui has, where it came from, and a note (a message id) for the user or None."""

    language: str
    source: str = "default"  # flag, env, saved, locale, browser or default
    note: str | None = None
    tag: str = ""  # the name or tag it was read from (zh-Hant-TW), "" for the default

    @property
    def forced(self) -> bool:
        """Chosen for this run (--lang or FORGE_TUI_LANG): the account's saved choice does not replace it."""
        return self.source in ("flag", "env")


def resolve(tag: str) -> tuple[str, str | None] | None:
    """(language, note) for a locale name or language tag such as zh_TW.UTF-8, zh-Hant-HK or en-US;
    None for an empty one. zh_TW, zh_Hant and zh_HK (any case, - or _, any encoding) are Traditional
    Chinese; zh, zh_CN or zh_Hans get Traditional Chinese with a note; anything else is English."""
    name = tag.strip().split(".", 1)[0].split("@", 1)[0].strip().lower().replace("-", "_")
    if not name:
        return None
    parts = name.split("_")
    if parts[0] == "zh":
        if _TRADITIONAL_PARTS.intersection(parts[1:]):
            return TRADITIONAL_CHINESE, None
        return TRADITIONAL_CHINESE, SIMPLIFIED_NOTE
    return ENGLISH, None


def _from_locale(environ: Mapping[str, str]) -> tuple[tuple[str, str | None], str] | None:
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable, "")
        if variable == "LANGUAGE":  # a list in order of preference: zh_TW:en
            value = next((v for v in value.split(":") if v.strip()), "")
        found = resolve(value)
        if found is not None:
            return found, value.strip()
    return None


def detect(flag: str | None, environ: Mapping[str, str], saved: str | None = None) -> Detected:
    """--lang, else FORGE_TUI_LANG, else the account's saved choice (known after unlock), else the
    locale variables, else English."""
    sources = (("flag", flag or ""), ("env", environ.get("FORGE_TUI_LANG", "")), ("saved", saved or ""))
    for source, value in sources:
        found = resolve(value)
        if found is not None:
            return Detected(found[0], source, found[1], value.strip())
    from_locale = _from_locale(environ)
    if from_locale is not None:
        return Detected(from_locale[0][0], "locale", from_locale[0][1], from_locale[1])
    return Detected(ENGLISH)


_WEIGHT = re.compile(r"^q\s*=\s*([0-9.]+)$", re.IGNORECASE)


def from_accept_language(header: str) -> Detected:
    """The browser's first language forge-tui has, by the header's q-values (a tag nothing maps to,
    such as fr, is passed over; none at all is English)."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, *parameters = (part.strip() for part in item.split(";"))
        weight = 1.0
        for parameter in parameters:
            match = _WEIGHT.match(parameter)
            if match:
                try:
                    weight = float(match.group(1))
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            weighted.append((-weight, position, tag))
    for _weight, _position, tag in sorted(weighted):
        name = tag.lower().replace("_", "-")
        if name == "en" or name.startswith("en-") or name == "zh" or name.startswith("zh-"):
            found = resolve(tag)
            if found is not None:
                return Detected(found[0], "browser", found[1], tag)
    return Detected(ENGLISH, "browser")
