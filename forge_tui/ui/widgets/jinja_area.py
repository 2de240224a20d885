"""A TextArea that highlights Jinja: `{{ slot }}` expressions, `{% tags %}` and `{# comments #}`.

Textual highlights through tree-sitter grammars and has none for Jinja, so the highlight map is
filled from a regular expression instead (TextArea calls `_build_highlight_map` after every edit).
"""

from __future__ import annotations

import re

from textual.widgets import TextArea

_JINJA = re.compile(r"(\{\{.*?\}\})|(\{%.*?%\})|(\{#.*?#\})")
_NAMES = {1: "variable", 2: "keyword", 3: "comment"}


class JinjaTextArea(TextArea):
    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        for row, line in enumerate(self.document.lines):
            if "{" not in line:
                continue
            for match in _JINJA.finditer(line):
                group = match.lastindex or 1
                # Highlight columns are byte offsets into the UTF-8 line.
                start = len(line[: match.start()].encode())
                end = start + len(match.group(0).encode())
                highlights[row].append((start, end, _NAMES[group]))
