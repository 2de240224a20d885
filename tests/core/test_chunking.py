"""core.chunking: every chunk within its budget, the overlap as set, order kept, and no text lost."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forge_tui.core.chunking import Chunk, chunk_text, token_count
from forge_tui.core.errors import InvalidInput

WORDS = st.sampled_from(["a", "word", "information", "資料", "集合。", "end.", "Why?", "x" * 30, "—", "(note)"])
LINE = st.lists(WORDS, min_size=0, max_size=12).map(" ".join)
HEADING = st.builds(lambda level, title: "#" * level + " " + title, st.integers(1, 3), LINE)
DOCUMENT = st.lists(st.one_of(LINE, LINE, LINE, HEADING, st.just("")), max_size=60).map("\n".join)
SIZES = st.integers(16, 80).flatmap(lambda budget: st.tuples(st.just(budget), st.integers(0, budget // 2)))


def _units_covered(text: str, chunks: list[Chunk]) -> bool:
    """Every non-space character of `text` lies inside some chunk."""
    covered = [False] * len(text)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    return all(covered[i] or text[i].isspace() for i in range(len(text)))


@settings(max_examples=150, deadline=None)
@given(DOCUMENT, SIZES)
def test_chunks_fit_the_budget_keep_order_and_overlap_and_lose_no_text(text: str, sizes: tuple[int, int]) -> None:
    budget, overlap = sizes
    chunks = chunk_text(text, budget, overlap)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end] and chunk.text.strip() == chunk.text
        assert 0 < chunk.tokens == token_count(chunk.text) <= budget
        assert chunk.line == text.count("\n", 0, chunk.start) + 1
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start and before.end < after.end
        if after.start < before.end:  # continues the section: the overlap as set (less than the chunk before)
            assert token_count(text[after.start : before.end]) == min(overlap, before.tokens - 1)
        else:  # a new section, or no overlap: nothing between them but white space
            assert not text[before.end : after.start].strip()
            assert min(overlap, before.tokens - 1) == 0 or text[after.start] == "#"
    # Stitched back without the overlaps, the chunks give the text's words in order.
    stitched = "".join(text[max(c.start, chunks[i - 1].end if i else 0) : c.end] for i, c in enumerate(chunks)).split()
    assert "".join(stitched) == "".join(text.split())
    assert _units_covered(text, chunks)


def test_a_heading_starts_a_chunk_named_after_it() -> None:
    text = "Intro line.\n\n# Tea\n\nGreen tea is steamed.\n\n## Coffee\n\nBeans are roasted."
    chunks = chunk_text(text, 100, 10)
    assert [(c.heading, c.text.splitlines()[0]) for c in chunks] == [
        ("", "Intro line."),
        ("Tea", "# Tea"),
        ("Coffee", "## Coffee"),
    ]
    assert [c.line for c in chunks] == [1, 3, 7]


def test_paragraphs_are_packed_whole_and_a_long_one_is_cut_at_a_sentence_end() -> None:
    sentence = "The kettle boils water for tea. "
    text = "Short one.\n\nAnother short one.\n\n" + sentence * 20
    chunks = chunk_text(text, 40, 0)
    assert chunks[0].text == "Short one.\n\nAnother short one."
    assert all(c.text.endswith(".") for c in chunks)


def test_chinese_text_without_spaces_is_cut_between_characters() -> None:
    text = "茶葉經過蒸青或炒青，保留綠色。" * 20
    chunks = chunk_text(text, 32, 8)
    assert all(c.tokens <= 32 for c in chunks)
    assert token_count(text[chunks[1].start : chunks[0].end]) == 8


@pytest.mark.parametrize(("budget", "overlap"), [(8, 0), (100_000, 0), (100, 51), (100, -1)])
def test_sizes_out_of_range_are_refused_in_a_sentence(budget: int, overlap: int) -> None:
    with pytest.raises(InvalidInput, match=r"^The (chunk size|overlap) must be between .*\.$"):
        chunk_text("text", budget, overlap)


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text("  \n\n \t") == []


def test_a_heading_is_never_a_chunk_alone() -> None:
    text = "# Tea\n\n## Green\n\n" + "Steamed leaves keep their colour. " * 30
    chunks = chunk_text(text, 40, 0)
    assert chunks[0].text.startswith("# Tea\n\n## Green\n\nSteamed") and chunks[0].heading == "Green"
