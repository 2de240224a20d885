"""The incremental word wrap behind audition cards."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from forge_tui.ui.wrap import WrappedText, wrap

TEXT = st.text(alphabet=st.sampled_from(list("ab cdé  \n世界-\t，。")), max_size=200)


def lines_of(text: str, width: int) -> list[str]:
    return [text[a:b] for a, b in wrap(text, width)]


def test_wraps_at_spaces_and_folds_long_words() -> None:
    assert lines_of("the quick brown fox", 10) == ["the quick", "brown fox"]
    assert lines_of("abcdefghijkl xy", 5) == ["abcde", "fghij", "kl xy"]
    assert lines_of("one\n\ntwo", 10) == ["one", "", "two"]
    assert lines_of("", 10) == [""]
    assert lines_of("世界世界世", 4) == ["世界", "世界", "世"]


def test_chinese_breaks_between_characters_never_before_closing_punctuation() -> None:
    text = "目前的資料集（標記 ●）是新範例存放的地方，也是其他畫面顯示的內容。"
    # the lines fill up (a CJK run is not one long word), and ）， never begin one
    assert lines_of(text, 20) == ["目前的資料集（標記", "●）是新範例存放的地", "方，也是其他畫面顯示", "的內容。"]
    assert lines_of("資料集。範本", 6) == ["資料", "集。範", "本"]
    assert lines_of("Use 資料集 now", 8) == ["Use 資料", "集 now"]


@settings(max_examples=300, deadline=None)
@given(TEXT, TEXT, st.integers(min_value=1, max_value=12))
def test_appending_rewraps_only_the_last_line(head: str, tail: str, width: int) -> None:
    before = wrap(head, width)
    again = before[:-1] + wrap(head + tail, width, before[-1][0])
    assert again == wrap(head + tail, width)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=2, max_value=12))
def test_lines_fit_and_lose_only_breaking_whitespace(text: str, width: int) -> None:
    lines = lines_of(text.replace("\t", " "), width)
    assert all(cell_len(line) <= width for line in lines)
    assert "".join("".join(lines).split()) == "".join(text.split())


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=8), st.integers(min_value=1, max_value=12))
def test_wrapped_text_growing_piece_by_piece_matches_a_fresh_wrap(pieces: list[str], width: int) -> None:
    growing = WrappedText()
    text = ""
    for piece in pieces:
        text += piece
        growing.set(text)
        growing.lines(width)
    fresh = WrappedText(text)
    assert growing.lines(width) == fresh.lines(width)
    assert [growing.line(s) for s in growing.lines(width)] == [fresh.line(s) for s in fresh.lines(width)]
