"""The data directory and the database are readable by their owner only (another local user could
copy the wrapped data key and guess the password offline)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from forge_tui.services.home import open_home
from forge_tui.store.private_files import exposed, make_private_database
from tests.conftest import prepare_home_dir

pytestmark = pytest.mark.skipif(os.name != "posix", reason="owner-only modes are POSIX modes")

FAMILY = ("forge.db", "forge.db-wal", "forge.db-shm")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_directory_and_its_database_files_are_owner_only(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)  # the usual default: new files 0644, directories 0755
    try:
        home = open_home(tmp_path / "new" / "home")
    finally:
        os.umask(old_umask)
    try:
        assert mode(home.path) == 0o700
        with home.engine.connect() as conn:  # an open connection keeps the -wal and -shm files
            conn.exec_driver_sql("SELECT count(*) FROM user").all()
            for name in FAMILY:
                assert mode(home.path / name) == 0o600, name
        assert home.exposed_files() == []
    finally:
        home.close()


def test_existing_database_files_open_to_others_are_made_owner_only(fast_home_dir: Path) -> None:
    open_home(fast_home_dir).close()
    keeper = sqlite3.connect(fast_home_dir / "forge.db")  # keeps the -wal and -shm files while we look
    try:
        keeper.execute("SELECT count(*) FROM user").fetchall()
        for name in FAMILY:
            os.chmod(fast_home_dir / name, 0o644)
        home = open_home(fast_home_dir)
        try:
            assert {name: mode(fast_home_dir / name) for name in FAMILY} == dict.fromkeys(FAMILY, 0o600)
        finally:
            home.close()
    finally:
        keeper.close()


def test_exposed_files_are_reported_with_the_command_that_fixes_them(tmp_path: Path) -> None:
    path = prepare_home_dir(tmp_path / "home")
    os.chmod(path, 0o755)  # a directory made by an older version, or by hand
    home = open_home(path)
    try:
        os.chmod(home.db_path, 0o644)
        assert home.exposed_files() == [
            f"Other users have access to the data directory {path} (mode 755); `chmod 700 {path}` fixes it.",
            f"Other users can read {home.db_path} (mode 644); `chmod 600 {home.db_path}` fixes it.",
        ]
    finally:
        home.close()


CHURN = """
import os, sys, time
side = sys.argv[1]
print("CHURNING", flush=True)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end:  # as SQLite does when a process's last connection closes
    os.close(os.open(side, os.O_CREAT | os.O_WRONLY, 0o600))
    os.unlink(side)
"""


@pytest.mark.slow
def test_side_files_that_vanish_meanwhile_do_not_stop_the_start(tmp_path: Path) -> None:
    """Another process's last connection removes the -wal and -shm files as it closes: a start that
    checks their modes at that moment goes on."""
    db = tmp_path / "forge.db"
    db.touch(mode=0o600)
    child = subprocess.Popen(
        [sys.executable, "-c", CHURN, str(tmp_path / "forge.db-wal"), "5"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "CHURNING"
        for _ in range(5_000):
            make_private_database(db)
            exposed(tmp_path / "forge.db-wal")
    finally:
        child.kill()
        child.wait()
