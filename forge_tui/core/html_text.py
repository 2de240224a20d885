"""The readable text of an HTML page (no I/O): scripts, styles and other non-content dropped, block
elements as paragraphs, headings as Markdown `#` lines (so chunking finds the sections), entities decoded."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_DROPPED = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe", "object", "canvas"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "blockquote", "pre",
        "ul", "ol", "li", "dl", "dt", "dd", "table", "tr", "figure", "figcaption", "hr", "form", "details",
        "summary", "address",
    }
)  # fmt: skip
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "wbr"})


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.dropped: list[str] = []  # open elements whose content is dropped
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED:
            if tag not in _VOID:
                self.dropped.append(tag)
            return
        if tag == "br":
            self.parts.append("\n")
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if self.dropped and tag == self.dropped[-1]:
            self.dropped.pop()
            return
        if tag in _DROPPED and tag in self.dropped:  # a lost end tag inside: close up to it
            while self.dropped.pop() != tag:
                pass
            return
        if tag in _HEADINGS or tag in _BLOCKS:
            self.parts.append("\n\n")
        if tag == "pre" and self.pre:
            self.pre -= 1

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        self.parts.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_text(html: str) -> str:
    """The page's text: paragraphs separated by blank lines, no line with only spaces."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", text).strip()
