"""Greedy word wrap in terminal cells, incremental for text that grows token by token.

A Static re-wraps its whole text and asks the screen for a new layout on every update. An answer
that streams in a few characters at a time only needs its last line wrapped again: appending never
changes the lines before it.
"""

from __future__ import annotations

from rich.cells import cell_len, get_character_cell_size

from forge_tui.core.control_chars import escape_controls


def wrap(text: str, width: int, start: int = 0) -> list[tuple[int, int]]:
    """Greedy word wrap of text[start:] at `width` cells: (start, end) offsets of each visual line.

    Lines break at spaces (the breaking spaces are dropped), at newlines, and between CJK characters
    (not before closing punctuation such as ，。）); a word longer than the line is folded. Appending
    text never changes any line but the last, which is what lets a growing answer re-wrap only from
    its last line's start.
    """
    width = max(1, width)
    lines: list[tuple[int, int]] = []
    position = start
    length = len(text)
    while True:
        newline = text.find("\n", position)
        end_of_paragraph = length if newline < 0 else newline
        _wrap_paragraph(text, position, end_of_paragraph, width, lines)
        if newline < 0:
            return lines
        position = newline + 1


# Punctuation that must not begin a line (CJK line-breaking rules, and their ASCII cousins).
NO_LINE_START = frozenset("，。、；：！？）」』》〉】〕…‥・ー,.;:!?)]}%")


def _wide(char: str) -> bool:
    return char >= "\u1100" and get_character_cell_size(char) == 2


def _breaks_between(before: str, after: str) -> bool:
    """A line may break between two characters where either is wide (CJK text has no spaces between
    words), unless the second is punctuation that must not begin a line."""
    return (_wide(before) or _wide(after)) and after not in NO_LINE_START and after != " " and before != " "


def _wrap_paragraph(text: str, start: int, stop: int, width: int, lines: list[tuple[int, int]]) -> None:
    if start == stop:
        lines.append((start, start))
        return
    i = start
    while i < stop:
        used = 0
        j = i
        last_space = -1
        last_break = -1  # the latest place between two characters where a CJK line may break
        while j < stop:
            char = text[j]
            cells = 1 if char < "\u0300" else get_character_cell_size(char)
            if used + cells > width:
                break
            if char == " ":
                last_space = j
            elif j > i and _breaks_between(text[j - 1], char):
                last_break = j
            used += cells
            j += 1
        if j == stop:
            lines.append((i, stop))
            return
        if text[j] == " ":
            end, following = j, j + 1
        elif j > i and _breaks_between(text[j - 1], text[j]):
            end = following = j
        elif last_space > i and last_space >= last_break:
            end, following = last_space, last_space + 1
        elif last_break > i:
            end = following = last_break
        else:
            end, following = max(j, i + 1), max(j, i + 1)  # fold a word longer than the line
        lines.append((i, end))
        i = following
        while i < stop and text[i] == " " and i > end:
            i += 1


class WrappedText:
    """A text and its lines at one width; `set` with a longer text re-wraps only the last line."""

    __slots__ = ("_lines", "_width", "text")

    def __init__(self, text: str = "") -> None:
        self.text = clean(text)
        self._lines: list[tuple[int, int]] = []
        self._width = -1

    def set(self, text: str) -> bool:
        """Replaces the text; False when it is the same."""
        text = clean(text)
        if text == self.text:
            return False
        if self._width > 0 and self._lines and text.startswith(self.text):
            self._lines[-1:] = wrap(text, self._width, self._lines[-1][0])
        else:
            self._width = -1
        self.text = text
        return True

    def lines(self, width: int) -> list[tuple[int, int]]:
        """(start, end) offsets of each line at `width` cells (an empty text has no lines)."""
        if not self.text:
            return []
        if width != self._width:
            self._lines = wrap(self.text, width)
            self._width = width
        return self._lines

    def line(self, span: tuple[int, int]) -> str:
        return self.text[span[0] : span[1]]


def clean(text: str) -> str:
    """What a terminal line can show: no carriage returns, tabs as four spaces, other control
    characters escaped (model output and slot values reach the terminal as text)."""
    return escape_controls(text.replace("\r", "").replace("\t", "    "))


def cut(text: str, width: int, mark: str = "…") -> str:
    """`text` in at most `width` terminal cells: as it is when it fits, else cut and ended with `mark`
    (a CJK character takes two cells, so a cut never splits one)."""
    if cell_len(text) <= width:
        return text
    room = max(0, width - cell_len(mark))
    out: list[str] = []
    used = 0
    for char in text:
        size = get_character_cell_size(char)
        if used + size > room:
            break
        out.append(char)
        used += size
    return "".join(out) + mark
