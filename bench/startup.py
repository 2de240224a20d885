"""Start-up benchmark: a cold start to the unlock screen, in English and in Traditional Chinese.

Run: python bench/startup.py [--runs N]

Each run is a fresh Python process (imports, the data directory, the catalog, the first frame of the
unlock screen, headless), run until the unlock screen is shown. English and zh-TW runs take turns, so
load on the machine hits both alike. Both wall time and the child's CPU time are printed; on a shared
machine the CPU time is the steadier figure, and the target is judged on it. Target (issue 20): the
zh-TW start costs at most 50 ms more than the English one (medians). The catalog's own cost is printed
too: loading the compiled .mo, and compiling the .po in memory (Babel's import included) as a source
checkout without a build does.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

TARGET_MS = 50.0
REPO = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import sys
    from forge_tui import i18n
    i18n.start(None)
    from forge_tui.services.home import open_home
    from forge_tui.ui.app import ForgeApp
    from forge_tui.ui.screens.unlock import UnlockScreen

    app = ForgeApp(open_home(sys.argv[1]))

    async def shown(pilot):
        while not isinstance(app.screen, UnlockScreen):
            await pilot.pause(0.005)
        await pilot.pause()
        print("UNLOCK", i18n.current(), flush=True)
        app.exit()

    app.run(headless=True, size=(80, 24), auto_pilot=shown)
    """
)


def prepared_home() -> Path:
    """A data directory with one account (a cheap key derivation: the unlock itself is not timed)."""
    path = Path(tempfile.mkdtemp(prefix="forge-startup-")) / "home"
    path.mkdir()
    (path / "config.toml").write_text("[security]\nkdf_memory_kib = 8\nkdf_iterations = 1\n", encoding="utf-8")
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home

    home = open_home(path)
    AccountService(home).create_user("alice", "Alice", "correct horse battery")
    home.close()
    return path


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_start(home: Path, language: str) -> tuple[float, float]:
    """(wall ms, CPU ms) of one start to the unlock screen."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    env |= {"FORGE_TUI_LANG": language, "PYTHONPATH": str(REPO)}
    cpu, started = children_cpu(), time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(home)], env=env, capture_output=True, text=True, timeout=120
    )
    elapsed, cpu = time.perf_counter() - started, children_cpu() - cpu
    if f"UNLOCK {language}" not in child.stdout:
        raise SystemExit(f"the {language} start did not reach the unlock screen: {child.stderr[-2000:]}")
    return elapsed * 1000, cpu * 1000


def babel_import_ms() -> float:
    """Importing what the in-memory compile needs, in a fresh process."""
    code = (
        "import time; t = time.perf_counter(); import babel.messages.pofile, babel.messages.mofile; "
        "print((time.perf_counter() - t) * 1000)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def catalog_costs(rounds: int = 20) -> tuple[float, float]:
    """Milliseconds to load the zh_TW catalog from a compiled .mo and to compile it from the .po."""
    import gettext
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from forge_tui.i18n.translate import LOCALE_DIR, _compiled

    po = LOCALE_DIR / "zh_TW" / "LC_MESSAGES" / "forge_tui.po"
    with po.open("rb") as file:
        messages = read_po(file)
    buffer = BytesIO()
    write_mo(buffer, messages)
    compiled = buffer.getvalue()

    def best(action: object) -> float:
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            action()  # type: ignore[operator]
            times.append((time.perf_counter() - started) * 1000)
        return min(times)

    return best(lambda: gettext.GNUTranslations(BytesIO(compiled))), best(lambda: _compiled(po))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="starts per language (default 7)")
    args = parser.parse_args()
    home = prepared_home()
    po = REPO / "forge_tui" / "locale" / "zh_TW" / "LC_MESSAGES" / "forge_tui.po"
    mo = po.with_suffix(".mo")
    # forge_tui.i18n reads a .mo only when it is as new as its .po (else it compiles the .po in memory)
    mo_built = mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime
    runs: dict[str, list[tuple[float, float]]] = {"en": [], "zh_TW": []}
    one_start(home, "en")  # warm the disk cache and the .pyc files; not counted
    for _ in range(args.runs):
        for language, found in runs.items():
            found.append(one_start(home, language))
    print(f"cold start to the unlock screen, median of {args.runs} runs (ms):")
    medians = {}
    for language, found in runs.items():
        wall, cpu = statistics.median(w for w, _c in found), statistics.median(c for _w, c in found)
        medians[language] = (wall, cpu)
        each = ", ".join(f"{c:.0f}" for _w, c in found)
        print(f"  {language:<6} wall {wall:7.1f}   CPU {cpu:7.1f}   (CPU runs: {each})")
    wall_difference = medians["zh_TW"][0] - medians["en"][0]
    cpu_difference = medians["zh_TW"][1] - medians["en"][1]
    verdict = "within" if cpu_difference <= TARGET_MS else "OVER"
    print(f"  zh-TW costs {cpu_difference:+.1f} ms CPU ({verdict} the {TARGET_MS:.0f} ms target)", end="")
    print(f", {wall_difference:+.1f} ms wall")
    source = "the built .mo" if mo_built else "the .po compiled in memory (no .mo, or one older than the .po)"
    print(f"  the runs loaded {source}")
    mo_ms, po_ms = catalog_costs()
    print(
        f"zh_TW catalog alone: {mo_ms:.2f} ms from a .mo; {po_ms:.1f} ms compiling the .po, "
        f"plus {babel_import_ms():.1f} ms importing Babel"
    )


if __name__ == "__main__":
    main()
