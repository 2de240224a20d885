"""services.document_files: the text of .txt, .md, .html and .pdf files, and a sentence for what cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.services.document_files import read_document
from tests.documents import pdf_bytes


def test_text_and_markdown_are_read_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"\xef\xbb\xbfFirst line.\r\nSecond\x1b[2J line.\r\n")
    (tmp_path / "guide.md").write_text("# Tea\n\nGreen tea is steamed.\n", encoding="utf-8")
    notes = read_document(tmp_path / "notes.txt")
    assert (notes.name, notes.kind, notes.text) == ("notes.txt", "text", "First line.\nSecond[2J line.")
    assert read_document(tmp_path / "guide.md").text == "# Tea\n\nGreen tea is steamed."


def test_html_keeps_the_text_and_headings_and_drops_scripts_and_styles(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>T</title><style>p { color: red }</style></head><body>"
        "<script>alert('x') </p></script><h2>Oolong &amp; black</h2><p>Partly   oxidised<br>leaves.</p>"
        "<noscript>Enable JS</noscript><ul><li>one</li><li>two</li></ul></body></html>",
        encoding="utf-8",
    )
    assert read_document(page).text == "## Oolong & black\n\nPartly oxidised\nleaves.\n\none\n\ntwo"


def test_pdf_text_is_extracted_page_by_page(tmp_path: Path) -> None:
    pdf = tmp_path / "leaflet.pdf"
    pdf.write_bytes(pdf_bytes([["Green tea is steamed.", "Black tea is oxidised."], ["Page two."]]))
    found = read_document(pdf)
    assert found.kind == "pdf"
    assert found.text == "Green tea is steamed.\nBlack tea is oxidised.\n\nPage two."


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("table.csv", b"a,b", r"^table\.csv is not a document this app reads: use \.txt, \.md, \.html or \.pdf\.$"),
        ("latin.txt", b"caf\xe9", r"is not UTF-8 text \(byte 0xe9 at offset 3\)\.$"),
        ("empty.md", b"  \n\n", r"^empty\.md holds no text\.$"),
        ("broken.pdf", b"%PDF-1.4 not really", r"^broken\.pdf is not a PDF that can be read \(.*\)\.$"),
        ("blank.pdf", pdf_bytes([[]]), r"^blank\.pdf holds no text to extract \(a scanned PDF needs text recogn"),
        ("locked.pdf", pdf_bytes([["Secret."]], password="pw"), r"^locked\.pdf is a PDF locked with a password"),
    ],
)
def test_what_cannot_be_read_is_one_sentence(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        read_document(path)


def test_a_missing_file_or_a_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ForgeError, match="there is no such file"):
        read_document(tmp_path / "gone.txt")
    (tmp_path / "folder.md").mkdir()
    with pytest.raises(InvalidInput, match="is a directory"):
        read_document(tmp_path / "folder.md")
