"""The text of a document file the user adds: `.txt` and `.md` as they are, `.html` with its markup,
scripts and styles dropped (core.html_text), `.pdf` through pypdf. Line ends become `\\n` and control
characters other than tabs and line breaks are dropped, so a passage shows safely in a terminal."""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.html_text import html_text
from forge_tui.i18n import _
from forge_tui.services import readable_files

FILE_LIMIT = 64 * 1024 * 1024
KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class DocumentText:
    name: str  # the file's name, without its folders
    kind: str  # text, markdown, html or pdf
    text: str


def document_kind(path: Path) -> str:
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(
            _("{name} is not a document this app reads: use .txt, .md, .html or .pdf.").format(name=path.name)
        )
    return kind


def read_document(path: Path) -> DocumentText:
    """The file's text; a ForgeError with a sentence when it cannot be read or holds none."""
    kind = document_kind(path)
    raw = _read_bytes(path)
    if kind == "pdf":
        text = _pdf_text(path, raw)
    else:
        text = _decoded(path, raw, kind)
        if kind == "html":
            text = html_text(text)
    text = _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not text:
        raise InvalidInput(_("{name} holds no text.").format(name=path.name))
    return DocumentText(name=path.name, kind=kind, text=text)


def _read_bytes(path: Path) -> bytes:
    if not path.exists() and not path.is_symlink():
        raise NotFound(_("Cannot read {path}: there is no such file.").format(path=path))
    with readable_files.open_regular(path) as f:
        try:
            raw = f.read(FILE_LIMIT + 1)
        except OSError as exc:
            raise InvalidInput(_("Cannot read {path}: {reason}.").format(path=path, reason=exc.strerror)) from None
    if len(raw) > FILE_LIMIT:
        raise InvalidInput(
            _("{name} is larger than {limit} MB: split it into smaller documents.").format(
                name=path.name, limit=FILE_LIMIT // (1024 * 1024)
            )
        )
    return raw


def _decoded(path: Path, raw: bytes, kind: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if kind == "html":  # pages older than UTF-8 are mostly Latin-1 (or Windows-1252)
            return raw.decode("cp1252", errors="replace")
        raise InvalidInput(
            _("{path} is not UTF-8 text (byte {byte:#04x} at offset {offset}).").format(
                path=path, byte=raw[exc.start], offset=exc.start
            )
        ) from None


def _pdf_text(path: Path, raw: bytes) -> str:
    from pypdf import PdfReader  # imported here: only adding a PDF needs it
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings about odd files are not the user's concern
    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInput(_("{name} is a PDF locked with a password: unlock it first.").format(name=path.name))
        pages = [page.extract_text() or "" for page in reader.pages]
    except InvalidInput:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InvalidInput(
            _("{name} is not a PDF that can be read ({reason}).").format(name=path.name, reason=str(exc)[:120])
        ) from None
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise InvalidInput(
            _("{name} holds no text to extract (a scanned PDF needs text recognition first).").format(name=path.name)
        )
    return text
