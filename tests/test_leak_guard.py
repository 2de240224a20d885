"""The leak guard (tests/leak_guard.py) fails a test that prints a password or leaves a recovery key
in a data directory: a pytest run of its own, in a child process, on tests that leak on purpose."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LEAKY_TESTS = """
import logging

SECRET_PASSWORD = "a password to leak"


def test_prints_the_password():
    print("typed:", SECRET_PASSWORD)


def test_logs_the_password():
    logging.getLogger("leaky").warning("unlocking with %s", SECRET_PASSWORD)


def test_leaves_a_recovery_key_in_a_data_directory(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text("")
    (home / "forge.db-wal").write_bytes(b"\\x00" + "ABCD-EFGH-IJKL-MNOP-QRST-UVWX-YZ23-4567".encode() + b"\\x00")


def test_keeps_its_secrets(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "forge.db").write_bytes(b"sealed")
    print("unlocked")
"""


@pytest.mark.slow
def test_the_guard_fails_tests_that_leak_and_names_no_secret(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS, encoding="utf-8")
    inner_tmp = tmp_path / "inner-tmp"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    args = ["-p", "tests.leak_guard", "-p", "no:cacheprovider", f"--basetemp={inner_tmp}", "-q", "-rE"]
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", *args, "test_leaky.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        shutil.rmtree(inner_tmp, ignore_errors=True)  # it holds the recovery key left on purpose
    summary = run.stdout.strip().splitlines()[-1]
    assert "4 passed, 3 errors" in summary, run.stdout[-3000:]
    errors = [line for line in run.stdout.splitlines() if line.startswith("ERROR ")]
    assert len(errors) == 3 and not any("test_keeps_its_secrets" in line for line in errors)
    assert "Captured stdout call holds SECRET_PASSWORD of test_leaky" in run.stdout
    assert "Captured log call holds SECRET_PASSWORD of test_leaky" in run.stdout
    assert "home/forge.db-wal holds a recovery key" in run.stdout
    reported = [line for line in run.stdout.splitlines() if " holds " in line]
    assert len(reported) == 3 and not any("a password to leak" in line for line in reported)
