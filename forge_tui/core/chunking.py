"""A document's text cut into passages for grounded generation (no I/O).

Sections start at headings (Markdown `#` lines; HTML headings are extracted as such), sections are made of
paragraphs (blank-line separated). A chunk holds whole paragraphs of one section while they fit the token
budget; a paragraph longer than the budget is cut at a sentence end, else between words; a heading never
makes a chunk alone. A chunk that continues a section begins with the last `overlap` tokens of the chunk
before it (all but its first, when it is shorter); a new section starts afresh. Chunks keep their place in
the text (character offsets and line), so a passage can be shown where it came from.

Tokens are estimated, not counted with a model's vocabulary: one per CJK character and one per started
four characters of a word ("information" is three). Cuts fall only between these units, so a chunk's
estimate is exactly the sum of its units'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

DEFAULT_CHUNK_TOKENS = 512
DEFAULT_OVERLAP = 64
MIN_CHUNK_TOKENS = 16
MAX_CHUNK_TOKENS = 32_768

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNIT = re.compile(f"[{_CJK}]|[^\\s{_CJK}]{{1,4}}")
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’)\]]*$")


@dataclass(frozen=True)
class Chunk:
    position: int  # 0-based, in the document's order
    start: int  # character offsets into the document's text: text[start:end]
    end: int
    line: int  # 1-based line of `start`
    heading: str  # the section's heading, "" before the first one
    text: str
    tokens: int


def token_count(text: str) -> int:
    """The estimated tokens of `text` (see the module's note)."""
    return sum(1 for _unit in _UNIT.finditer(text))


def check_sizes(tokens: int, overlap: int) -> None:
    """Raises InvalidInput unless the budget is in range and the overlap at most half of it."""
    if not MIN_CHUNK_TOKENS <= tokens <= MAX_CHUNK_TOKENS:
        raise InvalidInput(
            _("The chunk size must be between {low} and {high} tokens, not {tokens}.").format(
                low=MIN_CHUNK_TOKENS, high=MAX_CHUNK_TOKENS, tokens=tokens
            )
        )
    if not 0 <= overlap <= tokens // 2:
        raise InvalidInput(
            _("The overlap must be between 0 and half the chunk size ({half} tokens), not {overlap}.").format(
                half=tokens // 2, overlap=overlap
            )
        )


@dataclass(frozen=True)
class _Block:
    start: int  # character offset of the block's first line
    heading: str  # the heading of the section it is in
    opens_section: bool  # it begins with a heading line


def _blocks(text: str) -> list[_Block]:
    """Paragraphs: a blank line ends one, a heading line starts one (and a section)."""
    blocks: list[_Block] = []
    heading = ""
    offset = 0
    after_blank = True
    for line in text.splitlines(keepends=True):
        found = _HEADING.match(line.rstrip("\r\n"))
        if found is not None:
            heading = found.group(2).strip() or found.group(1)
            blocks.append(_Block(offset, heading, True))
        elif line.strip() and after_blank:
            blocks.append(_Block(offset, heading, False))
        after_blank = not line.strip()
        offset += len(line)
    return blocks


def chunk_text(text: str, tokens: int = DEFAULT_CHUNK_TOKENS, overlap: int = DEFAULT_OVERLAP) -> list[Chunk]:
    """The chunks of `text`, each within `tokens`, in order; together they hold every unit of it."""
    check_sizes(tokens, overlap)
    units = [(m.start(), m.end()) for m in _UNIT.finditer(text)]
    if not units:
        return []
    blocks = _blocks(text)
    # Each unit's block, and where each block's units end.
    block_of: list[int] = []
    b = 0
    for start, _end in units:
        while b + 1 < len(blocks) and blocks[b + 1].start <= start:
            b += 1
        block_of.append(b)
    block_end = [0] * len(blocks)
    for i, owner in enumerate(block_of):
        block_end[owner] = i + 1
    opens = [
        i == 0 or (block_of[i] != block_of[i - 1] and blocks[block_of[i]].opens_section) for i in range(len(units))
    ]

    # A block that is a heading line alone.
    bare = [
        blocks[b].opens_section and units[block_end[b] - 1][1] <= _line_end(text, blocks[b].start)
        for b in range(len(blocks))
    ]
    spans: list[tuple[int, int]] = []  # unit index ranges [begin, end)
    i = 0
    while i < len(units):
        begin = i
        if spans and not opens[i]:
            previous = spans[-1]
            begin = i - min(overlap, previous[1] - previous[0] - 1)
        limit = begin + tokens
        end = i
        titles = True  # the chunk holds nothing but headings so far: a heading does not end it
        while end < len(units) and block_end[block_of[end]] <= limit and (end == i or titles or not opens[end]):
            titles = titles and bare[block_of[end]]
            end = block_end[block_of[end]]
        if end < min(len(units), limit) and (end == i or titles):
            end = _cut(text, units, end, min(limit, block_end[block_of[end]]))
        spans.append((begin, end))
        i = end

    chunks = []
    for position, (begin, end) in enumerate(spans):
        start, stop = units[begin][0], units[end - 1][1]
        chunks.append(
            Chunk(
                position=position,
                start=start,
                end=stop,
                line=text.count("\n", 0, start) + 1,
                heading=blocks[block_of[end - 1]].heading,
                text=text[start:stop],
                tokens=end - begin,
            )
        )
    return chunks


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _cut(text: str, units: list[tuple[int, int]], first: int, limit: int) -> int:
    """Where to end a chunk that starts a paragraph too long for it: after the last sentence end in
    the second half of the room, else after the last whole word there, else at the limit."""
    half = first + max(1, (limit - first) // 2)
    for end in range(limit, half - 1, -1):
        if _SENTENCE_END.search(text[units[end - 1][0] : units[end - 1][1]]) and _word_ends(text, units, end):
            return end
    for end in range(limit, half - 1, -1):
        if _word_ends(text, units, end):
            return end
    return limit


def _word_ends(text: str, units: list[tuple[int, int]], end: int) -> bool:
    """Unit `end - 1` ends a word: whitespace or the text's end follows, or the next unit is CJK."""
    stop = units[end - 1][1]
    if end == len(units) or stop < units[end][0]:
        return True
    return bool(re.match(f"[{_CJK}]", text[stop]) or re.match(f"[{_CJK}]", text[stop - 1]))
