"""PlainStatic and PlainLabel show a string as typed, at construction and on update, and stay the
Textual widget they stand for: PlainLabel keeps Label's default CSS and type selector."""

from __future__ import annotations

import pytest
from textual.widgets import Label, Static

from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic


@pytest.mark.parametrize(("plain", "textual"), [(PlainStatic, Static), (PlainLabel, Label)])
def test_strings_show_as_typed_and_the_widget_keeps_its_textual_css(
    plain: type[PlainStatic | PlainLabel], textual: type[Static]
) -> None:
    widget = plain("[b]x[/b]\x1b", id="w", classes="error")
    assert str(widget.content) == "[b]x[/b]\\u001b"
    assert (widget.id, widget.has_class("error")) == ("w", True)
    widget.update("[i]y\x07")
    assert str(widget.content) == "[i]y\\u0007"
    assert isinstance(widget, textual)
    assert plain._css_bases(plain)[1] is textual  # DEFAULT_CSS and type selectors come from it
    assert textual.__name__ in widget._css_type_names
