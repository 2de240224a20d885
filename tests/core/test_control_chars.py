"""Control characters: refused in names, escaped on output, and what a CSV/TSV cell holds."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forge_tui.core.control_chars import CONTROL_CHARS, escape_controls, has_control_chars
from forge_tui.core.errors import ForgeError
from forge_tui.core.models import check_dataset_name
from forge_tui.core.table_cells import table_cell
from forge_tui.core.template_files import parse
from forge_tui.core.templates import TemplateError, check_template_name

# Retitles the window, clears the screen, writes the clipboard (OSC 52), and a C1 CSI.
HOSTILE = "x\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\x9b31m"


@pytest.mark.parametrize("check", [check_dataset_name, check_template_name])
@pytest.mark.parametrize("name", [HOSTILE, "tab\there", "two\nlines", "del\x7f", "csi\x9b2J", "nul\x00"])
def test_names_with_control_characters_are_refused_with_a_sentence(check: Callable[[str], str], name: str) -> None:
    with pytest.raises(ForgeError) as refused:
        check(name)
    message = str(refused.value)
    assert message.endswith("cannot contain control characters such as escape codes, tabs or line breaks.")
    assert not has_control_chars(message) and len(message) < 120


def test_ordinary_names_pass_and_are_tidied() -> None:
    assert check_dataset_name("  Support   chats ") == "Support chats"
    assert check_template_name("Q&A [draft] — ünïcode") == "Q&A [draft] — ünïcode"


def test_a_template_file_with_a_hostile_name_is_refused() -> None:
    with pytest.raises(TemplateError, match="control characters"):
        parse('name = "t\\u001b]0;PWNED\\u0007"\nuser_prompt = "hi"\n', "toml")


def test_escape_keeps_layout_and_shows_the_rest() -> None:
    assert escape_controls(HOSTILE) == "x\\u001b]0;PWNED\\u0007\\u001b[2J\\u001b]52;c;cHduZWQ=\\u0007\\u009b31m"
    assert escape_controls("a\tb\nc\rd") == "a\tb\nc\\u000dd"
    assert escape_controls("a\tb", keep="") == "a\\u0009b"
    plain = "no controls: [bold] ünïcode"
    assert escape_controls(plain) is plain


@given(st.text())
def test_escaped_text_holds_no_control_character_but_the_kept_ones(text: str) -> None:
    escaped = escape_controls(text)
    assert not any(c in CONTROL_CHARS for c in escaped if c not in "\n\t")
    # Inside JSON strings the escapes mean the very characters: JSON output stays faithful.
    dumped = json.dumps(text, ensure_ascii=False)
    assert json.loads(escape_controls(dumped)) == text


def test_table_cells_escape_controls_and_quote_formulas_only_when_asked() -> None:
    assert table_cell("say \x1b[31mred\x1b[0m\r\n\tok") == "say \\u001b[31mred\\u001b[0m\r\n\tok"
    for risky in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "- item"):
        assert table_cell(risky) == risky
        assert table_cell(risky, spreadsheet_safe=True) == "'" + risky
    for harmless in ("plain", "a=b", " =x", "", '{"a": 1}'):
        assert table_cell(harmless, spreadsheet_safe=True) == harmless
