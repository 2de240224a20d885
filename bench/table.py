"""The Examples table on a dataset of 100k examples.

    .venv/bin/python bench/table.py [--rows 100000] [--presses 200]

A child process fills a fresh data directory with --rows examples (through the import service), so
this process holds only the app. Then the real app runs headless at 120x40: unlock, and `e` opens the
table. Figures:
* first paint: from the `e` key to the table's first rows drawn on screen (target <= 0.5 s);
* PageDown: time from each key to the cursor having moved, over --presses presses (median, p99);
* peak RSS of this process (target <= 300 MB), with the app's RSS before `e` as the baseline.
A key goes in as a terminal driver would send it; Pilot.press would also wait for the app to idle.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password"


def fill(folder: Path, rows: int) -> None:
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


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def measure(folder: Path, presses: int) -> dict[str, object]:
    from textual import events

    from forge_tui.services.home import open_home
    from forge_tui.ui.app import ForgeApp
    from forge_tui.ui.screens.datasets import DatasetsScreen
    from forge_tui.ui.screens.examples import ExamplesScreen
    from forge_tui.ui.widgets.example_table import ExampleTable

    app = ForgeApp(open_home(folder / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press(*["space" if c == " " else c for c in PASSWORD], "enter")
        while not isinstance(app.screen, DatasetsScreen):
            await asyncio.sleep(0.01)
        await pilot.pause(0.5)
        before = rss_mb()
        driver = app._driver
        assert driver is not None
        started = time.perf_counter()
        driver.send_message(events.Key("e", "e"))
        while True:
            screen = app.screen
            if isinstance(screen, ExamplesScreen) and screen.query(ExampleTable):
                table = screen.query_one(ExampleTable)
                if table._pages and table.total:
                    break
            await asyncio.sleep(0.001)
        first_paint = time.perf_counter() - started
        await pilot.pause(0.2)
        times = []
        for _ in range(presses):
            cursor = table.cursor
            started = time.perf_counter()
            driver.send_message(events.Key("pagedown", None))
            while table.cursor == cursor and cursor < table.total - 1:
                await asyncio.sleep(0.0005)
            times.append(time.perf_counter() - started)
        return {"first_paint": first_paint, "pages": times, "rss_before": before, "rows": table.total,
                "cursor": table.cursor, "rss_after": rss_mb()}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--presses", type=int, default=200)
    parser.add_argument("--fill", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args.fill, args.rows)
        return 0
    print(f"python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}")
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--fill", str(folder), "--rows", str(args.rows)], check=True)
        print(f"filled {args.rows} examples in {time.perf_counter() - started:.1f} s (child process)")
        result = asyncio.run(measure(folder, args.presses))
    pages = [t * 1000 for t in result["pages"]]  # type: ignore[attr-defined]
    first = float(result["first_paint"])  # type: ignore[arg-type]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"table of {result['rows']} rows: first paint {first * 1000:.0f} ms (target <= 500 ms: "
          f"{'met' if first <= 0.5 else 'MISSED'})")  # fmt: skip
    p99 = sorted(pages)[int(0.99 * len(pages))]
    print(f"PageDown x{len(pages)}: median {statistics.median(pages):.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(pages):.1f} ms; cursor at row {result['cursor']}")  # fmt: skip
    print(f"RSS: {result['rss_before']:.0f} MB before the table, {result['rss_after']:.0f} MB after the presses; "
          f"peak {peak:.0f} MB, unlocking's Argon2id (128 MiB) included (target <= 300 MB: "
          f"{'met' if peak <= 300 else 'MISSED'})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
