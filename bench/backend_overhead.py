"""How much OllamaBackend.chat costs on top of a bare httpx streaming loop.

    /work/venv/bin/python bench/backend_overhead.py [--requests 2000] [--chunks 20000] [--rounds 2]

The fake Ollama server (tests/fake_ollama.py) runs in a *separate process* (``python -m tests.fake_ollama``
for the throughput part, a ``python -c`` wrapper around ``FakeOllama`` with ``fixed_reply`` set for the
long stream, since the CLI has no switch for it). In-process, the server's event-loop thread would share
the GIL with the client being measured, so server work would be billed to the client and the numbers would
depend on thread scheduling; in its own process it only competes for a CPU core.

1. Throughput: N streamed /api/chat requests at concurrency 16 (an asyncio.Semaphore(16) around each
   request, whole stream consumed) against a fake with ``--first-byte-delay 0.02 --parallel 16`` (so a
   request takes ~20 ms plus its 20-60 chunks), through
   ``OllamaBackend(BackendSettings(base_url=..., concurrency=16)).chat(ChatRequest(...))`` versus a bare
   ``httpx.AsyncClient`` with the same limits (``client.stream("POST", "/api/chat", json=...)``,
   ``aiter_lines()`` + ``json.loads`` per line). The variants alternate, each runs ``--rounds`` times,
   the best wall time counts. Ratio = bare wall / backend wall (1.0 means no overhead).
2. Parsing: one long stream of ~``--chunks`` chunks (token_latency 0) through both, best of ``--rounds``.
   Wall-clock chunks/s can be capped by the server process, so the client's own CPU time per chunk
   (time.process_time of this process, which holds only the client) is printed too; that ratio is the
   client-side parsing overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.core.chat import ChatMessage, ChatRequest  # noqa: E402
from forge_tui.llm.ollama import OllamaBackend  # noqa: E402

MODEL = "llama3.2:latest"
CONCURRENCY = 16

# A fake with fixed_reply (not settable from the CLI) in its own process; stops when stdin closes.
_LONG_SERVER = """
import sys
from tests.fake_ollama import FakeOllama
words = int(sys.argv[1])
fake = FakeOllama(token_latency=0.0, parallel=4)
fake.fixed_reply = " ".join(f"w{i % 1000}" for i in range(words))
fake.start()
print(fake.base_url, flush=True)
sys.stdin.read()
fake.stop()
"""


class Server:
    """A fake Ollama in a child process; the base URL is its first line of output."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        if not self.base_url.startswith("http"):
            self.close()
            raise RuntimeError("the fake Ollama server did not start")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the CLI stops on SIGTERM; the -c wrapper dies of it
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


def settings(base_url: str) -> BackendSettings:
    return BackendSettings(base_url=base_url, concurrency=CONCURRENCY)


def bare_client(base_url: str) -> httpx.AsyncClient:
    """The client HttpBackend builds, without the backend around it."""
    s = settings(base_url)
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"User-Agent": "forge-tui"},
        timeout=httpx.Timeout(connect=s.connect_timeout, read=None, write=s.connect_timeout, pool=None),
        limits=httpx.Limits(max_connections=max(s.concurrency, 10), max_keepalive_connections=max(s.concurrency, 10)),
    )


def prompt(i: int) -> str:
    return f"Tell me about item {i}."


# ------------------------------------------------------------------------------ one request each


async def backend_request(backend: OllamaBackend, i: int, max_tokens: int | None = None) -> int:
    request = ChatRequest(
        model=MODEL, messages=[ChatMessage(role="user", content=prompt(i))], seed=i, max_tokens=max_tokens
    )
    chunks = 0
    done = False
    async for chunk in backend.chat(request):
        chunks += 1
        done = chunk.done
    if not done:
        raise RuntimeError("backend stream ended without done")
    return chunks


async def bare_request(client: httpx.AsyncClient, i: int, max_tokens: int | None = None) -> int:
    options: dict[str, Any] = {"seed": i}
    if max_tokens is not None:
        options["num_predict"] = max_tokens
    payload = {
        "model": MODEL,
        "messages": [{"role": "user", "content": prompt(i)}],
        "stream": True,
        "options": options,
    }
    chunks = 0
    done = False
    async with client.stream("POST", "/api/chat", json=payload) as response:
        response.raise_for_status()
        async for raw in response.aiter_lines():
            if not raw.strip():
                continue
            line = json.loads(raw)
            chunks += 1
            done = bool(line.get("done"))
    if not done:
        raise RuntimeError("bare stream ended without done")
    return chunks


# ------------------------------------------------------------------------------------ 1. throughput


async def run_many(one: Callable[[int], Awaitable[int]], n: int) -> tuple[float, int]:
    semaphore = asyncio.Semaphore(CONCURRENCY)

    async def guarded(i: int) -> int:
        async with semaphore:
            return await one(i)

    start = time.perf_counter()
    counts = await asyncio.gather(*(guarded(i) for i in range(n)))
    return time.perf_counter() - start, sum(counts)


