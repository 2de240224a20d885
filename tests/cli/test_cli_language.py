"""The command line in Traditional Chinese, as real processes (the language is chosen before the command
modules are imported): --help translated, an error translated with the same exit code, --json output
byte-identical to English, and the note about Simplified Chinese on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from forge_tui.services.home import open_home
from tests.ui.helpers import make_user

pytestmark = pytest.mark.slow  # starts forge-tui processes


def forge_tui(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("FORGE_TUI_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return subprocess.run(
        [sys.executable, "-m", "forge_tui", *args],
        env=base | {"LANG": "C.UTF-8", "COLUMNS": "80"} | env, input=stdin, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_help_in_zh_tw_by_flag_and_by_environment() -> None:
    by_flag = forge_tui("--lang", "zh_TW", "--help", env={})
    by_env = forge_tui("--help", env={"FORGE_TUI_LANG": "zh-TW"})
    by_locale = forge_tui("--help", env={"LANG": "zh_TW.UTF-8"})
    assert by_flag.returncode == by_env.returncode == by_locale.returncode == 0
    assert by_flag.stdout == by_env.stdout == by_locale.stdout
    shown = by_flag.stdout
    expected = ["用法：", "在終端機裡用本機模型建立 LLM 微調資料集。", "選項", "指令", "介面語言", "顯示此說明後結束。"]
    expected += ["以訓練工具的格式匯出資料集。", "結束代碼：0 成功"]
    for words in expected:
        assert words in shown, words
    assert "Build LLM fine-tuning datasets" not in shown and by_flag.stderr == ""
    # Wrapped by cells: a Chinese character takes two.
    assert max(cell_len(line) for line in shown.splitlines()) <= 80
    english = forge_tui("--help", env={})
    assert "Build LLM fine-tuning datasets with local models, from the terminal." in english.stdout
    assert "用法" not in english.stdout


def test_simplified_chinese_gets_traditional_with_a_note_on_stderr() -> None:
    shown = forge_tui("--help", env={"LANG": "zh_CN.UTF-8"})
    assert shown.returncode == 0 and "用法：" in shown.stdout
    assert shown.stderr.strip() == "forge-tui: 簡體中文介面尚未翻譯，因此 forge-tui 以繁體中文顯示。"


def test_an_error_keeps_its_exit_code_and_json_output_does_not_change(fast_home_dir: Path) -> None:
    home = open_home(fast_home_dir)
    make_user(home)
    home.close()
    home_args = ("--home", str(fast_home_dir))
    rotate = (*home_args, "user", "rotate-key", "--password-stdin")
    wrong = {lang: forge_tui(*rotate, env={"FORGE_TUI_LANG": lang}, stdin="wrong\n") for lang in ("en", "zh_TW")}
    assert wrong["en"].returncode == wrong["zh_TW"].returncode == 3
    assert wrong["en"].stderr.strip() == "forge-tui: Wrong password."
    assert wrong["zh_TW"].stderr.strip() == "forge-tui: 密碼錯誤。"
    listed = {
        lang: forge_tui("--lang", lang, *home_args, "datasets", "list", "--json", env={}) for lang in ("en", "zh_TW")
    }
    assert listed["en"].returncode == listed["zh_TW"].returncode == 0
    assert listed["en"].stdout == listed["zh_TW"].stdout and '"name": "default"' in listed["en"].stdout
    assert listed["zh_TW"].stderr == ""
