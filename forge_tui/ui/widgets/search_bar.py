"""A search field that stays hidden until opened: enter asks for a search (empty text: for none).
It also streams a search's results to the screen, a batch at a time, read in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message
from textual.widgets import Input

SEARCH_BATCH = 200


def batches(found: Iterator[Any], size: int = SEARCH_BATCH) -> Iterator[list[Any]]:
    """`found` `size` items at a time (the last batch may be shorter; none when empty)."""
    batch: list[Any] = []
    for item in found:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class SearchBar(Input):
    @dataclass
    class Search(Message):
        """The text to search for, stripped ("" asks to show everything again)."""

        text: str

    @dataclass
    class Found(Message):
        """The next batch of results of the search started for `owner`."""

        owner: object
        batch: list[Any]

    @dataclass
    class Finished(Message):
        owner: object

    def on_mount(self) -> None:
        self.display = False

    def open(self) -> None:
        self.display = True
        self.focus()

    def close(self) -> None:
        self.value = ""
        self.display = False
        self.workers.cancel_group(self, "search")

    def _on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Search(event.value.strip()))

    @work(exclusive=True, group="search")
    async def stream(self, owner: object, search: Callable[[], Iterator[Any]]) -> None:
        """Runs `search` in a thread and posts what it finds as it comes, marked with `owner` (what the
        results are for: messages of a search that a newer one replaced may still be on their way)."""
        found = batches(search())
        while (batch := await asyncio.to_thread(next, found, None)) is not None:
            self.post_message(self.Found(owner, batch))
        self.post_message(self.Finished(owner))
