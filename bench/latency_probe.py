"""How late an asyncio event loop wakes up: what a key press would wait while the app is busy.

Shared by the bench scripts (bench/audition_latency.py, bench/jobs.py); each is run as
``python bench/NAME.py``, so this folder is first on sys.path and ``import latency_probe`` finds it.
"""

from __future__ import annotations

import asyncio


class Probe:
    """Sleeps `interval` seconds at a time on the running loop and keeps how late each wake-up was (s)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.late: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.late = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self.interval
            await asyncio.sleep(self.interval)
            self.late.append(max(0.0, loop.time() - asked))

    async def stop(self) -> list[float]:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        return self.late


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
