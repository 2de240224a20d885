"""Dedup of n synthetic examples (30-80 words, about 5% planted rewordings): seconds and peak RSS.

    .venv/bin/python bench/quality_dedup.py [--n 100000]

Target (issue 18): 100,000 examples with MinHash of 128 permutations in <= 60 s and <= 1 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forge_tui.core.dedup import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, find_clusters  # noqa: E402
from tests.dedup_texts import reword, text  # noqa: E402

PLANTED_SHARE = 0.05


def dedup_figures(n: int = 100_000, seed: int = 18) -> dict[str, float]:
    rng = random.Random(seed)
    planted = set(rng.sample(range(n), int(n * PLANTED_SHARE)))

    items: list[tuple[str, str]] = []
    for i in range(n):
        original = text(rng)
        items.append((f"o{i}", original))
        if i in planted:
            items.append((f"r{i}", reword(rng, original)))
        if len(items) >= n:
            break
    before = _rss_mib("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    clusters = find_clusters(items, DEFAULT_THRESHOLD, DEFAULT_NUM_PERM)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    pairs = {f"o{i}": f"r{i}" for i in planted if i < n - len(planted)}
    found = {frozenset(c.members) for c in clusters}
    hit = sum(frozenset(pair) in found for pair in pairs.items())
    return {
        "examples": n,
        "planted_pairs": len(pairs),
        "planted_found": hit,
        "clusters": len(clusters),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),  # the machine is shared: wall time includes waiting for a core
        "examples_per_second": round(n / seconds),
        "rss_before_mib": before,  # the interpreter and the texts, made before the clock starts
        "peak_rss_mib": _rss_mib("VmHWM"),
    }


def _rss_mib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    print(json.dumps(dedup_figures(parser.parse_args().n), indent=2))


if __name__ == "__main__":
    main()
