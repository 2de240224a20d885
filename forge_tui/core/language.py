"""The output language of a generation job: the instruction for the system prompt, and a flag for an
answer written in another script, or in Simplified Chinese where zh-TW was asked (no I/O).

Scripts are counted over letters outside code: a Latin word counts once, as does each CJK character,
kana, Hangul syllable or letter of another script, so an English term in a Chinese answer does not
outweigh the sentence around it. Simplified Chinese is found with OpenCC: the answer is converted to
Traditional and the characters that change are counted (see `_changed_share`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _

_LATIN, _HAN, _KANA, _HANGUL = "Latin", "Han", "Kana", "Hangul"
_SCRIPT_WORDS = {
    "LATIN": _LATIN,
    "CJK": _HAN,
    "HIRAGANA": _KANA,
    "KATAKANA": _KANA,
    "HANGUL": _HANGUL,
    "CYRILLIC": "Cyrillic",
    "ARABIC": "Arabic",
    "GREEK": "Greek",
    "HEBREW": "Hebrew",
    "THAI": "Thai",
    "DEVANAGARI": "Devanagari",
}
_SCRIPT_NAMES = {_LATIN: "Latin script", _HAN: "Chinese characters", _KANA: "Japanese kana", _HANGUL: "Hangul"}
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`|https?://\S+", re.DOTALL)
_MIN_UNITS = 3  # fewer letters than this say nothing about the language
# An answer is Simplified (or Traditional) when converting it changes 2 characters and 5% of its CJK
# characters, or 1 and 10% (a short answer). Measured on LLaMA-Factory's alpaca_zh_demo (1,979 texts)
# and their Taiwan-standard conversion: 97.8% of the Simplified texts flagged, 1 Traditional one.
_CHANGED_MIN = ((2, 0.05), (1, 0.10))


@dataclass(frozen=True)
class Language:
    name: str  # as the instruction says it: "English", "Traditional Chinese (zh-TW)"
    scripts: frozenset[str] = frozenset()  # empty: not checked
    chinese: str | None = None  # "traditional" or "simplified": the Chinese characters expected


def _latin(name: str) -> Language:
    return Language(name, frozenset({_LATIN}))


_KNOWN: dict[str, Language] = {
    "en": _latin("English"),
    "zh-tw": Language("Traditional Chinese (zh-TW)", frozenset({_HAN}), "traditional"),
    "zh-hant": Language("Traditional Chinese", frozenset({_HAN}), "traditional"),
    "zh-hk": Language("Traditional Chinese (zh-HK)", frozenset({_HAN}), "traditional"),
    "zh-cn": Language("Simplified Chinese (zh-CN)", frozenset({_HAN}), "simplified"),
    "zh-hans": Language("Simplified Chinese", frozenset({_HAN}), "simplified"),
    "zh": Language("Chinese", frozenset({_HAN})),
    "ja": Language("Japanese", frozenset({_HAN, _KANA})),
    "ko": Language("Korean", frozenset({_HANGUL, _HAN})),
    "fr": _latin("French"),
    "de": _latin("German"),
    "es": _latin("Spanish"),
    "it": _latin("Italian"),
    "pt": _latin("Portuguese"),
    "nl": _latin("Dutch"),
    "vi": _latin("Vietnamese"),
    "id": _latin("Indonesian"),
    "ru": Language("Russian", frozenset({"Cyrillic"})),
    "uk": Language("Ukrainian", frozenset({"Cyrillic"})),
    "ar": Language("Arabic", frozenset({"Arabic"})),
    "he": Language("Hebrew", frozenset({"Hebrew"})),
    "el": Language("Greek", frozenset({"Greek"})),
    "th": Language("Thai", frozenset({"Thai"})),
    "hi": Language("Hindi", frozenset({"Devanagari"})),
}
_BY_NAME = {lang.name.casefold(): lang for lang in _KNOWN.values()} | {
    "traditional chinese": _KNOWN["zh-tw"],
    "simplified chinese": _KNOWN["zh-cn"],
}


def language(code_or_name: str) -> Language:
    """A language by code ("en", "zh-TW") or by name ("Japanese"); another name is used as given,
    without a script check."""
    key = code_or_name.strip().replace("_", "-").casefold()
    found = _KNOWN.get(key) or _BY_NAME.get(key)
    return found or Language(clip(" ".join(code_or_name.split()), 60))


def instruction(code_or_name: str) -> str:
    return f"Answer in {language(code_or_name).name}."


def with_instruction(system_prompt: str, code_or_name: str | None) -> str:
    """The system prompt with the language instruction after it (the prompt as it is without one)."""
    if not code_or_name:
        return system_prompt
    return f"{system_prompt}\n\n{instruction(code_or_name)}" if system_prompt else instruction(code_or_name)


def script_units(text: str) -> Counter[str]:
    """Letters per script, outside code: a Latin word counts once, any other letter once."""
    units: Counter[str] = Counter()
    in_latin_word = False
    for char in _CODE.sub(" ", text):
        script = _script(char)
        if script == _LATIN:
            if not in_latin_word:
                units[_LATIN] += 1
            in_latin_word = True
            continue
        in_latin_word = False
        if script is not None:
            units[script] += 1
    return units


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str | None:
    if not unicodedata.category(char).startswith("L"):
        return None
    words = unicodedata.name(char, "").replace("FULLWIDTH ", "").split()
    return _SCRIPT_WORDS.get(words[0], "other") if words else "other"


def language_flag(text: str, code_or_name: str | None) -> str | None:
    """Why `text` does not look like the language asked for; None when it does or cannot be told."""
    if not code_or_name:
        return None
    wanted = language(code_or_name)
    units = script_units(text)
    total = sum(units.values())
    if not wanted.scripts or total < _MIN_UNITS:
        return None
    if sum(units[s] for s in wanted.scripts) * 2 < total:
        dominant = max((s for s in units if s not in wanted.scripts), key=lambda s: units[s])
        return f"written in {_SCRIPT_NAMES.get(dominant, dominant + ' script')}, not {wanted.name}"
    if wanted.chinese == "traditional" and _changed_share(text, "s2tw"):
        return "Simplified Chinese"
    if wanted.chinese == "simplified" and _changed_share(text, "t2s"):
        return "Traditional Chinese"
    return None


def check_supported(code_or_name: str | None) -> None:
    """Raises ForgeError when answers in this language cannot be checked here (OpenCC missing)."""
    if code_or_name:
        chinese = language(code_or_name).chinese
        if chinese is not None:
            _converter("s2tw" if chinese == "traditional" else "t2s")


def _changed_share(text: str, config: str) -> bool:
    """Whether OpenCC's conversion changes enough of the CJK characters to call the text the other
    form. Taiwan-standard s2tw rather than plain s2t: s2t also "changes" characters that Taiwan
    writes as they are (台 to 臺, 群 to 羣), which would flag one real zh-TW answer in ten."""
    converted = _converter(config)(text)
    han = sum(1 for char in text if _script(char) == _HAN)
    if not han:
        return False
    changed = sum(1 for a, b in zip(text, converted, strict=False) if a != b) + abs(len(text) - len(converted))
    return any(changed >= least and changed / han >= share for least, share in _CHANGED_MIN)


@functools.cache
def _converter(config: str) -> Callable[[str], str]:
    try:
        import opencc  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        raise ForgeError(
            _("Checking Chinese answers needs the opencc package, which is not installed: pip install opencc.")
        ) from None
    convert: Callable[[str], str] = opencc.OpenCC(config).convert
    return convert
