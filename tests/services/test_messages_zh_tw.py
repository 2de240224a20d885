"""The services' messages for people in Traditional Chinese, and back in English after a switch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from forge_tui import i18n
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.services import readable_files
from forge_tui.services.exporting import ExportSummary
from forge_tui.services.importing import ImportSummary
from forge_tui.services.review_queue import ReviewOrder


def test_a_missing_file_is_said_in_zh_tw_with_the_same_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "topics.txt"
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    with pytest.raises(NotFound) as found:
        readable_files.read_text(missing)
    assert str(found.value) == f"無法讀取 {missing}：沒有這個檔案。"
    assert found.value.exit_code == NotFound.exit_code

    i18n.set_language(i18n.ENGLISH)
    with pytest.raises(NotFound) as found:
        readable_files.read_text(missing)
    assert str(found.value) == f"Cannot read {missing}: there is no such file."


def test_a_directory_given_as_a_file_is_refused_in_zh_tw(tmp_path: Path) -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    with pytest.raises(InvalidInput) as found:
        readable_files.check(tmp_path)
    assert str(found.value) == f"{tmp_path} 是目錄，而不是檔案。"


def test_the_export_summary_in_zh_tw_and_back_in_english() -> None:
    out = Path("/data/out.jsonl")
    summary = ExportSummary(format="chatml", files=[out], records=[4], review_left_out={"rejected": 2})
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert summary.line() == f"已寫入 {out}（4 筆記錄）；2 個已拒絕的範例未匯出。"
    i18n.set_language(i18n.ENGLISH)
    assert summary.line() == f"Wrote 4 records to {out}; 2 rejected examples left out."


def test_the_import_summary_in_zh_tw() -> None:
    summary = ImportSummary(
        dataset="default", file="photos.parquet", imported=1, shapes=Counter({"text": 1}), skipped_columns=["photo"]
    )
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert summary.line() == "已匯入 1 個範例到「default」（1 text）；略過的欄：photo。"
    i18n.set_language(i18n.ENGLISH)
    assert summary.line() == "Imported 1 example into 'default' (1 text); skipped column photo."


def test_a_review_order_reads_in_zh_tw_while_its_value_stays_english() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert ReviewOrder.WORST_FIRST.label == "最差的在前"
    assert ReviewOrder.WORST_FIRST.value == "worst first"
    i18n.set_language(i18n.ENGLISH)
    assert ReviewOrder.WORST_FIRST.label == "worst first"
