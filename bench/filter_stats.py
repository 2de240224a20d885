"""`datasets filter` and `datasets stats` over 100,000 examples (issue 19; target <= 3 s each on 2 cores).

    .venv/bin/python bench/filter_stats.py [--rows 100000]

Prints seconds for: a filter on plain columns only (SQL on the indexes, then one copy into a new
dataset), a filter that also tests sealed content (every row SQL left is opened), and the stats.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench password"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    rows = parser.parse_args().rows

    from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.dataset_filter import DatasetFilterService
    from forge_tui.services.home import open_home
    from forge_tui.services.workspace import Workspace

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as folder:
        home = open_home(Path(folder) / "home")
        AccountService(home).create_user("bench", "Bench", PASSWORD)
        workspace = Workspace.open(home, AccountService(home).unlock("bench", PASSWORD))
        dataset = workspace.datasets.create("big")
        started = time.perf_counter()
        for start in range(0, rows, 10_000):
            items = [
                (
                    ExampleContent(
                        user_prompt=f"question {i} " * 5,
                        output="answer " * rng.randint(5, 80),
                        slots={"topic": rng.choice(["physics", "maths", "art", "music"])},
                    ),
                    ExampleMeta(
                        model=rng.choice(["qwen2.5:7b", "llama3.2:3b", "gemma3:4b"]),
                        source=rng.choice(list(ExampleSource)),
                        review=rng.choice(list(ReviewState)),
                        score=rng.choice([None, *range(1, 11)]),
                        completion_tokens=rng.randint(5, 400),
                    ),
                )
                for i in range(start, min(rows, start + 10_000))
            ]
            workspace.examples.add_many(dataset.id, items)
        print(f"rows: {rows} (stocked in {time.perf_counter() - started:.1f} s)")
        service = DatasetFilterService(workspace.examples)
        for label, where in (
            ("filter, plain columns", "score>=7 and review!=rejected and model=~'qwen'"),
            ("filter, with content", "score>=7 and slot:topic = physics and answer ~ 'answer answer answer'"),
        ):
            started = time.perf_counter()
            result = service.filter_into("big", where, f"out {label}")
            print(f"{label}: {time.perf_counter() - started:.2f} s ({result.taken} of {result.total} copied)")
        started = time.perf_counter()
        stats = service.stats("big")
        print(f"stats: {time.perf_counter() - started:.2f} s ({stats.total} examples)")
        home.close()


if __name__ == "__main__":
    main()
