"""The output language: the instruction, an answer in another script, Simplified Chinese where zh-TW
was asked (OpenCC), and a clear error when OpenCC is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forge_tui.core import language as lang
from forge_tui.core.errors import ForgeError
from forge_tui.core.generation import TOPIC_TEMPLATE, GenerationSpec, plan_items
from forge_tui.core.language import instruction, language_flag, script_units, with_instruction

TRADITIONAL = "潮汐是由月球和太陽的引力造成的。海水每天漲落兩次，台灣的漁民會依照潮汐安排出海的時間。"
SIMPLIFIED = "潮汐是由月球和太阳的引力造成的。海水每天涨落两次，渔民会根据潮汐安排出海的时间。"
SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "alpaca_zh_demo.json"


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("en", "Answer in English."),
        ("zh-TW", "Answer in Traditional Chinese (zh-TW)."),
        ("zh_tw", "Answer in Traditional Chinese (zh-TW)."),
        ("japanese", "Answer in Japanese."),
        ("  Klingon  ", "Answer in Klingon."),
    ],
)
def test_the_instruction_names_the_language(asked: str, expected: str) -> None:
    assert instruction(asked) == expected


def test_the_instruction_goes_after_the_system_prompt() -> None:
    assert with_instruction("You are terse.", "zh-TW") == "You are terse.\n\nAnswer in Traditional Chinese (zh-TW)."
    assert with_instruction("", "en") == "Answer in English."
    assert with_instruction("You are terse.", None) == "You are terse."


def test_a_simplified_answer_to_a_zh_tw_job_is_flagged_and_a_traditional_one_is_not() -> None:
    assert language_flag(SIMPLIFIED, "zh-TW") == "Simplified Chinese"
    assert language_flag(TRADITIONAL, "zh-TW") is None
    assert language_flag(TRADITIONAL, "zh-CN") == "Traditional Chinese"
    assert language_flag(SIMPLIFIED, "zh-CN") is None


def test_an_answer_in_another_script_is_flagged() -> None:
    english = "Tides are caused by the pull of the moon and the sun on the oceans."
    assert language_flag(english, "zh-TW") == "written in Latin script, not Traditional Chinese (zh-TW)"
    assert language_flag(TRADITIONAL, "en") == "written in Chinese characters, not English"
    assert language_flag("Приливы вызываются Луной и Солнцем.", "fr") == "written in Cyrillic script, not French"
    assert language_flag(english, "en") is None
    assert language_flag(english, "Klingon") is None  # a language not known: not checked
    assert language_flag(english, None) is None
    assert language_flag("OK", "zh-TW") is None  # too short to tell


def test_code_and_english_terms_do_not_outweigh_a_chinese_answer() -> None:
    answer = TRADITIONAL + " 例如 Python 的 `datetime.timedelta(hours=12, minutes=25)`：\n```python\nprint('tide')\n```"
    assert script_units(answer)["Latin"] == 1
    assert language_flag(answer, "zh-TW") is None


@pytest.mark.skipif(not SAMPLES.exists(), reason="../shared/data is absent")
def test_real_chinese_text_is_told_apart() -> None:
    import opencc  # type: ignore[import-untyped, unused-ignore]

    to_taiwan = opencc.OpenCC("s2tw").convert
    texts = [row["output"] for row in json.loads(SAMPLES.read_text(encoding="utf-8"))[:300] if len(row["output"]) > 40]
    simplified_flagged = sum(language_flag(text, "zh-TW") == "Simplified Chinese" for text in texts)
    # (a few answers in the sample are English or code: those are flagged for their script instead)
    traditional_flagged = sum(language_flag(to_taiwan(text), "zh-TW") == "Simplified Chinese" for text in texts)
    assert simplified_flagged >= 0.9 * len(texts)
    assert traditional_flagged <= 0.01 * len(texts)


def test_missing_opencc_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    lang._converter.cache_clear()
    monkeypatch.setitem(sys.modules, "opencc", None)  # `import opencc` now raises ImportError
    try:
        with pytest.raises(ForgeError, match="needs the opencc package"):
            language_flag(SIMPLIFIED, "zh-TW")
        assert language_flag("Tides come twice a day.", "en") is None  # other languages still checked
        zh = GenerationSpec(template=TOPIC_TEMPLATE, count=1, dataset_id=1, model="m", language="zh-TW")
        with pytest.raises(ForgeError, match="needs the opencc package"):
            plan_items(zh)  # before a job starts
    finally:
        lang._converter.cache_clear()
