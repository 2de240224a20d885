"""Static and Label that show a string as typed (see `ui/shown.py`): use them wherever the text
may hold a name, a path, file content or a message that quotes one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content
from textual.visual import VisualType
from textual.widgets import Label, Static

from forge_tui.core.control_chars import escape_controls

if TYPE_CHECKING:
    _PlainBase = Static
else:
    # Not a widget at run time: Textual inherits DEFAULT_CSS and type selectors through the first widget
    # base only, so the mixin must not stand between PlainLabel and Label.
    _PlainBase = object


def _plain(content: VisualType) -> VisualType:
    return Content(escape_controls(content)) if isinstance(content, str) else content


class _Plain(_PlainBase):
    """Markup off, and control characters in a string shown escaped, at construction and on update."""

    def __init__(
        self,
        content: VisualType = "",
        *,
        expand: bool = False,
        shrink: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            _plain(content), expand=expand, shrink=shrink, markup=False, name=name, id=id, classes=classes,
            disabled=disabled,
        )  # fmt: skip

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        super().update(_plain(content), layout=layout)


class PlainStatic(_Plain, Static):
    pass


class PlainLabel(_Plain, Label):
    pass
