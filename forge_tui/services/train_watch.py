"""Watching a training run from its files, whichever process runs it: the new lines of its log
(read from where the last poll stopped; tqdm's carriage returns split lines) and its
`trainer_state.json` (the output folder's, or its newest checkpoint's) read again when it changed.
Both feed core.train_metrics.TrainMetrics."""

from __future__ import annotations

import contextlib
import time
from collections import deque
from pathlib import Path

from forge_tui.core.train_metrics import MetricPoint, TrainMetrics
from forge_tui.services.training import LOG_FILE, STATE_FILE, latest_checkpoint, of_this_run

KEPT_LINES = 500
READ_AT_MOST = 1024 * 1024  # per poll: a huge log is caught up over several polls


class TrainWatch:
    def __init__(self, output_dir: Path, kept_lines: int = KEPT_LINES) -> None:
        self.output_dir = output_dir
        self.log_path = output_dir / LOG_FILE
        self.metrics = TrainMetrics()
        self.lines: deque[str] = deque(maxlen=kept_lines)
        self.lines_version = 0
        self._offset = 0
        self._partial = b""
        self._state_seen: tuple[str, float] | None = None

    def poll(self) -> tuple[list[str], list[MetricPoint]]:
        """The log lines and metric points that arrived since the last poll."""
        now = time.monotonic()
        new_lines = self._read_lines()
        points = [point for line in new_lines if (point := self.metrics.feed(line, now)) is not None]
        if new_lines:
            self.lines.extend(new_lines)
            self.lines_version += 1
        self._read_state(now)
        return new_lines, points

    def _read_lines(self) -> list[str]:
        try:
            with self.log_path.open("rb") as log:
                size = log.seek(0, 2)
                if size < self._offset:  # the log was replaced: read it again
                    self._offset, self._partial = 0, b""
                log.seek(self._offset)
                data = log.read(READ_AT_MOST)
        except OSError:
            return []
        self._offset += len(data)
        data = self._partial + data
        pieces = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        self._partial = pieces.pop()
        return [piece.decode("utf-8", "replace") for piece in pieces if piece.strip()]

    def _read_state(self, now: float) -> None:
        candidates = [self.output_dir / STATE_FILE]
        checkpoint = latest_checkpoint(self.output_dir)
        if checkpoint is not None:
            candidates.insert(0, checkpoint / STATE_FILE)
        for path in candidates:
            if not path.exists() or not of_this_run(path, self.output_dir):
                continue
            with contextlib.suppress(OSError):
                seen = (str(path), path.stat().st_mtime)
                if seen == self._state_seen:
                    return
                text = path.read_text(encoding="utf-8")
                self._state_seen = seen
                self.metrics.merge_state(text, now)
                return
