"""A database kept busy by another process: the command says so in a sentence and exits 7, never with
a traceback (the real `forge-tui` in a child process; another child holds the write lock)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from tests.lock_holder import write_lock_held
from tests.passwords import PASSWORD

pytestmark = pytest.mark.slow

EXIT_BUSY = 7


def forge_tui(home_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_tui", "--home", str(home_dir), *args],
        input=stdin, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def alice_home(home_dir: Path, busy_wait_seconds: float) -> Path:
    """alice's data directory, where a change waits at most `busy_wait_seconds` for another writer."""
    with (home_dir / "config.toml").open("a", encoding="utf-8") as config:
        config.write(f"\n[database]\nbusy_wait_seconds = {busy_wait_seconds}\n")
    home = open_home(home_dir)
    try:
        AccountService(home).create_user("alice", "Alice", PASSWORD)
    finally:
        home.close()
    return home_dir


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("datasets", "create", "new one"), ""),
        # Unlocking writes a login attempt, so even a command that only reads needs the lock.
        (("datasets", "verify", "default", "--password-stdin"), PASSWORD + "\n"),
    ],
)
def test_a_busy_database_is_a_sentence_and_exit_code_7(fast_home_dir: Path, args: tuple[str, ...], stdin: str) -> None:
    busy_home = alice_home(fast_home_dir, busy_wait_seconds=2)
    with write_lock_held(busy_home / "forge.db"):
        result = forge_tui(busy_home, *args, stdin=stdin)
    assert "Traceback" not in result.stderr
    assert "database is locked" not in result.stderr
    assert result.returncode == EXIT_BUSY, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "forge-tui: Another forge-tui is writing to the database; retrying…",
        "forge-tui: Another forge-tui (or another program) kept the database busy for over 2 s, so this change "
        "was not saved; try again in a moment.",
    ]


def test_a_writer_that_lets_go_in_time_is_waited_for(fast_home_dir: Path) -> None:
    busy_home = alice_home(fast_home_dir, busy_wait_seconds=30)
    with write_lock_held(busy_home / "forge.db"):
        command = subprocess.Popen(
            [sys.executable, "-m", "forge_tui", "--home", str(busy_home), "datasets", "create", "new one"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert command.stderr is not None
            notice = command.stderr.readline()  # it waits, says so, and waits on
        except BaseException:
            command.kill()
            raise
    out, err = command.communicate(timeout=60)  # the lock was let go
    assert notice == "forge-tui: Another forge-tui is writing to the database; retrying…\n"
    assert (command.returncode, out, err) == (0, "Created dataset 'new one'.\n", "")
