"""Jobs on a pool of model servers that push back, against the best a client could do.

    python bench/pool.py [--seconds 15] [--token-latency 0.03] [--reply-words 12] [--rounds 2]

Each fake Ollama runs in its own process (``python -m tests.fake_ollama --capacity N``: N requests
served at once, a 429 with Retry-After above that, tokens slower with load), so its work is not
billed to the client measured. The job's endpoints are given a max concurrency of 64 (128 in 3), so
the adaptive limits have to find each server's capacity themselves.

1. One capacity-32 fake. Ideal: a bare httpx loop with exactly 32 in flight (an asyncio.Semaphore)
   streaming /api/chat. App: a real job (services.jobs, sealed, on a SQLite file) through
   services.endpoint_pool.open_client. Goodput = answers per second; printed as a fraction of the
   ideal (target >= 0.9).
2. Three fakes of capacities 32, 32 and 8: the ideal of each measured alone as in 1, summed; the job
   runs on the pool of the three (target >= 0.85).
3. Four fakes serving 128 each, 512 workers asking the pool (no job: the pool and the HTTP client
   alone): the client's CPU time per answer (time.process_time() over answers once the limits grew),
   and the mean in flight. Token latency --cpu-token-latency (slower, so one core can keep 512 going).

The token latency is chosen so the client has CPU to spare in 1 and 2 (one Python process streams
a few hundred answers per second at most; 3 measures what each costs): what is measured is how
close the adaptive limits and the routing get to the servers' capacity.

The ideal and the job alternate, best of --rounds each: the machine's other load changes.
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
from forge_tui.core.chat import ChatMessage, ChatRequest  # noqa: E402
from forge_tui.core.endpoints import POOL, Endpoint  # noqa: E402
from forge_tui.core.jobs import JobState  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.endpoint_pool import EndpointPool, open_client  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.jobs import JobService  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from tests.conftest import prepare_home_dir  # noqa: E402
from tests.job_recipe import MODEL, RECIPE, plan  # noqa: E402

PASSWORD = "bench password 1"


class Fake:
    def __init__(self, capacity: int, token_latency: float, reply_words: int) -> None:
        command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--capacity", str(capacity)]
        command += ["--token-latency", str(token_latency), "--reply-words", str(reply_words)]
        self.capacity = capacity
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


async def ideal(fake: Fake, seconds: float) -> float:
    """Answers per second of a bare loop keeping exactly `capacity` requests in flight."""
    in_flight = fake.capacity
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    answered = 0
    async with httpx.AsyncClient(base_url=fake.base_url, limits=limits, timeout=None) as client:
        deadline = time.perf_counter() + seconds

        async def lane(lane_id: int) -> None:
            nonlocal answered
            seed = lane_id * 1_000_000
            while time.perf_counter() < deadline:
                seed += 1
                body = {
                    "model": MODEL,
                    "messages": [{"role": "user", "content": f"Explain tides {seed} briefly."}],
                    "stream": True,
                    "options": {"seed": seed, "num_predict": 64},
                }
                async with client.stream("POST", "/api/chat", json=body) as response:
                    parts = [json.loads(line) async for line in response.aiter_lines() if line]
                if response.status_code == 200 and parts and parts[-1].get("done"):
                    answered += 1

        started = time.perf_counter()
        await asyncio.gather(*(lane(i) for i in range(in_flight)))
        return answered / (time.perf_counter() - started)


def endpoints_for(fakes: list[Fake], max_concurrency: int) -> list[Endpoint]:
    return [Endpoint(name=f"gpu{i}", url=f.base_url, max_concurrency=max_concurrency) for i, f in enumerate(fakes)]


async def job(workspace: Workspace, endpoints: list[Endpoint], items: int) -> tuple[float, str]:
    """Answers per second of a job of `items` on the pool, and the pool's last figures."""
    jobs = JobService(workspace.home, workspace.unlocked)
    dataset_id = workspace.datasets.create(f"bench {time.monotonic_ns()}").id
    created = jobs.create(plan(dataset_id, items))
    async with open_client(BackendSettings(endpoints=endpoints), MODEL, POOL) as pool:
        started = time.perf_counter()
        summary = await jobs.run(created.id, pool, RECIPE)
        wall = time.perf_counter() - started
        figures = ", ".join(f"{s.name} limit {s.limit} answered {s.answered} refused {s.failed}" for s in pool.stats())
    assert (summary.status, summary.done) == (JobState.DONE, items), summary
    return items / wall, figures


