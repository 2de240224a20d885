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

3. UI: the real app (ForgeApp, headless, 120x40) unlocks a fresh account, shows the Jobs screen and runs a
   generation job of --ui-items items (services.generation's recipe) in its JobHost, as `n` on that
   screen would, at the same concurrency. A probe on the app's event loop sleeps 10 ms at a time and
   keeps how much later than asked it wakes (as bench/audition_latency.py): what a key press would wait.

Printed: examples per second for both, their ratio (target >= 0.9), this process's RSS at the start
and the end of the app's run (target: growth <= 50 MB) and the UI's event-loop p99 lateness while a job
runs in the app (target <= 30 ms). The item function of 1 and 2 is the stand-in of tests/job_recipe.py
(one chat request per item, as services.generation makes a single-turn example).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latency_probe import Probe, percentile  # noqa: E402
from textual.pilot import Pilot  # noqa: E402

from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.core.generation import GenerationSpec, SlotSource, SourceType  # noqa: E402
from forge_tui.core.jobs import JobState  # noqa: E402
from forge_tui.core.templates import SlotDef, TemplateInfo, WeightedValue  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.backends import BackendService  # noqa: E402
from forge_tui.services.generation_jobs import generation_plan  # noqa: E402
from forge_tui.services.home import Home, open_home  # noqa: E402
from forge_tui.services.jobs import JobService, RunOptions  # noqa: E402
from forge_tui.services.settings import SettingsService  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from forge_tui.ui.app import ForgeApp  # noqa: E402
from forge_tui.ui.screens.jobs import JobsScreen  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402
from tests.job_recipe import MODEL, RECIPE, plan  # noqa: E402

PASSWORD = "bench password 1"
PROMPT = "Explain {topic} briefly."
PROBE_INTERVAL = 0.010
UI_TEMPLATE = TemplateInfo(
    name="Explain",
    user_prompt="Explain {{ topic }} briefly.",
    slots=[
        SlotDef(
            name="topic",
            default="tides",
            values=[WeightedValue(value=v) for v in ("tides", "volcanoes", "glaciers")],
        )
    ],
)


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


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app never got there")
        await pilot.pause(0.05)


async def ui(home: Home, items: int) -> tuple[list[float], list[float], float]:
    """The app on its Jobs screen: probe lateness idle (2 s) and while a job of `items` runs in its
    JobHost, and the job's seconds."""
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press(*["space" if ch == " " else ch for ch in PASSWORD])
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "DatasetsScreen", timeout=60)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, JobsScreen), timeout=60)
        host, workspace = app.job_host, app.workspace
        assert host is not None and workspace is not None
        dataset_id = workspace.datasets.create("bench ui").id
        spec = GenerationSpec(
            template=UI_TEMPLATE,
            count=items,
            dataset_id=dataset_id,
            model=MODEL,
            max_tokens=64,
            seed=5,
            sources={"topic": SlotSource(type=SourceType.WEIGHTED)},
        )
        job = await asyncio.to_thread(host.jobs.create, generation_plan(spec))
        await pilot.pause(1.5)  # the Jobs screen shows the planned job

        probe = Probe(PROBE_INTERVAL)
        probe.start()
        await asyncio.sleep(2.0)
        idle = await probe.stop()

        probe.start()
        started = time.perf_counter()
        host.start(job.id)
        await until(pilot, lambda: not host.running(job.id))
        wall = time.perf_counter() - started
        running = await probe.stop()
        final = host.jobs.get(job.id)
        if (final.status, final.done) != (JobState.DONE, items):
            raise RuntimeError(f"the job in the app ended {final.status.value} with {final.done} of {items} done")
    return idle, running, wall


def open_ui_home(home_dir: Path, base_url: str, in_flight: int) -> Home:
    home = open_home(prepare_home_dir(home_dir))
    accounts = AccountService(home)
    accounts.create_user("bench", "Bench", PASSWORD)
    settings = BackendSettings(base_url=base_url, generation_model=MODEL, concurrency=in_flight)
    SettingsService(home, accounts.get("bench")).save_backend(settings)
    return home


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
    parser.add_argument("--ui-items", type=int, default=3_000, help="items of the job run inside the app")
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
            ui_home = open_ui_home(Path(tmp) / "ui-home", server.base_url, args.in_flight)
            idle, running, ui_wall = asyncio.run(ui(ui_home, args.ui_items))
            ui_home.close()
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
    ms = [v * 1000 for v in running]
    print(
        f"job in the app       {args.ui_items / ui_wall:8.0f} examples/s ({args.ui_items} items, {ui_wall:.1f} s), "
        f"Jobs screen shown; probe every {PROBE_INTERVAL * 1000:.0f} ms: {len(ms)} wake-ups, median "
        f"{statistics.median(ms):.1f} ms, max {max(ms):.1f} ms late (idle p99 {percentile(idle, 0.99) * 1000:.1f} ms)"
    )
    p99 = percentile(running, 0.99) * 1000
    verdict = "met" if p99 <= 30 else "missed"
    print(f"UI event-loop p99 lateness while a job runs: {p99:.1f} ms (target <= 30 ms: {verdict})")


if __name__ == "__main__":
    main()
