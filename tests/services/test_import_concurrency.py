"""A long import beside other processes (real OS processes): the others keep writing, the import's
rows show all at once, and an import killed midway shows nothing and is gone after the next start."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.home import open_home
from forge_tui.store.visibility import VISIBLE_SQL
from tests.passwords import PASSWORD

pytestmark = pytest.mark.slow

RECORDS = 8000  # 8 batches of 1000
PAUSE_PER_BATCH = 0.5  # seconds; the progress callback runs after each batch is written
WAIT_LIMIT = 2.0  # seconds another writer may wait behind the import
TIMEOUT = 120

IMPORT_CHILD = """
import json, sys, time
from pathlib import Path
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.importing import import_file
from forge_tui.services.workspace import Workspace

home_dir, dataset_id, source, password = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), sys.argv[5]
pause = float(sys.argv[4])
home = open_home(home_dir)
workspace = Workspace.open(home, AccountService(home).unlock("alice", password))

def progress(read, imported):
    print(f"BATCH {imported}", flush=True)
    time.sleep(pause)  # a slow disk or a slow parser: the import takes a while

summary = import_file(workspace.examples, dataset_id, "target", source, progress=progress)
print(json.dumps({"imported": summary.imported, "finished": time.time()}), flush=True)
home.close()
"""

WRITER_CHILD = """
import json, sys, time
from forge_tui.core.models import ExampleContent
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.workspace import Workspace

home_dir, target, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
home = open_home(home_dir)
print("READY", flush=True)
sys.stdin.readline()
took = {}
started = time.monotonic()
unlocked = AccountService(home).unlock("alice", password)  # writes a login attempt
took["unlock"] = time.monotonic() - started
workspace = Workspace.open(home, unlocked)
started = time.monotonic()
created = workspace.datasets.create("made meanwhile")
took["create dataset"] = time.monotonic() - started
started = time.monotonic()
workspace.examples.add(created.id, ExampleContent(user_prompt="q", output="a"))
workspace.examples.add(target, ExampleContent(user_prompt="beside the import", output="a"))
took["add examples"] = time.monotonic() - started
seen = workspace.examples.count(target)
print(json.dumps({"took": took, "seen": seen, "finished": time.time()}), flush=True)
home.close()
"""


def prepare(home_dir: Path, tmp_path: Path) -> tuple[int, Path]:
    """alice with a dataset 'target' holding one example; a JSONL file of RECORDS records."""
    home = open_home(home_dir)
    try:
        accounts = AccountService(home)
        accounts.create_user("alice", "", PASSWORD)
        target = DatasetService(home, accounts.unlock("alice", PASSWORD).user).create("target").id
    finally:
        home.close()
    source = tmp_path / "big.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for i in range(RECORDS):
            out.write(json.dumps({"instruction": f"question {i}", "output": f"answer {i}"}) + "\n")
    return target, source


def start_import(home_dir: Path, target: int, source: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(IMPORT_CHILD), str(home_dir), str(target), str(source),
         str(PAUSE_PER_BATCH), PASSWORD],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_batch(importer: subprocess.Popen[str]) -> str:
    assert importer.stdout is not None
    line = importer.stdout.readline()
    if not line.startswith("BATCH"):
        _, err = importer.communicate(timeout=TIMEOUT)
        raise AssertionError(f"the import did not start: {line!r}\n{err}")
    return line


def counts(db_path: Path, dataset_id: int) -> tuple[int, int]:
    """(rows stored, rows shown) of the dataset, read as any program would."""
    with sqlite3.connect(db_path) as db:
        (stored,) = db.execute("SELECT count(*) FROM example WHERE dataset_id = ?", (dataset_id,)).fetchone()
        (shown,) = db.execute(
            f"SELECT count(*) FROM example WHERE dataset_id = ? AND {VISIBLE_SQL}", (dataset_id,)
        ).fetchone()
    db.close()
    return int(stored), int(shown)


def test_other_processes_unlock_and_write_while_a_long_import_runs(fast_home_dir: Path, tmp_path: Path) -> None:
    target, source = prepare(fast_home_dir, tmp_path)
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER_CHILD), str(fast_home_dir), str(target), PASSWORD],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    importer = start_import(fast_home_dir, target, source)
    try:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline().strip() == "READY"
        wait_for_batch(importer)  # a batch is written; seven more to go, half a second apart
        writer.stdin.write("GO\n")
        writer.stdin.flush()
        out, err = writer.communicate(timeout=TIMEOUT)
        assert writer.returncode == 0, err
        wrote: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        imp_out, imp_err = importer.communicate(timeout=TIMEOUT)
        assert importer.returncode == 0, imp_err
    finally:
        for child in (writer, importer):
            if child.poll() is None:
                child.kill()
                child.wait()
    imported: dict[str, Any] = json.loads(imp_out.strip().splitlines()[-1])
    assert imported["imported"] == RECORDS
    assert wrote["finished"] < imported["finished"], "the writer should have finished while the import ran"
    slow = {what: round(seconds, 2) for what, seconds in wrote["took"].items() if seconds > WAIT_LIMIT}
    assert slow == {}, f"waited behind the import: {slow}"
    assert wrote["seen"] == 1, "the import's rows showed before it finished"
    assert counts(fast_home_dir / "forge.db", target) == (RECORDS + 1, RECORDS + 1)


def test_an_import_killed_midway_shows_nothing_and_the_next_start_removes_its_rows(
    fast_home_dir: Path, tmp_path: Path
) -> None:
    target, source = prepare(fast_home_dir, tmp_path)
    db_path = fast_home_dir / "forge.db"
    importer = start_import(fast_home_dir, target, source)
    try:
        wait_for_batch(importer)
        wait_for_batch(importer)  # two batches written
        importer.send_signal(signal.SIGKILL)
        importer.wait(timeout=TIMEOUT)
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()
    stored, shown = counts(db_path, target)
    assert shown == 0
    assert stored >= 2000  # written, hidden

    home = open_home(fast_home_dir)  # the next start
    try:
        unlocked = AccountService(home).unlock("alice", PASSWORD)
        assert DatasetService(home, unlocked.user).get(target).example_count == 0
    finally:
        home.close()
    assert counts(db_path, target) == (0, 0)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM pending_insert").fetchone() == (0,)
    db.close()
