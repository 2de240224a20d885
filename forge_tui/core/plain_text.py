"""Plain text and Markdown as pretraining documents: one per line, per paragraph (lines up to a
blank line) or per file. Each document becomes a `{"text": …}` record, as the `text` shape reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from forge_tui.i18n import N_

SPLITS = ("line", "paragraph", "file")
SPLIT_HELP = N_("one document per line, per blank-line-separated paragraph, or per file")
_WHOLE_FILE_NAMES = (".md", ".markdown")


def default_split(suffix: str) -> str:
    """A Markdown file is one document; other text (wiki dumps, corpora) has one per line, as the
    `text` loader of Hugging Face datasets reads it."""
    return "file" if suffix.lower() in _WHOLE_FILE_NAMES else "line"


def paragraphs(lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each run of lines that are not blank; `lines` are numbered and
    hold no line ending."""
    start = 0
    held: list[str] = []
    for number, line in lines:
        if line.strip():
            if not held:
                start = number
            held.append(line)
        elif held:
            yield start, "\n".join(held)
            held = []
    if held:
        yield start, "\n".join(held)
