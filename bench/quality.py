"""Quality figures of issue 18 in one run.

    .venv/bin/python bench/quality.py [--rows 100000] [--skip-scores]

Runs, where they are built, bench/quality_judge.py `judge_ratio` (a judge job over 20,000 examples
against the fake server, as a ratio of a bare loop; target >= 0.9), bench/quality_dedup.py
`dedup_figures` (MinHash dedup of 100,000 examples: seconds and peak RSS; targets <= 60 s, <= 1 GB)
and bench/quality_review.py `review_latency` (the review queue's next-card latency over 500 key
presses on a 100k dataset: median and p99; target p99 <= 30 ms); a part not built says so. Then the
Examples table by score: windows of 100 rows sorted by score (best first, worst first, and deep in
the dataset) and a count with a minimum score, on --rows examples of which about 80% are judged.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # the other parts' modules, imported by name

PASSWORD = "bench password"
PARTS = (("quality_judge", "judge_ratio"), ("quality_dedup", "dedup_figures"), ("quality_review", "review_latency"))


def show(name: str, figures: Any) -> None:
    """A part's figures as it returned them: a mapping as lines, anything else as one line."""
    if isinstance(figures, dict):
        for key, value in figures.items():
            print(f"  {name}.{key}: {value}")
    elif figures is not None:
        print(f"  {name}: {figures}")


def run_part(module: str, function: str) -> None:
    print(f"{module}.{function}:")
    try:
        found: Callable[[], Any] = getattr(importlib.import_module(module), function)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # built, but something it imports is missing
            raise
        print("  not built")
        return
    except AttributeError:
        print(f"  not built ({module}.py has no {function})")
        return
    started = time.perf_counter()
    show(function, found())
    print(f"  ({time.perf_counter() - started:.1f} s)")


def timed_ms(call: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def score_figures(rows: int) -> None:
    from forge_tui.core.example_filter import ExampleFilter, ExampleOrder
    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.workspace import Workspace

    with tempfile.TemporaryDirectory() as folder:
        home = open_home(Path(folder) / "home")
        AccountService(home).create_user("bench", "Bench", PASSWORD)
        workspace = Workspace.open(home, AccountService(home).unlock("bench", PASSWORD))
        dataset = workspace.datasets.current()
        assert dataset is not None
        chance = random.Random(7)
        started = time.perf_counter()
        for start in range(0, rows, 5000):
            items = [
                (
                    ExampleContent(user_prompt=f"Question {i} about tides?", output=f"Answer {i}: the moon pulls."),
                    ExampleMeta(score=round(chance.uniform(1, 10), 1) if chance.random() < 0.8 else None),
                )
                for i in range(start, min(rows, start + 5000))
            ]
            workspace.examples.add_many(dataset.id, items)
        print(f"Examples by score: filled {rows} examples in {time.perf_counter() - started:.1f} s")
        examples, ds = workspace.examples, dataset.id
        figures = {
            "window by time (first 100)": lambda: examples.window(ds, 0, 100),
            "window best first (first 100)": lambda: examples.window(ds, 0, 100, order=ExampleOrder.SCORE_DESC),
            "window worst first (first 100)": lambda: examples.window(ds, 0, 100, order=ExampleOrder.SCORE_ASC),
            "window best first at 90% depth": lambda: examples.window(
                ds, rows * 9 // 10, 100, order=ExampleOrder.SCORE_DESC
            ),
            "count scored >= 7": lambda: examples.count(ds, ExampleFilter(min_score=7)),
        }
        for name, call in figures.items():
            print(f"  {name}: {timed_ms(call):.1f} ms (median of 5)")
        home.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="examples for the by-score figures")
    parser.add_argument("--skip-scores", action="store_true", help="only the other parts' figures")
    args = parser.parse_args()
    print(f"python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}")
    for module, function in PARTS:
        run_part(module, function)
    if not args.skip_scores:
        score_figures(args.rows)


if __name__ == "__main__":
    main()
