"""The Examples screen's search bar: it keeps what the status line says of the search it streams (its
text, whether the scan finished, how many rows it met that cannot be read) and says once per search
that a damaged row was not searched."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from textual import on

from forge_tui.i18n import _
from forge_tui.services.examples import BrokenExample
from forge_tui.ui.widgets.examples_status import SearchState
from forge_tui.ui.widgets.search_bar import SearchBar


class ExampleSearch(SearchBar):
    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.state = SearchState()
        self._owner: object = None  # what the results of the search under way are for

    def start(self, text: str, owner: object, search: Callable[[], Iterator[Any]] | None) -> None:
        """A new search for `text` (none runs without `search`: there is nothing to search)."""
        self.state, self._owner = SearchState(text), owner
        if search is not None:
            self.stream(owner, search)

    def close(self) -> None:
        super().close()
        self.state, self._owner = SearchState(), None

    @on(SearchBar.Found)
    def _count_damaged(self, event: SearchBar.Found) -> None:
        if event.owner is not self._owner:
            return
        damaged = [item for item in event.batch if isinstance(item, BrokenExample)]
        if damaged and not self.state.damaged:
            self.notify(damaged[0].reason, title=_("A damaged row was not searched"), severity="warning")
        self.state.damaged += len(damaged)

    @on(SearchBar.Finished)
    def _finished(self, event: SearchBar.Finished) -> None:
        if event.owner is self._owner:
            self.state.done = True
