"""A generation job against a fast server versus a bare httpx loop doing the same requests.

    python bench/jobs.py [--items 20000] [--in-flight 256]

The fake Ollama runs in its own process (``python -m tests.fake_ollama --parallel 256 --reply-words 8``:
a short fixed reply, 256 requests served at once), so its work is not billed to the client measured.

1. Bare: an ``httpx.AsyncClient`` (256 connections) streams ``/api/chat`` for every item, 256 in flight
   (an asyncio.Semaphore), parses each NDJSON line and appends ``{"idx", "prompt", "output"}`` to a
   plaintext JSONL file.
2. App: the same items as a job (services.jobs): planned and written sealed first (timed apart), then
   run with concurrency 256 through the backend (OllamaBackend), each finished item sealed and committed
   with its example (store.jobs.record; several items per transaction).

Printed: examples per second for both, their ratio (target >= 0.9), and this process's RSS at the start
and the end of the app's run (target: growth <= 50 MB). The item function is the stand-in of
tests/job_recipe.py (one chat request per item, as services.generation makes a single-turn example).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.backends import BackendService  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.jobs import JobService, RunOptions  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402
from tests.job_recipe import MODEL, RECIPE, plan  # noqa: E402

PASSWORD = "bench password 1"
PROMPT = "Explain {topic} briefly."


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, in_flight: int) -> None:
        command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--parallel", str(in_flight)]
        self.proc = subprocess.Popen([*command, "--reply-words", "8"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def bare(base_url: str, items: int, in_flight: int, out: Path) -> float:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    gate = asyncio.Semaphore(in_flight)
    with out.open("a", encoding="utf-8") as sink:
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=None) as client:

            async def one(idx: int) -> None:
                prompt = PROMPT.format(topic=plan_topic(idx))
                body = {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": prompt}],
                    "stream": True,
                    "options": {"seed": 1000 + idx, "num_predict": 64},
                }
                async with gate, client.stream("POST", "/api/chat", json=body) as response:
                    parts = []
                    async for line in response.aiter_lines():
                        if line:
                            parts.append(json.loads(line).get("message", {}).get("content", ""))
                sink.write(json.dumps({"idx": idx, "prompt": prompt, "output": "".join(parts)}) + "\n")

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(items)))
            return time.perf_counter() - started


def plan_topic(idx: int) -> str:
    from tests.job_recipe import planned_slots

    return planned_slots(idx)["topic"]


async def app(base_url: str, items: int, in_flight: int, workspace: Workspace) -> tuple[float, float, float, float]:
    """One job of `items` on a new dataset: (seconds to plan and write it, seconds to run it, RSS
    before and after the run in MB)."""
    jobs = JobService(workspace.home, workspace.unlocked)
    dataset_id = workspace.datasets.create(f"bench {time.monotonic_ns()}").id
    planned = time.perf_counter()
    job = jobs.create(plan(dataset_id, items))
    planned = time.perf_counter() - planned
    settings = BackendSettings(base_url=base_url, concurrency=in_flight)
    before = rss_mb()
    async with BackendService(settings) as backend:
        started = time.perf_counter()
        summary = await jobs.run(job.id, backend, RECIPE, options=RunOptions(concurrency=in_flight))
        wall = time.perf_counter() - started
    after = rss_mb()
    assert summary.done == items, summary
    assert workspace.examples.count(dataset_id) == items
    return planned, wall, before, after


def open_workspace(home_dir: Path) -> Workspace:
    home = open_home(prepare_home_dir(home_dir))
    accounts = AccountService(home)
    accounts.create_user("bench", "Bench", PASSWORD)
    return Workspace.open(home, accounts.unlock("bench", PASSWORD))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    server = Server(args.in_flight)
    bare_walls: list[float] = []
    app_runs: list[tuple[float, float, float, float]] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workspace = open_workspace(Path(tmp) / "home")
            sink = Path(tmp) / "bare.jsonl"
            asyncio.run(bare(server.base_url, args.in_flight * 2, args.in_flight, sink))  # warm-up
            # Alternated, best of each: the machine's other load changes from minute to minute.
            for _ in range(args.rounds):
                bare_walls.append(asyncio.run(bare(server.base_url, args.items, args.in_flight, sink)))
                app_runs.append(asyncio.run(app(server.base_url, args.items, args.in_flight, workspace)))
            workspace.home.close()
    finally:
        server.close()
    bare_wall = min(bare_walls)
    planned, app_wall, _, _ = min(app_runs, key=lambda run: run[1])
    rss_start, rss_end = app_runs[0][2], app_runs[-1][3]
    bare_rate, app_rate = args.items / bare_wall, args.items / app_wall
    print(f"items                {args.items} at {args.in_flight} in flight, best of {args.rounds} alternated rounds")
    print(f"bare httpx + JSONL   {bare_rate:8.0f} examples/s ({bare_wall:.1f} s)")
    print(f"job (sealed, SQLite) {app_rate:8.0f} examples/s ({app_wall:.1f} s)")
    print(f"writing the plan     {planned:8.2f} s (before the first request; not in the rate)")
    print(f"ratio                {app_rate / bare_rate:8.2f} (target >= 0.9)")
    print(
        f"RSS                  {rss_start:.0f} MB at the start, {rss_end:.0f} MB at the end (target: growth <= 50 MB)"
    )


if __name__ == "__main__":
    main()
