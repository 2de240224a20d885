"""Which language a run starts in: --lang, FORGE_TUI_LANG, the account's choice, the locale, a browser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_tui.i18n import ENGLISH, TRADITIONAL_CHINESE, Detected, detect, from_accept_language
from forge_tui.i18n.detection import SIMPLIFIED_NOTE, resolve

TRADITIONAL = ["zh_TW", "zh-TW", "ZH_tw", "zh_TW.UTF-8", "zh_TW.utf8@euro", "zh_Hant", "zh-Hant-TW", "zh-HK",
               "zh_hk.UTF-8", "zh-MO", "zh_Hant_HK"]  # fmt: skip
SIMPLIFIED = ["zh", "ZH", "zh_CN", "zh-cn", "zh_CN.UTF-8", "zh_Hans", "zh-Hans-CN", "zh_SG", "zh.GB18030"]
OTHERS = ["en", "en_US.UTF-8", "C", "POSIX", "C.UTF-8", "fr_FR", "ja_JP.UTF-8", "de"]


@pytest.mark.parametrize("name", TRADITIONAL)
def test_traditional_chinese_names(name: str) -> None:
    assert resolve(name) == (TRADITIONAL_CHINESE, None)


@pytest.mark.parametrize("name", SIMPLIFIED)
def test_simplified_or_plain_chinese_gets_traditional_with_a_note(name: str) -> None:
    assert resolve(name) == (TRADITIONAL_CHINESE, SIMPLIFIED_NOTE)


@pytest.mark.parametrize("name", OTHERS)
def test_anything_else_is_english(name: str) -> None:
    assert resolve(name) == (ENGLISH, None)


def test_empty_names_say_nothing() -> None:
    assert resolve("") is None and resolve("  ") is None and resolve(".UTF-8") is None


def test_order_flag_env_saved_locale_default() -> None:
    env = {"FORGE_TUI_LANG": "en", "LANG": "zh_TW.UTF-8"}
    assert detect("zh-TW", env, saved="en") == Detected(TRADITIONAL_CHINESE, "flag", None, "zh-TW")
    assert detect(None, env, saved="zh_TW").source == "env"
    assert detect(None, {"LANG": "en_US.UTF-8"}, saved="zh_TW") == Detected(TRADITIONAL_CHINESE, "saved", None, "zh_TW")
    assert detect(None, {"LANG": "zh_TW.UTF-8"}) == Detected(TRADITIONAL_CHINESE, "locale", None, "zh_TW.UTF-8")
    assert detect(None, {}) == Detected(ENGLISH)
    assert detect("", {"FORGE_TUI_LANG": ""}).source == "default"


def test_locale_variables_in_gettext_order() -> None:
    env = {"LANGUAGE": "zh_TW:en", "LC_ALL": "en_US.UTF-8", "LC_MESSAGES": "en_US", "LANG": "en_US"}
    assert detect(None, env).language == TRADITIONAL_CHINESE
    assert detect(None, env | {"LANGUAGE": ""}).language == ENGLISH
    assert detect(None, {"LC_MESSAGES": "zh_HK.UTF-8", "LANG": "en_US"}).language == TRADITIONAL_CHINESE
    assert detect(None, {"LANG": "zh_CN.UTF-8"}).note == SIMPLIFIED_NOTE


def test_forced_only_by_flag_or_env() -> None:
    assert detect("en", {}).forced and detect(None, {"FORGE_TUI_LANG": "zh_TW"}).forced
    assert not detect(None, {"LANG": "zh_TW"}, saved="en").forced
    assert not detect(None, {"LANG": "zh_TW"}).forced


@pytest.mark.parametrize(
    ("header", "language", "note"),
    [
        ("zh-TW,zh;q=0.9,en-US;q=0.8,en;q=0.7", TRADITIONAL_CHINESE, None),
        ("en-US,en;q=0.9,zh-TW;q=0.8", ENGLISH, None),
        ("fr-FR,fr;q=0.9,zh-Hant;q=0.5,en;q=0.3", TRADITIONAL_CHINESE, None),  # French is passed over
        ("fr, de;q=0.5", ENGLISH, None),
        ("zh-CN,zh;q=0.9", TRADITIONAL_CHINESE, SIMPLIFIED_NOTE),
        ("en;q=0.5, zh-HK;q=0.8", TRADITIONAL_CHINESE, None),  # q-values, not the order, decide
        ("zh-TW;q=0, en", ENGLISH, None),  # q=0: not wanted
        ("*", ENGLISH, None),
        ("", ENGLISH, None),
        ("zh-TW;q=abc", TRADITIONAL_CHINESE, None),
        (";;;,,, ;q=1", ENGLISH, None),
    ],
)
def test_accept_language(header: str, language: str, note: str | None) -> None:
    found = from_accept_language(header)
    assert (found.language, found.note, found.source) == (language, note, "browser")


LANGUAGE_NAMES = st.sampled_from(TRADITIONAL + SIMPLIFIED + OTHERS)


@given(st.text(max_size=40))
def test_any_name_maps_to_a_language_forge_tui_has(name: str) -> None:
    found = resolve(name)
    assert found is None or found[0] in (ENGLISH, TRADITIONAL_CHINESE)
    assert found is None or found[1] is None or found[0] == TRADITIONAL_CHINESE


@given(LANGUAGE_NAMES, st.sampled_from(["-", "_"]), st.sampled_from(["", ".UTF-8", ".utf8", "@euro"]))
def test_separators_case_and_encoding_do_not_matter(name: str, separator: str, suffix: str) -> None:
    variant = name.replace("_", separator).replace("-", separator).swapcase() + suffix
    assert resolve(variant) == resolve(name)


@given(LANGUAGE_NAMES)
def test_a_browser_tag_reads_as_the_same_locale_name(name: str) -> None:
    """Accept-Language and the locale variables agree for every language forge-tui knows."""
    tag = name.split(".")[0].replace("_", "-")
    found, expected = from_accept_language(tag), resolve(name)
    assert expected is not None
    if tag.lower().split("-")[0] in ("en", "zh"):
        assert (found.language, found.note) == expected
    else:
        assert (found.language, found.note) == (ENGLISH, None)


@given(st.text(max_size=60))
def test_any_header_gives_a_language(header: str) -> None:
    assert from_accept_language(header).language in (ENGLISH, TRADITIONAL_CHINESE)
