"""The review queue's next-card latency on a dataset of 100k judged examples.

    .venv/bin/python bench/quality_review.py [--rows 100000] [--presses 500]

A child process fills a fresh data directory with --rows examples (through the import service) and
gives each a judgement (score and sealed reason), so this process holds only the app. The real app runs
headless at 80x24: unlock, `q` opens the queue (unreviewed, worst score first). Then the next-card key
goes in --presses times as a terminal driver would send it; each press is timed from the key to the
first frame written to the terminal that shows the new card (median, p99; target p99 <= 30 ms), a
press every --interval-ms (60: quicker than anyone reads a card; 0: each as soon as the card is shown).
Accepting and moving on alternate, so half the presses also write a decision behind the card.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password"
TARGET_P99_MS = 30.0
# A press every 60 ms: faster than anyone reads a card (the queue reads ahead and writes in the pauses).
INTERVAL_MS = 60.0


def fill(folder: Path, rows: int) -> None:
    from forge_tui.core.judging import Judgement
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.importing import import_file
    from forge_tui.services.workspace import Workspace

    source = folder / "source.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for i in range(rows):
            record = {"instruction": f"Question {i} about tides?", "input": f"context {i % 97}",
                      "output": f"Answer {i}: " + "The moon pulls the oceans. " * 8}  # fmt: skip
            out.write(json.dumps(record) + "\n")
    home = open_home(folder / "home")
    AccountService(home).create_user("bench", "Bench", PASSWORD)
    workspace = Workspace.open(home, AccountService(home).unlock("bench", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    import_file(workspace.examples, dataset.id, dataset.name, source)
    source.unlink()
    ids = workspace.examples.ids(dataset.id)
    with home.engine.begin() as connection:  # imported examples are accepted; jobs leave them unreviewed
        connection.exec_driver_sql("UPDATE example SET review = 'unreviewed' WHERE dataset_id = ?", (dataset.id,))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        judged = [
            (example_id, Judgement(rubric="overall", score=1 + (n * 7919) % 90 / 10, reason=f"Reason {n}: too vague."))
            for n, example_id in enumerate(chunk, start)
        ]
        workspace.examples.set_judgements(dataset.id, judged)


async def measure(folder: Path, presses: int, interval_ms: float) -> dict[str, Any]:
    from textual import events

    from forge_tui.services.home import open_home
    from forge_tui.ui.app import ForgeApp
    from forge_tui.ui.screens.datasets import DatasetsScreen
    from forge_tui.ui.screens.review import ReviewScreen
    from forge_tui.ui.widgets.review_card import ReviewCardView

    app = ForgeApp(open_home(folder / "home"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.3)
        await pilot.press(*["space" if c == " " else c for c in PASSWORD], "enter")
        while not isinstance(app.screen, DatasetsScreen):
            await asyncio.sleep(0.01)
        await pilot.pause(0.5)
        driver = app._driver
        assert driver is not None
        started = time.perf_counter()
        driver.send_message(events.Key("q", "q"))
        while not (isinstance(app.screen, ReviewScreen) and app.screen.queue and app.screen.queue.current()):
            await asyncio.sleep(0.001)
        screen = app.screen
        queue = screen.queue
        assert queue is not None
        title = screen.query_one(ReviewCardView).query_one("#card-title")
        while f"Card 1 of {queue.total}" not in str(title.render()):
            await asyncio.sleep(0.001)
        first_card = time.perf_counter() - started
        await pilot.pause(0.3)

        shown: dict[str, float] = {}
        display = app._display

        def timed_display(*args: Any, **kwargs: Any) -> None:
            display(*args, **kwargs)
            shown.setdefault(str(title.render()).split(" │ ")[0], time.perf_counter())

        app._display = timed_display  # type: ignore[method-assign]
        times, missed = [], 0
        for n in range(presses):
            want = f"Card {queue.position + 2} of {queue.total}"
            missed += not queue.is_open(queue.ids[queue.position + 1])
            key = "a" if n % 2 else "right"
            started = time.perf_counter()
            driver.send_message(events.Key(key, key if key == "a" else None))
            while want not in shown:
                await asyncio.sleep(0.0002)
            times.append(shown[want] - started)
            await asyncio.sleep(max(0.0, interval_ms / 1000 - (time.perf_counter() - started)))
        app._display = display  # type: ignore[method-assign]
        queue.flush()
        return {"first_card": first_card, "times": times, "rows": queue.total, "not_open": missed,
                "reads": queue.reads}  # fmt: skip


def review_latency(n: int = 100_000, presses: int = 500, interval_ms: float = INTERVAL_MS) -> dict[str, Any]:
    """Fills a dataset of `n` judged, unreviewed examples (in a child process), opens the review queue
    and presses next `presses` times, a press every `interval_ms` (0: each as soon as the last card is
    shown): median and p99 next-card latency in ms, and what else was seen."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--fill", str(folder), "--rows", str(n)], check=True)
        filled = time.perf_counter() - started
        result = asyncio.run(measure(folder, presses, interval_ms))
    ms = sorted(t * 1000 for t in result["times"])
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    return {
        "rows": result["rows"], "presses": len(ms), "median_ms": statistics.median(ms), "p99_ms": p99,
        "max_ms": ms[-1], "first_card_ms": result["first_card"] * 1000, "cards_not_open_when_pressed":
        result["not_open"], "reader_batches": result["reads"], "fill_s": filled, "target_met": p99 <= TARGET_P99_MS,
    }  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=500)
    parser.add_argument("--interval-ms", type=float, default=INTERVAL_MS, help="between presses; 0: back to back")
    parser.add_argument("--fill", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args.fill, args.rows)
        return 0
    print(f"python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}")
    figures = review_latency(args.rows, args.presses, args.interval_ms)
    print(f"filled {figures['rows']} examples in {figures['fill_s']:.1f} s (child process); first card "
          f"{figures['first_card_ms']:.0f} ms after the key")  # fmt: skip
    print(f"next card x{figures['presses']} (a press every {args.interval_ms:g} ms): "
          f"median {figures['median_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms, "
          f"max {figures['max_ms']:.1f} ms (target p99 <= {TARGET_P99_MS:g} ms: "
          f"{'met' if figures['target_met'] else 'MISSED'}); cards not yet open when their key came: "
          f"{figures['cards_not_open_when_pressed']}; reader batches {figures['reader_batches']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
