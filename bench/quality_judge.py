"""A judge job over a dataset against a fast server versus a bare httpx loop sending the same requests.

    python bench/quality_judge.py [--items 20000] [--in-flight 256] [--rounds 2]

The fake Ollama runs in its own process (``python -m tests.fake_ollama --parallel 256 --fixed-reply
<a judge's JSON verdict>``), so its work is not billed to the client measured. Every verdict is a score
of 8, above the threshold: one judge request per example, as a quality job with action "none" makes.

1. Bare: an ``httpx.AsyncClient`` (256 connections) posts, for every example, the body the judge sends
   (captured once from services.judging.judge_example against an in-process fake), 256 in flight,
   reads the answer, parses the verdict's JSON and appends ``{"idx", "score", "reason"}`` to a
   plaintext JSONL file.
2. App: the same examples judged as a job (services.judge_jobs, kind "judge"): the dataset filled and
   the plan written first (timed apart), then run with concurrency 256; each item opens its example,
   asks the judge, and commits the score and the sealed judgement with the item's done.

Printed: examples per second for both and their ratio (target >= 0.9, the jobs-engine ratio form of
bench/jobs.py). ``judge_ratio(n)`` returns the same figures as a dict.
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
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.core.judge_counts import Action  # noqa: E402
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState  # noqa: E402
from forge_tui.core.rubrics import builtin_rubrics  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.backends import BackendService  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.job_kinds import recipe_for  # noqa: E402
from forge_tui.services.jobs import JobService, RunOptions  # noqa: E402
from forge_tui.services.judge_jobs import JudgeChoice, judge_plan  # noqa: E402
from forge_tui.services.judging import judge_example  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402
from tests.fake_ollama import FakeOllama  # noqa: E402
from tests.judge_replies import verdict_json  # noqa: E402

PASSWORD = "bench password 1"
MODEL = "llama3.2:latest"
VERDICT = verdict_json(8, "Clear, correct and useful for training.")


class Server:
    def __init__(self, in_flight: int) -> None:
        command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--parallel", str(in_flight)]
        self.proc = subprocess.Popen([*command, "--fixed-reply", VERDICT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def content(idx: int) -> ExampleContent:
    return ExampleContent(
        user_prompt=f"Explain topic {idx} briefly.",
        output=f"Topic {idx} is explained here in a few plain sentences that a judge can score.",
    )


async def judge_body() -> dict[str, Any]:
    """The chat body the judge sends for one example (captured from an in-process fake)."""
    with FakeOllama() as fake:
        fake.fixed_reply = VERDICT
        example = Example(
            id="0", dataset_id=1, content=content(0), meta=ExampleMeta(), created_at=_now(), updated_at=_now()
        )
        async with BackendService(BackendSettings(base_url=fake.base_url)) as backend:
            await judge_example(backend, builtin_rubrics()["overall"], example, MODEL)
        body: dict[str, Any] = fake.requests[-1]
    return body


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


async def bare(base_url: str, body: dict[str, Any], items: int, in_flight: int, out: Path) -> float:
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    gate = asyncio.Semaphore(in_flight)
    streamed = bool(body.get("stream", True))
    with out.open("a", encoding="utf-8") as sink:
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=None) as client:

            async def one(idx: int) -> None:
                async with gate, client.stream("POST", "/api/chat", json=body) as response:
                    parts = []
                    async for line in response.aiter_lines():
                        if line:
                            parts.append(json.loads(line).get("message", {}).get("content", ""))
                    if not streamed and not parts:
                        parts.append(json.loads(await response.aread())["message"]["content"])
                verdict = json.loads("".join(parts))
                sink.write(json.dumps({"idx": idx, "score": verdict["score"], "reason": verdict["reason"]}) + "\n")

            started = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(items)))
            return time.perf_counter() - started


async def app(base_url: str, items: int, in_flight: int, workspace: Workspace) -> tuple[float, float]:
    """One judge job over a new dataset of `items` examples: (seconds to fill and plan it, seconds to run it)."""
    jobs = JobService(workspace.home, workspace.unlocked)
    planned = time.perf_counter()
    dataset_id = workspace.datasets.create(f"bench {time.monotonic_ns()}").id
    meta = ExampleMeta(review=ReviewState.UNREVIEWED)
    workspace.examples.add_many(dataset_id, [(content(i), meta) for i in range(items)])
    choice = JudgeChoice(dataset_id, builtin_rubrics()["overall"], MODEL, threshold=7, action=Action.NONE)
    job = jobs.create(judge_plan(workspace.examples, choice))
    planned = time.perf_counter() - planned
    async with BackendService(BackendSettings(base_url=base_url, concurrency=in_flight)) as backend:
        started = time.perf_counter()
        summary = await jobs.run(job.id, backend, recipe_for("judge"), options=RunOptions(concurrency=in_flight))
        wall = time.perf_counter() - started
    if (summary.done, summary.results.get("kept")) != (items, items):
        raise RuntimeError(f"the judge job ended with {summary.done} of {items} done: {summary.results}")
    return planned, wall


def judge_ratio(n: int = 20_000, in_flight: int = 256, rounds: int = 2) -> dict[str, float]:
    """Best of `rounds` alternated runs of each: examples per second bare and as a judge job, and their ratio."""
    server = Server(in_flight)
    bare_walls: list[float] = []
    app_runs: list[tuple[float, float]] = []
    try:
        body = asyncio.run(judge_body())
        with tempfile.TemporaryDirectory() as tmp:
            home = open_home(prepare_home_dir(Path(tmp) / "home"))
            accounts = AccountService(home)
            accounts.create_user("bench", "Bench", PASSWORD)
            workspace = Workspace.open(home, accounts.unlock("bench", PASSWORD))
            sink = Path(tmp) / "bare.jsonl"
            asyncio.run(bare(server.base_url, body, in_flight * 2, in_flight, sink))  # warm-up
            for _ in range(rounds):
                bare_walls.append(asyncio.run(bare(server.base_url, body, n, in_flight, sink)))
                app_runs.append(asyncio.run(app(server.base_url, n, in_flight, workspace)))
            home.close()
    finally:
        server.close()
    bare_wall = min(bare_walls)
    planned, app_wall = min(app_runs, key=lambda run: run[1])
    bare_rate, app_rate = n / bare_wall, n / app_wall
    return {
        "items": n,
        "in_flight": in_flight,
        "bare_per_s": bare_rate,
        "job_per_s": app_rate,
        "bare_s": bare_wall,
        "job_s": app_wall,
        "fill_and_plan_s": planned,
        "ratio": app_rate / bare_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    found = judge_ratio(args.items, args.in_flight, args.rounds)
    print(f"items                 {args.items} at {args.in_flight} in flight, best of {args.rounds} alternated rounds")
    print(f"bare httpx + JSONL    {found['bare_per_s']:8.0f} examples/s ({found['bare_s']:.1f} s)")
    print(f"judge job (sealed)    {found['job_per_s']:8.0f} examples/s ({found['job_s']:.1f} s)")
    print(f"filling and planning  {found['fill_and_plan_s']:8.2f} s (before the first request; not in the rate)")
    print(f"ratio                 {found['ratio']:8.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
