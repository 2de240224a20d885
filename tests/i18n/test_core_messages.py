"""Messages of core, store and llm in Traditional Chinese: the filter language's errors, a damaged
database, a model the server lacks, a judge job's counts, and the endpoint table padded by cells. Each
switches back to English with the language."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len

from forge_tui import i18n
from forge_tui.core import calibration
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoint_figures import figure_lines
from forge_tui.core.filter_language import FilterError, parse
from forge_tui.core.judge_counts import counts_line
from forge_tui.core.pool_stats import EndpointState, EndpointStats
from forge_tui.core.templates import TemplateError, TemplateInfo
from forge_tui.i18n import N_
from forge_tui.llm.errors import ModelNotFound
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.services.dataset_files import detect_type
from forge_tui.store import db_file
from tests.fake_ollama import FakeOllama


def error_of(expression: str) -> str:
    with pytest.raises(FilterError) as caught:
        parse(expression)
    return str(caught.value)


def test_filter_errors_follow_the_language() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert error_of("score >= 7 and colour = red") == (
        "第 16 個字元的欄「colour」不存在：可用的欄有 "
        "score, review, source, model, kto, flag, tokens, prompt_tokens, rejected, created, "
        "prompt, answer, system, slot:NAME。"
    )
    assert error_of("review = maybe") == (
        "第 10 個字元的「review」沒有「maybe」這個值：可用的值有 accepted, unreviewed, rejected。"
    )
    i18n.set_language(i18n.ENGLISH)
    assert error_of("review = maybe").startswith("Unknown value 'maybe' for 'review' at 10: the values are")


def test_a_template_error_names_the_prompt_and_line_in_zh_tw() -> None:
    template = TemplateInfo(name="t", user_prompt="Hello\n{{ topic }")
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    with pytest.raises(TemplateError) as caught:
        template.check()
    assert str(caught.value).startswith("使用者提示詞：第 2 行：")


def test_a_damaged_database_is_explained_in_zh_tw(tmp_path: Path) -> None:
    empty = tmp_path / "forge.db"
    empty.write_bytes(b"")
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    with pytest.raises(db_file.DatabaseDamaged) as caught:
        db_file.check(empty)
    assert str(caught.value) == (
        f"資料庫 {empty} 是空的（0 位元組）：請從備份還原，並先將損壞的檔案及其 forge.db-wal（如果有的話）移到別處。"
    )
    i18n.set_language(i18n.ENGLISH)
    with pytest.raises(db_file.DatabaseDamaged, match=r"is empty \(0 bytes\): restore it from a backup"):
        db_file.check(empty)


async def test_a_missing_model_is_named_in_zh_tw(fake: FakeOllama) -> None:
    backend = OllamaBackend(BackendSettings(base_url=fake.base_url))
    try:
        i18n.set_language(i18n.TRADITIONAL_CHINESE)
        with pytest.raises(ModelNotFound, match="找不到模型「ghost」——請用 `ollama pull ghost` 下載"):
            await backend.ensure_model("ghost")
    finally:
        await backend.aclose()


def test_job_counts_in_zh_tw_and_calibration_in_english_for_machines() -> None:
    results = {"processed": 10, "kept": 6, "fixed": 2, "removed": 0, "score_sum": 64.0}
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert counts_line(results) == "已處理 10，保留 6，已修正 2，已移除 0，平均分數 6.4"
    figures = calibration.calibrate([(8.0, True), (3.0, False)], 5.0)
    assert calibration.summary(figures).startswith("在 2 個範例中")
    assert calibration.summary(figures, N_).startswith("Over 2 examples (1 kept, 1 turned down)")
    i18n.set_language(i18n.ENGLISH)
    assert counts_line(results) == "processed 10, kept 6, fixed 2, removed 0, mean score 6.4"


def test_the_endpoint_table_is_padded_by_cells_in_zh_tw() -> None:
    def stats(name: str) -> EndpointStats:
        return EndpointStats(name, "http://gpu:11434", EndpointState.HEALTHY, 3, 4, 32, 342.0, 7.5, 0.004, 10, 1)

    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    lines = figure_lines([stats("gpu-a"), stats("b")])
    assert lines[0].startswith("端點")
    # The numbers are right-aligned: every line ends in the same terminal column.
    assert len({cell_len(line) for line in lines}) == 1


def test_a_file_is_read_as_the_same_type_in_either_language(tmp_path: Path) -> None:
    """The JSON sniffing tells a line that is no JSON by the error's type, not by its English words."""
    path = tmp_path / "records"
    path.write_text('{"a": 1,}\n  "x"\n', encoding="utf-8")
    english = detect_type(path)
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert detect_type(path) == english == "json"