async def cpu_per_answer(endpoints: list[Endpoint], seconds: float, in_flight: int) -> tuple[float, float, int]:
    """(CPU seconds per answer, mean in flight, answers) of `in_flight` workers asking the pool."""
    async with open_client(BackendSettings(endpoints=endpoints), MODEL, POOL) as pool:
        answered = 0
        samples: list[int] = []
        deadline = time.perf_counter() + seconds
        warm = asyncio.Event()

        async def worker(worker_id: int) -> None:
            nonlocal answered
            seed = worker_id * 1_000_000
            while time.perf_counter() < deadline:
                seed += 1
                request = ChatRequest(
                    model=MODEL, messages=[ChatMessage(role="user", content=f"Say {seed}.")], seed=seed, max_tokens=64
                )
                await pool.complete(request)
                if warm.is_set():
                    answered += 1

        async def sampler(pool: EndpointPool) -> None:
            started = time.perf_counter()
            while sum(s.limit for s in pool.stats()) < in_flight and time.perf_counter() - started < seconds / 2:
                await asyncio.sleep(0.1)  # the slow start
            warm.set()
            while time.perf_counter() < deadline:
                samples.append(sum(s.in_flight for s in pool.stats()))
                await asyncio.sleep(0.1)

        cpu_at_warm = 0.0

        async def mark() -> None:
            nonlocal cpu_at_warm
            await warm.wait()
            cpu_at_warm = time.process_time()

        await asyncio.gather(sampler(pool), mark(), *(worker(i) for i in range(in_flight)))
        cpu = time.process_time() - cpu_at_warm
    return cpu / max(1, answered), sum(samples) / max(1, len(samples)), answered


def open_workspace(home_dir: Path) -> Workspace:
    home = open_home(prepare_home_dir(home_dir))
    accounts = AccountService(home)
    accounts.create_user("bench", "Bench", PASSWORD)
    return Workspace.open(home, accounts.unlock("bench", PASSWORD))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each ideal run; jobs are sized to match")
    parser.add_argument("--token-latency", type=float, default=0.03)
    parser.add_argument("--cpu-token-latency", type=float, default=0.2, help="3: slow enough for 512 in flight")
    parser.add_argument("--reply-words", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-cpu", action="store_true")
    args = parser.parse_args()
    latency, words = args.token_latency, args.reply_words
    with tempfile.TemporaryDirectory() as tmp:
        workspace = open_workspace(Path(tmp) / "home")

        one = Fake(32, latency, words)
        try:
            ideals, runs = [], []
            for _ in range(args.rounds):
                ideals.append(asyncio.run(ideal(one, args.seconds)))
                items = int(ideals[-1] * args.seconds)
                runs.append(asyncio.run(job(workspace, endpoints_for([one], 64), items)))
        finally:
            one.close()
        best_ideal = max(ideals)
        best_job, figures = max(runs)
        print(f"1. capacity-32 fake: ideal (32 in flight) {best_ideal:7.1f} answers/s, job {best_job:7.1f} answers/s")
        print(f"   goodput / ideal {best_job / best_ideal:5.2f} (target >= 0.9); {figures}")

        three = [Fake(c, latency, words) for c in (32, 32, 8)]
        try:
            ideals3, runs3 = [], []
            for _ in range(args.rounds):
                ideals3.append(sum(asyncio.run(ideal(f, args.seconds / 2)) for f in three))
                items = int(ideals3[-1] * args.seconds)
                runs3.append(asyncio.run(job(workspace, endpoints_for(three, 64), items)))
        finally:
            for fake in three:
                fake.close()
        best_ideal3 = max(ideals3)
        best_job3, figures3 = max(runs3)
        print(
            f"2. capacities 32/32/8: sum of ideals {best_ideal3:7.1f} answers/s, job {best_job3:7.1f} answers/s, "
            f"ratio {best_job3 / best_ideal3:5.2f} (target >= 0.85)"
        )
        print(f"   {figures3}")
        workspace.home.close()

    if args.skip_cpu:
        return
    four = [Fake(128, args.cpu_token_latency, words) for _ in range(4)]
    try:
        per_answer, mean_in_flight, answered = asyncio.run(
            cpu_per_answer(endpoints_for(four, 128), max(args.seconds, 20.0), in_flight=512)
        )
    finally:
        for fake in four:
            fake.close()
    print(
        f"3. 512 workers over four endpoints (128 each): client CPU {per_answer * 1000:.2f} ms per answer "
        f"({answered} answers, {mean_in_flight:.0f} in flight on average, token latency {args.cpu_token_latency:g} s)"
    )


if __name__ == "__main__":
    main()
