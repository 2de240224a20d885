"""An augment job against a fast server versus a bare httpx loop sending the same requests.

    python bench/augment.py [--items 20000] [--in-flight 256]

The fake Ollama runs in its own process (``python -m tests.fake_ollama --parallel N --reply-words 8``),
so its work is not billed to the client measured.

1. Bare: an ``httpx.AsyncClient`` streams ``/api/chat`` for every example with the very messages the job
   sends (services.augment_jobs.request_for), N in flight, parses each NDJSON line and appends
   ``{"id", "before", "after"}`` to a plaintext JSONL file.
2. App: the same examples as an augment job in place (services.augment_jobs): planned and written sealed
   first (timed apart), then run through the jobs engine with concurrency N; each item's example opened,
   its answer replaced and sealed, committed with the item.

The items are split into rounds (``--rounds``, default 4) run bare then app, app then bare, and so on,
so that load which changes during the run on a shared machine weighs on both sides alike.

Printed: examples per second for both and their ratio (target >= 0.9), and the job's counts.
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

from forge_tui.core.augment import augment_line  # noqa: E402
from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.core.models import Example, ExampleContent, ExampleMeta  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.augment_jobs import AugmentChoice, augment_plan, request_for  # noqa: E402
from forge_tui.services.backends import BackendService  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.job_kinds import recipe_for  # noqa: E402
from forge_tui.services.jobs import JobService, RunOptions  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402

PASSWORD = "bench password 1"
MODEL = "llama3.2:latest"


class Server:
    def __init__(self, in_flight: int) -> None:
        command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--parallel", str(in_flight)]
        self.proc = subprocess.Popen([*command, "--reply-words", "8"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def choice(dataset_id: int, only_ids: tuple[str, ...] = ()) -> AugmentChoice:
    return AugmentChoice(
        dataset_id=dataset_id,
        field="answer",
        instruction="Make the answer to {{ user_prompt }} shorter.",
        model=MODEL,
        context=("user_prompt",),
        only_ids=only_ids,
    )


async def bare(base_url: str, examples: list[Example], in_flight: int, out: Path) -> float:
    spec = choice(0).spec()
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    gate = asyncio.Semaphore(in_flight)
    with out.open("a", encoding="utf-8") as sink:
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=None) as client:

            async def one(example: Example) -> None:
                request = request_for(spec, example.content)
                body = {
                    "model": request.model,
                    "messages": [{"role": m.role, "content": m.content} for m in request.messages],
                    "stream": True,
                }
                async with gate, client.stream("POST", "/api/chat", json=body) as response:
                    parts = []
                    async for line in response.aiter_lines():
                        if line:
                            parts.append(json.loads(line).get("message", {}).get("content", ""))
                after = "".join(parts).strip()
                sink.write(json.dumps({"id": example.id, "before": example.content.output, "after": after}) + "\n")

            started = time.perf_counter()
            await asyncio.gather(*(one(e) for e in examples))
            return time.perf_counter() - started


async def app(
    base_url: str, workspace: Workspace, dataset_id: int, in_flight: int, ids: tuple[str, ...]
) -> tuple[float, float, str]:
    jobs = JobService(workspace.home, workspace.unlocked)
    planned = time.perf_counter()
    job = jobs.create(augment_plan(workspace, choice(dataset_id, ids)))
    planned = time.perf_counter() - planned
    async with BackendService(BackendSettings(base_url=base_url, concurrency=in_flight)) as backend:
        started = time.perf_counter()
        summary = await jobs.run(job.id, backend, recipe_for("augment"), options=RunOptions(concurrency=in_flight))
        wall = time.perf_counter() - started
    assert summary.done == job.total and summary.failed == 0, summary
    return planned, wall, augment_line(jobs.get(job.id))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=4, help="The items split in rounds, run bare/job, job/bare, …")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = open_home(prepare_home_dir(Path(tmp) / "home"))
        accounts = AccountService(home)
        accounts.create_user("bench", "Bench", PASSWORD)
        workspace = Workspace.open(home, accounts.unlock("bench", PASSWORD))
        dataset_id = workspace.datasets.create("bench").id
        items = [
            (ExampleContent(user_prompt=f"Question {i} about tides?", output=f"A long answer {i} " * 8), ExampleMeta())
            for i in range(args.items)
        ]
        workspace.examples.add_many(dataset_id, items)
        examples = [e for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]
        server = Server(args.in_flight)
        # Rounds in the order AB, BA, AB, …: load on a shared machine that drifts during the run
        # weighs on both sides alike.
        bare_s = app_s = plan_s = 0.0
        lines = []
        size = -(-len(examples) // args.rounds)
        try:
            for r in range(args.rounds):
                chunk = examples[r * size : (r + 1) * size]
                for side in ("bare", "app") if r % 2 == 0 else ("app", "bare"):
                    if side == "bare":
                        bare_s += asyncio.run(bare(server.base_url, chunk, args.in_flight, Path(tmp) / "bare.jsonl"))
                    else:
                        ids = tuple(e.id for e in chunk)
                        planned, wall, line = asyncio.run(
                            app(server.base_url, workspace, dataset_id, args.in_flight, ids)
                        )
                        plan_s, app_s = plan_s + planned, app_s + wall
                        lines.append(line)
        finally:
            server.close()
            home.close()
        counts = " | ".join(lines)
    n = args.items
    print(f"items             {n}")
    print(f"bare httpx        {n / bare_s:8.0f} examples/s  ({bare_s:.1f} s)")
    print(f"augment job       {n / app_s:8.0f} examples/s  ({app_s:.1f} s; planning apart: {plan_s:.1f} s)")
    print(f"ratio             {bare_s / app_s:8.2f}  (target >= 0.9)")
    print(f"job counts        {counts}")


if __name__ == "__main__":
    main()