async def throughput_variant(kind: str, base_url: str, n: int) -> tuple[float, int]:
    """A fresh client per run, warmed up (connections opened) before timing."""
    if kind == "backend":
        backend = OllamaBackend(settings(base_url))
        try:
            await run_many(lambda i: backend_request(backend, -1 - i), 4 * CONCURRENCY)
            return await run_many(lambda i: backend_request(backend, i), n)
        finally:
            await backend.aclose()
    async with bare_client(base_url) as client:
        await run_many(lambda i: bare_request(client, -1 - i), 4 * CONCURRENCY)
        return await run_many(lambda i: bare_request(client, i), n)


def bench_throughput(n: int, rounds: int) -> float:
    server = Server(["-m", "tests.fake_ollama", "--port", "0", "--first-byte-delay", "0.02", "--parallel", "16"])
    best: dict[str, float] = {}
    chunks: dict[str, int] = {}
    try:
        order = ["bare", "backend"]
        for r in range(rounds):
            for kind in order if r % 2 == 0 else order[::-1]:
                wall, count = asyncio.run(throughput_variant(kind, server.base_url, n))
                print(f"  round {r + 1} {kind:<8} {wall:7.3f} s  {n / wall:8.1f} req/s")
                best[kind] = min(best.get(kind, float("inf")), wall)
                chunks[kind] = count
    finally:
        server.close()
    if chunks["bare"] != chunks["backend"]:
        print(f"  note: chunk counts differ (bare {chunks['bare']}, backend {chunks['backend']})")
    ideal = n / CONCURRENCY * 0.02
    print(f"  ideal (20 ms x {n}/{CONCURRENCY}): {ideal:.3f} s")
    for kind in ("bare", "backend"):
        print(f"  best {kind:<8} {best[kind]:7.3f} s  {n / best[kind]:8.1f} req/s  ({chunks[kind]} chunks)")
    ratio = best["bare"] / best["backend"]
    print(f"  ratio bare/backend (wall): {ratio:.3f}  {'OK' if ratio >= 0.95 else 'BELOW 0.95'}")
    return ratio


# -------------------------------------------------------------------------------------- 2. parsing


async def long_variant(kind: str, base_url: str, budget: int) -> tuple[float, float, int]:
    if kind == "backend":
        backend = OllamaBackend(settings(base_url))
        try:
            await backend_request(backend, 0, max_tokens=50)  # connect
            cpu, start = time.process_time(), time.perf_counter()
            count = await backend_request(backend, 1, max_tokens=budget)
            return time.perf_counter() - start, time.process_time() - cpu, count
        finally:
            await backend.aclose()
    async with bare_client(base_url) as client:
        await bare_request(client, 0, max_tokens=50)
        cpu, start = time.process_time(), time.perf_counter()
        count = await bare_request(client, 1, max_tokens=budget)
        return time.perf_counter() - start, time.process_time() - cpu, count


def bench_parsing(budget: int, rounds: int) -> float:
    server = Server(["-c", _LONG_SERVER, str(budget + 100)])
    best_wall: dict[str, float] = {}
    best_cpu: dict[str, float] = {}
    chunks: dict[str, int] = {}
    try:
        order = ["bare", "backend"]
        for r in range(rounds):
            for kind in order if r % 2 == 0 else order[::-1]:
                wall, cpu, count = asyncio.run(long_variant(kind, server.base_url, budget))
                print(
                    f"  round {r + 1} {kind:<8} {count} chunks  {count / wall:9.0f} chunks/s wall  "
                    f"{cpu / count * 1e6:6.1f} us CPU/chunk"
                )
                best_wall[kind] = min(best_wall.get(kind, float("inf")), wall)
                best_cpu[kind] = min(best_cpu.get(kind, float("inf")), cpu)
                chunks[kind] = count
    finally:
        server.close()
    for kind in ("bare", "backend"):
        c = chunks[kind]
        print(
            f"  best {kind:<8} {c / best_wall[kind]:9.0f} chunks/s wall  "
            f"{c / best_cpu[kind]:9.0f} chunks/s per client CPU s  ({best_cpu[kind] / c * 1e6:.1f} us/chunk)"
        )
    wall_ratio = (chunks["backend"] / best_wall["backend"]) / (chunks["bare"] / best_wall["bare"])
    cpu_ratio = (chunks["backend"] / best_cpu["backend"]) / (chunks["bare"] / best_cpu["bare"])
    print(f"  ratio backend/bare chunks/s (wall): {wall_ratio:.3f}")
    print(f"  ratio backend/bare chunks/s (client CPU): {cpu_ratio:.3f}")
    return wall_ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant, alternating; best counts")
    args = parser.parse_args()

    print(f"python {platform.python_version()} ({platform.python_implementation()}), httpx {httpx.__version__}")
    print(f"CPUs: {os.cpu_count()}  platform: {platform.platform()}")
    started = time.perf_counter()
    print(f"\n1. {args.requests} streamed chats, concurrency {CONCURRENCY}, fake: 20 ms first byte, 16 parallel")
    bench_throughput(args.requests, args.rounds)
    print(f"\n2. one long stream, ~{args.chunks} chunks, token_latency 0")
    bench_parsing(args.chunks, args.rounds)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
