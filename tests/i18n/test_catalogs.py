"""The catalogs: every message the code marks is translated into zh_TW (not fuzzy, same {fields}), the
extraction reads its settings from pyproject.toml, and a catalog compiles in memory when no .mo is built."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from forge_tui import i18n
from forge_tui.i18n import translate

REPO = Path(__file__).resolve().parents[2]
ZH_PO = REPO / "forge_tui" / "locale" / "zh_TW" / "LC_MESSAGES" / "forge_tui.po"


def extracted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """`pybabel extract` as a developer runs it at the repository root (settings from pyproject.toml),
    written to tmp_path instead of the committed template."""
    monkeypatch.chdir(REPO)
    template = tmp_path / "forge_tui.pot"
    cli = CommandLineInterface()
    cli.run(["pybabel", "--quiet", "extract", "--output-file", str(template)])  # type: ignore[no-untyped-call]
    with template.open("rb") as file:
        return read_po(file)


def fields(text: str | tuple[str, ...] | list[str]) -> set[str]:
    texts = [text] if isinstance(text, str) else list(text)
    return {name for t in texts for _lit, name, _spec, _conv in string.Formatter().parse(t) if name is not None}


def ids(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def test_every_extracted_message_is_translated_in_zh_tw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template = extracted(tmp_path, monkeypatch)
    assert len(template) > 100  # the extraction found the marked messages (keywords _, N_, ngettext)
    with ZH_PO.open("rb") as file:
        zh = read_po(file)
    missing, fuzzy, empty, wrong_fields = [], [], [], []
    for message in template:
        if not message.id:
            continue
        translated = zh.get(message.id)
        if translated is None:
            missing.append(ids(message))
        elif translated.fuzzy:
            fuzzy.append(ids(message))
        elif not all(translated.string if isinstance(translated.string, tuple) else [translated.string]):
            empty.append(ids(message))
        elif fields(translated.string or "") != fields(message.id):
            wrong_fields.append(ids(message))
    assert not missing, f"not in zh_TW (run pybabel extract, pybabel update, then translate): {missing}"
    assert not fuzzy, f"fuzzy in zh_TW (check the translation, then drop the fuzzy flag): {fuzzy}"
    assert not empty, f"untranslated in zh_TW: {empty}"
    assert not wrong_fields, f"zh_TW names other {{fields}} than the message: {wrong_fields}"


def test_zh_tw_keeps_its_glossary_and_plural_forms() -> None:
    text = ZH_PO.read_text(encoding="utf-8")
    assert re.search(r"^# .*dataset 資料集.*template 範本", text, re.MULTILINE)
    with ZH_PO.open("rb") as file:
        assert read_po(file).plural_forms == "nplurals=1; plural=0;"


def test_a_source_checkout_compiles_the_po_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No .mo next to the .po (git ignores them; only a build writes them): the .po is read instead."""
    folder = tmp_path / "zh_TW" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "forge_tui.po").write_bytes(ZH_PO.read_bytes())
    monkeypatch.setattr(translate, "LOCALE_DIR", tmp_path)
    monkeypatch.setitem(translate._catalogs, "zh_TW", None)  # restored afterwards
    del translate._catalogs["zh_TW"]
    assert translate.catalog("zh_TW").gettext("Wrong password.") == "密碼錯誤。"
    assert translate.catalog("zh_TW").ngettext("{count} example", "{count} examples", 2) == "{count} 個範例"


def test_set_language_and_back() -> None:
    try:
        i18n.set_language("zh_TW")
        assert i18n._("Username") == "使用者名稱" and i18n.current() == "zh_TW"
        i18n.set_language("fr")  # anything else is English
        assert i18n._("Username") == "Username" and i18n.current() == "en"
    finally:
        i18n.set_language("en")


def test_the_english_catalog_holds_every_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """en is a catalog like zh_TW (`pybabel update` keeps both); its empty msgstr shows the id itself."""
    template = extracted(tmp_path, monkeypatch)
    with (REPO / "forge_tui" / "locale" / "en" / "LC_MESSAGES" / "forge_tui.po").open("rb") as file:
        english = read_po(file)
    missing = [ids(m) for m in template if m.id and english.get(m.id) is None]
    assert not missing, f"not in the en catalog (run pybabel update): {missing}"
    assert english.plural_forms == "nplurals=2; plural=(n != 1);"
