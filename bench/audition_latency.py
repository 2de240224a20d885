"""How late the UI's event loop runs while 16 audition cards stream.

    .venv/bin/python bench/audition_latency.py [--cards 16] [--words 400] [--token-ms 5] [--rounds 3]

The real app (ForgeApp, headless, 120x40) unlocks a fresh account, opens the Audition screen, and
generates a batch of --cards cards with no paraphrase model; every card streams a --words word reply
from the fake Ollama at --token-ms per token, all at once (concurrency = cards). The fake runs in its
own process (``python -m tests.fake_ollama``) so that its work is not billed to the app's loop.

A probe task on the app's event loop sleeps 5 ms at a time and records how much later than asked it
wakes: anything that holds the loop (parsing chunks, repainting cards, layout) shows up as lateness,
and it is what a key press would wait. The same probe runs for the same time with the screen idle
(the baseline of this machine and Textual's own timers). While cards stream, the bench also presses
`j`/`k` to move between cards and times each press until the focus has moved.

Target (issue 5): p99 lateness while streaming <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latency_probe import Probe, percentile  # noqa: E402
from textual import events  # noqa: E402
from textual.pilot import Pilot  # noqa: E402
from textual.widgets import Input  # noqa: E402

from forge_tui.core.backend_settings import BackendSettings  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.audition import CardState  # noqa: E402
from forge_tui.services.home import Home, open_home  # noqa: E402
from forge_tui.services.settings import SettingsService  # noqa: E402
from forge_tui.ui.app import ForgeApp  # noqa: E402
from forge_tui.ui.screens.audition import AuditionScreen  # noqa: E402
from forge_tui.ui.widgets.audition_card import AuditionCard  # noqa: E402

PASSWORD = "bench password"
PROBE_INTERVAL = 0.005


def describe(name: str, late: list[float]) -> str:
    ms = [v * 1000 for v in late]
    return (
        f"{name:<10} wake-ups {len(ms):>5}  median {statistics.median(ms):6.2f} ms  "
        f"p99 {percentile(ms, 0.99):6.2f} ms  max {max(ms):6.2f} ms"
    )


def start_fake(words: int, token_ms: float, cards: int) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--parallel", str(cards)]
    command += ["--token-latency", str(token_ms / 1000), "--reply-words", str(words)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def until(pilot: Pilot[None], condition: Callable[[], object], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app never got there")
        await pilot.pause(0.02)


async def one_round(home: Home, cards: int, idle_seconds: float) -> dict[str, list[float]]:
    app = ForgeApp(home)
    result: dict[str, list[float]] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.3)
        await pilot.press(*["space" if ch == " " else ch for ch in PASSWORD])
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "DatasetsScreen")
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, AuditionScreen) and app.screen.query(".slot-input"))
        screen = app.screen
        assert isinstance(screen, AuditionScreen)
        screen.query_one("#batch", Input).value = str(cards)
        screen.query_one("#paraphrase-model", Input).value = ""
        await pilot.pause(0.5)

        probe = Probe(PROBE_INTERVAL)
        probe.start()
        await asyncio.sleep(idle_seconds)
        result["idle"] = await probe.stop()

        probe.start()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.session is not None and len(screen.deck.card_widgets()) == cards)
        session = screen.session
        assert session is not None
        presses: list[float] = []
        step = 1
        driver = app._driver
        assert driver is not None
        while any(c.state in (CardState.PENDING, CardState.STREAMING) for c in session.cards):
            before = app.focused
            pressed = time.perf_counter()
            # What a terminal driver does with a key (Pilot.press would also wait for the app to idle).
            key = "j" if step > 0 else "k"
            driver.send_message(events.Key(key, key))
            while app.focused is before and isinstance(before, AuditionCard):
                await asyncio.sleep(0.001)
            presses.append(time.perf_counter() - pressed)
            widgets = screen.deck.card_widgets()
            if app.focused in (widgets[0], widgets[-1]):
                step = -step
            await asyncio.sleep(0.05)
        result["streaming"] = await probe.stop()
        result["keys"] = presses
        states = [c.state for c in session.cards]
        if any(s is not CardState.DONE for s in states):
            raise RuntimeError(f"not every card finished: {[c.error for c in session.cards if c.error]}")
        result["tokens"] = [float(sum(len(c.parts) for c in session.cards))]
        result["seconds"] = [max(c.seconds or 0.0 for c in session.cards)]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=16)
    parser.add_argument("--words", type=int, default=400, help="words per reply (one streamed piece each)")
    parser.add_argument("--token-ms", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    fake, base_url = start_fake(args.words, args.token_ms, args.cards)
    try:
        with tempfile.TemporaryDirectory() as folder:
            home = open_home(Path(folder))
            AccountService(home).create_user("bench", "Bench", PASSWORD)
            user = AccountService(home).get("bench")
            settings = BackendSettings(base_url=base_url, generation_model="llama3.2", concurrency=args.cards)
            SettingsService(home, user).save_backend(settings)
            print(f"python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()}")
            print(f"{args.cards} cards × {args.words} tokens at {args.token_ms:g} ms/token, {args.rounds} rounds")
            idle: list[float] = []
            streaming: list[float] = []
            keys: list[float] = []
            for number in range(1, args.rounds + 1):
                result = asyncio.run(one_round(home, args.cards, idle_seconds=2.0))
                idle += result["idle"]
                streaming += result["streaming"]
                keys += result["keys"]
                tokens, seconds = result["tokens"][0], result["seconds"][0]
                print(
                    f"round {number}: {tokens:.0f} tokens in {seconds:.2f} s ({tokens / seconds:,.0f} tokens/s "
                    f"into the UI); streaming p99 {percentile(result['streaming'], 0.99) * 1000:.1f} ms"
                )
    finally:
        fake.terminate()
        fake.wait()
    print(describe("idle", idle))
    print(describe("streaming", streaming))
    key_ms = [k * 1000 for k in keys]
    print(
        f"key j/k -> focus moved, while streaming: {len(key_ms)} presses, median {statistics.median(key_ms):.1f} ms, "
        f"p99 {percentile(key_ms, 0.99):.1f} ms"
    )
    p99 = percentile(streaming, 0.99) * 1000
    baseline = percentile(idle, 0.99) * 1000
    verdict = "met" if p99 <= 50 else "MISSED"
    print(f"streaming p99 lateness {p99:.1f} ms (idle {baseline:.1f} ms); target <= 50 ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
