"""A table of examples for datasets of any size, drawn with the Line API.

Rows come from a RowSource a page at a time and only the pages on screen are opened (decrypted);
a small LRU keeps the last pages. A DataTable would need every row up front: about 12 s for 100k.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from forge_tui.core.control_chars import escape_controls
from forge_tui.core.desirability import mark
from forge_tui.core.example_filter import (
    FLAG_MARK,
    ExampleFilter,
    ExampleOrder,
    review_mark,
    score_label,
    source_label,
)
from forge_tui.core.models import Example
from forge_tui.i18n import N_, _
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.ui.localized import Localized

PAGE = 100
CACHED_PAGES = 30
FIXED = {"score": 5, "rej": 3, "kto": 3, "review": 3, "flag": 1, "source": 10, "tools": 5, "model": 10, "created": 11}
NARROW_HIDDEN = ("model", "created")
# A column's header (a message id) where it is not the column's name. rev, rej and kto stay as written
# in every language: short codes that fit their 3 cells, which the help explains.
HEADERS = {
    "review": "rev",
    "flag": FLAG_MARK,
    "prompt": N_("prompt"),
    "answer": N_("answer"),
    "tools": N_("tools"),
    "score": N_("score"),
    "source": N_("source"),
    "model": N_("model"),
    "created": N_("created"),
}


@dataclass(frozen=True)
class RowView:
    id: str
    cells: dict[str, str]
    broken: str | None = None


def row_view(item: Example | BrokenExample) -> RowView:
    if isinstance(item, BrokenExample):
        return RowView(item.id, {}, item.reason)
    content = item.content
    cells = {f"slot:{k}": v for k, v in content.slots.items()}
    cells.update(
        prompt=content.user_prompt,
        answer=content.output,
        tools=str(len(content.tool_calls)) if content.tool_calls else "",
        score=score_label(item.meta.score),
        rej=str(len(content.rejected)) if content.rejected else "",
        kto=mark(item.meta.desirability),
        review=review_mark(item.meta.review),
        flag=FLAG_MARK if item.meta.language_flag else "",
        source=source_label(item.meta.source, item.meta.job_id),
        model=item.meta.model,
        created=item.created_at.strftime("%m-%d %H:%M"),
    )
    return RowView(item.id, cells)


class RowSource(Protocol):
    def count(self) -> int: ...

    def rows(self, offset: int, limit: int) -> Sequence[Example | BrokenExample]: ...


class DatasetSource:
    """The whole dataset, in creation order or by score, read a window at a time."""

    def __init__(self, count: Callable[[], int], window: Callable[[int, int], list[Example | BrokenExample]]) -> None:
        self._count = count
        self._window = window

    def count(self) -> int:
        return self._count()

    def rows(self, offset: int, limit: int) -> Sequence[Example | BrokenExample]:
        return self._window(offset, limit)

    @classmethod
    def of(
        cls,
        examples: ExampleService,
        dataset_id: int | None,
        wanted: ExampleFilter,
        order: ExampleOrder = ExampleOrder.TIME,
    ) -> DatasetSource:
        """The examples of a dataset that `wanted` admits, in `order` (none without a dataset)."""

        def count() -> int:
            return examples.count(dataset_id, wanted) if dataset_id is not None else 0

        def window(offset: int, limit: int) -> list[Example | BrokenExample]:
            if dataset_id is None:
                return []
            return examples.window(dataset_id, offset, limit, wanted=wanted, order=order)

        return cls(count, window)


class ListSource:
    """Rows already open (search matches, streaming in; a row that cannot be read shows why)."""

    def __init__(self) -> None:
        self.items: list[Example | BrokenExample] = []

    def count(self) -> int:
        return len(self.items)

    def rows(self, offset: int, limit: int) -> Sequence[Example | BrokenExample]:
        return self.items[offset : offset + limit]


def fit(text: str, width: int) -> str:
    """One line of at most `width` cells, cut with an ellipsis (control characters escaped: example
    content comes from imported files)."""
    line = " ".join(escape_controls(text).split())
    if cell_len(line) <= width:
        return line + " " * (width - cell_len(line))
    out, used = [], 0
    for char in line:
        size = cell_len(char)
        if used + size > width - 1:
            break
        out.append(char)
        used += size
    return "".join(out) + "…" + " " * (width - 1 - used)


class ExampleTable(Localized, ScrollView, can_focus=True):
    """Up/down/page keys move the cursor; space selects; shift+arrows extend the selection."""

    BINDINGS = [
        Binding("up,k", "move(-1)", N_("Up"), show=False, id="table.up"),
        Binding("down,j", "move(1)", N_("Down"), show=False, id="table.down"),
        Binding("pageup", "page(-1)", N_("Page up"), show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", N_("Page down"), show=False, id="table.page_down"),
        Binding("home", "jump(0)", N_("First"), show=False, id="table.first"),
        Binding("end", "jump(-1)", N_("Last"), show=False, id="table.last"),
        Binding("space", "toggle_row", N_("Select"), id="table.select"),
        Binding("shift+down", "extend(1)", N_("Select down"), show=False, id="table.extend_down"),
        Binding("shift+up", "extend(-1)", N_("Select up"), show=False, id="table.extend_up"),
        Binding("enter", "open", N_("Open"), id="table.open"),
    ]
    DEFAULT_CSS = """
    ExampleTable {
        height: 1fr;
        overflow-x: hidden;
    }
    ExampleTable > .example-table--header {
        text-style: bold;
        color: $text-muted;
        background: $boost;
    }
    ExampleTable > .example-table--cursor {
        background: $accent 40%;
        color: $text;
    }
    ExampleTable > .example-table--selected {
        background: $warning 20%;
    }
    ExampleTable > .example-table--broken {
        color: $error;
    }
    """
    COMPONENT_CLASSES = {
        "example-table--header",
        "example-table--cursor",
        "example-table--selected",
        "example-table--broken",
    }

    cursor: reactive[int] = reactive(0, layout=False, always_update=True)

    class Opened(Message):
        def __init__(self, example_id: str) -> None:
            super().__init__()
            self.example_id = example_id

    class Moved(Message):
        """The cursor or the selection changed."""

    def __init__(self, source: RowSource, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = source
        self.total = 0
        self.selected: set[str] = set()
        self._pages: OrderedDict[int, list[RowView]] = OrderedDict()
        self.columns: list[str] = []

    # --- data --------------------------------------------------------------------------------
    def reload(self, source: RowSource | None = None, keep_cursor: bool = True) -> None:
        """Forget the cached pages and count again (after an import, delete, edit, or a new source)."""
        if source is not None:
            self.source = source
        self._pages.clear()
        self.total = self.source.count()
        self.columns = self._columns()
        self.virtual_size = Size(0, self.total + 1)
        self.cursor = min(self.cursor, max(0, self.total - 1)) if keep_cursor else 0
        self.refresh()

    def show_rows(self, source: RowSource) -> None:
        """Another set of rows (a filter, a search, the whole dataset): no selection, cursor at the top."""
        self.selected.clear()
        self.reload(source, keep_cursor=False)

    @property
    def listed(self) -> list[Example | BrokenExample] | None:
        """The rows already open when the table shows a list (a search's matches), else None."""
        return self.source.items if isinstance(self.source, ListSource) else None

    def select_all(self, every: Callable[[], Iterable[str]]) -> None:
        """Selects every row: a list's own, else those `every` gives (all rows, not only the pages open)."""
        self.selected = {e.id for e in self.source.items} if isinstance(self.source, ListSource) else set(every())
        self.refresh()
        self.post_message(self.Moved())

    def forget(self, ids: Iterable[str]) -> None:
        """After a delete: nothing selected, and a list no longer holds those rows."""
        self.selected.clear()
        if isinstance(self.source, ListSource):
            gone = set(ids)
            self.source.items = [e for e in self.source.items if e.id not in gone]
        self.reload()

    def renew(self, fresh: Iterable[Example | BrokenExample], admits: Callable[[Example], bool]) -> None:
        """After a change in place: nothing selected, and a list takes the `fresh` rows and keeps
        those that `admits` still lets in (a damaged row stays: it says why it cannot be read)."""
        self.selected.clear()
        if isinstance(self.source, ListSource):
            by_id = {e.id: e for e in fresh}
            items = [by_id.get(e.id, e) for e in self.source.items]
            self.source.items = [e for e in items if isinstance(e, BrokenExample) or admits(e)]
        self.reload()

    def add_found(self, owner: object, batch: list[Example | BrokenExample]) -> bool:
        """Appends a search's batch when the table still shows that search's list (`owner`)."""
        if owner is not self.source or not isinstance(self.source, ListSource):
            return False
        self.source.items.extend(batch)
        self.reload(keep_cursor=True)
        return True

    def row(self, index: int) -> RowView | None:
        if not 0 <= index < self.total:
            return None
        number = index // PAGE
        page = self._pages.get(number)
        if page is None:
            page = [row_view(item) for item in self.source.rows(number * PAGE, PAGE)]
            self._pages[number] = page
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        offset = index - number * PAGE
        return page[offset] if offset < len(page) else None

    def current(self) -> RowView | None:
        return self.row(self.cursor)

    def chosen_ids(self) -> list[str]:
        """The selected rows, else the row under the cursor."""
        current = self.current()
        return sorted(self.selected) or ([current.id] if current is not None else [])

    def _columns(self) -> list[str]:
        first = [self.row(i) for i in range(min(self.total, PAGE))]
        slots: list[str] = []
        tools = False
        for view in first:
            if view is None:
                continue
            tools = tools or bool(view.cells.get("tools"))
            slots += [k for k in view.cells if k.startswith("slot:") and k not in slots]
        tail = ["score", "rej", "kto", "review", "flag", "source", "model", "created"]
        return ["prompt", *slots[:3], "answer", *(["tools"] if tools else []), *tail]

    def shown_columns(self, width: int) -> list[str]:
        """Below 100 cells the model and the date make way for the text."""
        return [c for c in self.columns if width >= 100 or c not in NARROW_HIDDEN]

    def _widths(self, columns: list[str], width: int) -> list[int]:
        fixed = sum(FIXED[c] for c in columns if c in FIXED)
        slots = [c for c in columns if c.startswith("slot:")]
        gaps = 3 * (len(columns) - 1) + 2
        free = max(0, width - fixed - gaps)
        slot_width = min(16, free // (len(slots) + 4)) if slots else 0
        text = max(6, (free - slot_width * len(slots)) // 2)
        widths = []
        for column in columns:
            if column in FIXED:
                widths.append(FIXED[column])
            elif column.startswith("slot:"):
                widths.append(max(4, slot_width))
            else:
                widths.append(text)
        return widths

    # --- drawing -------------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        columns = self.shown_columns(width)
        widths = self._widths(columns, width)
        if y == 0:
            names = [_(HEADERS[c]) if c in HEADERS else c.removeprefix("slot:") for c in columns]
            text = "  " + " │ ".join(fit(n, w) for n, w in zip(names, widths, strict=True))
            header = self.get_component_rich_style("example-table--header")
            return Strip([Segment(text, header)]).crop_extend(0, width, header)
        index = self.scroll_offset.y + y - 1
        view = self.row(index)
        base = self.rich_style
        if view is None:
            return Strip.blank(width, base)
        style: Style = base
        if view.broken is not None:
            style = self.get_component_rich_style("example-table--broken")
            text = "  " + fit(f"✗ {view.id}: {view.broken}", max(1, width - 2))
        else:
            cells = [fit(view.cells.get(c, ""), w) for c, w in zip(columns, widths, strict=True)]
            text = ("● " if view.id in self.selected else "  ") + " │ ".join(cells)
        if view.id in self.selected:
            style = self.get_component_rich_style("example-table--selected")
        if index == self.cursor and self.has_focus:
            style = self.get_component_rich_style("example-table--cursor")
        return Strip([Segment(text, style)]).crop_extend(0, width, style)

    def draw_text(self) -> None:
        self.refresh()  # the header row is drawn in the current language

    def watch_cursor(self, old: int, new: int) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + rows:
            self.scroll_to(y=new - rows + 1, animate=False)
        self.refresh()
        self.post_message(self.Moved())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    # --- keys ------------------------------------------------------------------------------------
    def action_move(self, step: int) -> None:
        if self.total:
            self.cursor = max(0, min(self.total - 1, self.cursor + step))

    def action_page(self, step: int) -> None:
        self.action_move(step * max(1, self.scrollable_content_region.height - 2))

    def action_jump(self, where: int) -> None:
        if self.total:
            self.cursor = 0 if where == 0 else self.total - 1

    def action_toggle_row(self) -> None:
        view = self.current()
        if view is not None:
            self.selected.symmetric_difference_update({view.id})
            self.refresh()
            self.post_message(self.Moved())

    def action_extend(self, step: int) -> None:
        view = self.current()
        if view is not None:
            self.selected.add(view.id)
        self.action_move(step)
        view = self.current()
        if view is not None:
            self.selected.add(view.id)
        self.refresh()
        self.post_message(self.Moved())

    def action_open(self) -> None:
        view = self.current()
        if view is not None and view.broken is None:
            self.post_message(self.Opened(view.id))
