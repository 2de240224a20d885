"""A paragraph wrapped by ui.wrap: at spaces, and between CJK characters, in terminal cells.

Textual wraps at spaces only, so a Chinese sentence after a space jumps whole to the next line and
leaves a short ragged one behind; this widget fills each line."""

from __future__ import annotations

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

from forge_tui.ui.wrap import WrappedText


class WrappedStatic(Widget):
    DEFAULT_CSS = """
    WrappedStatic {
        height: auto;
    }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str = "") -> None:
        super().__init__(id=id, classes=classes)
        self._text = WrappedText(text)

    @property
    def text(self) -> str:
        return self._text.text

    def update(self, text: str) -> None:
        self._text = WrappedText(text)
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self._text.lines(width)))

    def render(self) -> RenderResult:
        lines = self._text.lines(self.content_size.width)
        return Text("\n".join(self._text.line(span) for span in lines))
