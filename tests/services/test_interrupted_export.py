"""An export interrupted from outside, with real OS processes: `forge-tui export` stopped by SIGTERM,
SIGHUP or SIGINT leaves no temporary file and exits 128 + the signal; killed with SIGKILL, its
worker processes (which hold the dataset key) end within a couple of seconds and the next export
into the folder removes the temporary file it left; the TUI removes its temporary files on those
signals too."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from forge_tui.services.home import open_home
from tests.conftest import prepare_home_dir
from tests.passwords import PASSWORD
from tests.ui.helpers import fill

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG is Linux's"),
]

EXAMPLES = 30_000  # enough that the export is still running when the signal comes
CLI = [sys.executable, "-c", "from forge_tui.cli import main; main()"]
TIMEOUT = 120


@pytest.fixture(scope="module")
def stocked_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = prepare_home_dir(tmp_path_factory.mktemp("stocked") / "home")
    home = open_home(path)
    try:
        fill(home, EXAMPLES)
    finally:
        home.close()
    return path


@pytest.fixture
def home_dir(stocked_home: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(stocked_home, tmp_path / "home"))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".part", ".spool"))


def start_export(home_dir: Path, out: Path) -> subprocess.Popen[str]:
    password = home_dir.parent / "password"
    password.write_text(PASSWORD + "\n", encoding="utf-8")
    with password.open("rb") as stdin:
        return subprocess.Popen(
            [*CLI, "--home", str(home_dir), "export", "--out", str(out), "--password-stdin"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@contextmanager
def reaped(child: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """The child, killed and waited for if it still runs when the block ends (a wait that timed out, say)."""
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def stop_with(child: subprocess.Popen[str], signum: int) -> str:
    """Sends `signum` and waits for the child to end; returns what it wrote to stderr."""
    child.send_signal(signum)
    _, err = child.communicate(timeout=TIMEOUT)
    return err


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie holds no memory (and no key) any more


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)], ids=["TERM", "HUP", "INT"]
)
def test_a_signal_stops_the_export_and_no_temporary_file_stays(
    home_dir: Path, tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with reaped(start_export(home_dir, out / "big.jsonl")) as child:
        wait_for(lambda: bool(temporaries(out)), "the export's temporary file")
        err = stop_with(child, signum)
    assert child.returncode == code, err
    assert "Traceback" not in err and err.startswith("forge-tui: ")
    assert list(out.iterdir()) == []


def test_kill_9_ends_the_workers_and_the_next_export_removes_the_leftover(home_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with reaped(start_export(home_dir, out / "big.jsonl")) as child:
        wait_for(lambda: bool(temporaries(out)) and bool(children_of(child.pid)), "the export's worker processes")
        workers = children_of(child.pid)
        child.kill()
        child.wait(timeout=TIMEOUT)
        started = time.monotonic()
        wait_for(lambda: not any(running(pid) for pid in workers), "the workers to end", timeout=3)
        assert time.monotonic() - started < 3
    (leftover,) = temporaries(out)  # SIGKILL cannot be caught: the next export into the folder removes it
    assert leftover.name.startswith(".big.jsonl.forge-tmp-") and f"-{child.pid}-" in leftover.name
    again = start_export(home_dir, out / "other.jsonl")
    _, err = again.communicate(timeout=TIMEOUT)
    assert again.returncode == 0, err
    assert [p.name for p in out.iterdir()] == ["other.jsonl"]


TUI_CHILD = """
import asyncio, sys, time
from pathlib import Path

from textual.widgets import Input

from forge_tui.services import export_workers
from forge_tui.services.home import open_home
from forge_tui.ui.app import ForgeApp
from tests.ui.helpers import open_export

render = export_workers._Renderer.render


def slow(self, ids, paired=None):  # a long export: many small chunks, each a little slow
    time.sleep(0.05)
    return render(self, ids, paired)


export_workers._Renderer.render = slow
export_workers.CHUNK = 50
export_workers.PARALLEL_FROM = 10**9
out = Path(sys.argv[2])


async def main() -> int:
    app = ForgeApp(open_home(sys.argv[1]))
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await open_export(pilot)
        screen.query_one("#destination", Input).value = str(out / "tui.jsonl")
        await pilot.press("ctrl+e")
        while not list(out.glob(".tui.jsonl.*.part")):
            await asyncio.sleep(0.01)
        print("EXPORTING", flush=True)
        while app.is_running:
            await asyncio.sleep(0.01)
    return app.return_code or 0


sys.exit(asyncio.run(main()))
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_the_tui_removes_its_temporary_files_on_a_signal(
    home_dir: Path, tmp_path: Path, signum: int, code: int
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with reaped(
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(TUI_CHILD), str(home_dir), str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).parents[2],
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])},
        )
    ) as child:
        assert child.stdout is not None
        line = child.stdout.readline()
        if line.strip() != "EXPORTING":
            _, err = child.communicate(timeout=TIMEOUT)
            raise AssertionError(f"the TUI did not start exporting: {line!r}\n{err}")
        err = stop_with(child, signum)
    assert child.returncode == code, err
    assert list(out.iterdir()) == []
