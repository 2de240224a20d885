"""How `forge-tui models pull` shows its progress: a bar per layer (bytes and rate) on a terminal, one
line per new status elsewhere, one JSON object per progress line with --json."""

from __future__ import annotations

import json
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from forge_tui.cli.common import echo
from forge_tui.core.model_catalog import PullProgress


class PullDisplay:
    def __init__(self, *, as_json: bool, terminal: bool) -> None:
        self.as_json = as_json
        self.terminal = terminal and not as_json
        self._last_status = ""
        self._tasks: dict[str, TaskID] = {}
        self._progress: Progress | None = None
        if self.terminal:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                console=Console(),
            )

    def __enter__(self) -> PullDisplay:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def show(self, line: PullProgress) -> None:
        if self.as_json:
            echo(json.dumps(line.model_dump(exclude_none=True), ensure_ascii=False))
            return
        if self._progress is not None and line.digest:
            task = self._tasks.get(line.digest)
            if task is None:
                task = self._tasks[line.digest] = self._progress.add_task(line.status, total=line.total or None)
            self._progress.update(task, completed=line.completed or 0, total=line.total or None)
            return
        if line.status != self._last_status:
            self._last_status = line.status
            if self._progress is not None:
                self._progress.console.print(line.status, markup=False, highlight=False)
            else:
                echo(line.status)
