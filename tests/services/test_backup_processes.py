"""Backup and restore beside other OS processes: a backup taken while another process inserts is
one consistent, sound, unlockable snapshot, and restoring it gives back exactly what it held; a
restore waits for another writer's lock and gives up without changing anything."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.backup import backup
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import Home, open_home
from forge_tui.services.restore import open_backup, restore
from tests.conftest import prepare_home_dir
from tests.lock_holder import write_lock_held
from tests.passwords import PASSWORD

pytestmark = pytest.mark.slow

INSERTS = 1000
TIMEOUT = 120

INSERTER = """
import sys, time
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService
from forge_tui.services.backup import backup
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import open_home

home = open_home(sys.argv[1])
service = ExampleService(home, AccountService(home).unlock("alice", sys.argv[2]))
dataset_id, count = int(sys.argv[3]), int(sys.argv[4])
for start in range(0, count, 10):  # ten examples a transaction
    batch = [
        (ExampleContent(user_prompt=f"question {n}", output=f"answer {n}", slots={"n": str(n)}), ExampleMeta())
        for n in range(start, min(start + 10, count))
    ]
    service.add_many(dataset_id, batch)
    if start == 200:
        print("INSERTING", flush=True)
    time.sleep(0.005)
home.close()
print("DONE", flush=True)
"""


def forge_tui(home_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_tui", "--home", str(home_dir), *args],
        input=stdin, capture_output=True, text=True, timeout=TIMEOUT,
    )  # fmt: skip


def alice_dataset(home_dir: Path) -> int:
    home = open_home(home_dir)
    try:
        accounts = AccountService(home)
        accounts.create_user("alice", "", PASSWORD)
        current = DatasetService(home, accounts.unlock("alice", PASSWORD).user).current()
        assert current is not None
        return current.id
    finally:
        home.close()


def examples_in(home: Home, dataset_id: int) -> dict[str, tuple[str, str]]:
    """Every example of the dataset, opened: id -> (prompt, answer). Fails on a row that does not open."""
    items = list(ExampleService(home, AccountService(home).unlock("alice", PASSWORD)).scan(dataset_id))
    assert all(isinstance(i, Example) for i in items), [i for i in items if not isinstance(i, Example)][:2]
    return {i.id: (i.content.user_prompt, i.content.output) for i in items if isinstance(i, Example)}


def test_a_backup_taken_while_another_process_inserts_restores_what_it_held(
    fast_home_dir: Path, tmp_path: Path
) -> None:
    dataset_id = alice_dataset(fast_home_dir)
    out = tmp_path / "backup.db"
    inserter = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(INSERTER), str(fast_home_dir), PASSWORD, str(dataset_id), str(INSERTS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert inserter.stdout is not None
        assert inserter.stdout.readline().strip() == "INSERTING"
        home = open_home(fast_home_dir)
        try:
            summary, _seconds = backup(home, out)
        finally:
            home.close()
        still_inserting = inserter.poll() is None
        rest, errors = inserter.communicate(timeout=TIMEOUT)
    finally:
        if inserter.poll() is None:
            inserter.kill()
            inserter.wait()
    assert inserter.returncode == 0 and rest.strip() == "DONE", errors[-2000:]
    assert still_inserting  # the backup ran while the other process was writing
    assert 200 < summary.examples < INSERTS

    # The backup is sound and opens on its own, with the password.
    with sqlite3.connect(out) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    elsewhere = prepare_home_dir(tmp_path / "elsewhere")
    shutil.copyfile(out, elsewhere / "forge.db")
    home = open_home(elsewhere)
    try:
        in_backup = examples_in(home, dataset_id)
    finally:
        home.close()
    assert len(in_backup) == summary.examples
    assert set(in_backup.values()) == {(f"question {n}", f"answer {n}") for n in range(len(in_backup))}

    with open_backup(fast_home_dir, out) as found:
        found.unlock(None, PASSWORD)
        kept = restore(found).kept

    assert kept is not None
    home = open_home(fast_home_dir)
    try:
        assert examples_in(home, dataset_id) == in_backup
    finally:
        home.close()
    kept_home = prepare_home_dir(tmp_path / "kept")
    shutil.copyfile(kept, kept_home / "forge.db")
    home = open_home(kept_home)
    try:
        assert len(examples_in(home, dataset_id)) == INSERTS  # what the restore replaced, whole
    finally:
        home.close()


def test_restore_waits_for_another_writer_then_gives_up_changing_nothing(fast_home_dir: Path, tmp_path: Path) -> None:
    with (fast_home_dir / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[database]\nbusy_wait_seconds = 1\n")
    alice_dataset(fast_home_dir)
    out = tmp_path / "backup.db"
    home = open_home(fast_home_dir)
    try:
        backup(home, out)
        DatasetService(home, AccountService(home).get("alice")).create("after the backup")
    finally:
        home.close()
    names_before = sorted(p.name for p in fast_home_dir.iterdir())

    with write_lock_held(fast_home_dir / "forge.db"):
        refused = forge_tui(fast_home_dir, "restore", str(out), "--yes", "--password-stdin", stdin=PASSWORD + "\n")

    assert refused.returncode == 7, refused.stderr
    assert "busy" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in fast_home_dir.iterdir()) == names_before
    listed = forge_tui(fast_home_dir, "datasets", "list", "--json")
    assert [d["name"] for d in json.loads(listed.stdout)] == ["after the backup", "default"]


LATE_WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
connection.execute(
    "INSERT INTO dataset (owner_id, name, description, salt, key_check, archived, created_at) "
    "SELECT id, 'written during the restore', '', x'00', key_check, 0, '2026-12-05 10:00:00.000000' FROM user"
)
print("LOCKED", flush=True)
time.sleep(1.0)
connection.execute("COMMIT")
"""


def test_a_write_committed_while_restore_waits_is_kept_in_the_old_database(fast_home_dir: Path, tmp_path: Path) -> None:
    """The old database is copied aside only once the restore holds the write lock: a write that
    commits while the restore waits is in that copy, not lost between the two."""
    alice_dataset(fast_home_dir)
    out = tmp_path / "backup.db"
    home = open_home(fast_home_dir)
    try:
        backup(home, out)
    finally:
        home.close()
    with open_backup(fast_home_dir, out) as found:
        found.unlock(None, PASSWORD)
        writer = subprocess.Popen(
            [sys.executable, "-c", LATE_WRITER, str(fast_home_dir / "forge.db")], stdout=subprocess.PIPE, text=True
        )
        try:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "LOCKED"
            kept = restore(found).kept
        finally:
            writer.wait(timeout=TIMEOUT)
    assert writer.returncode == 0 and kept is not None
    with sqlite3.connect(kept) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM dataset")}
    connection.close()
    assert names == {"default", "written during the restore"}
