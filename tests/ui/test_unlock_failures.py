"""Unlock failures are a sentence on the unlock screen, and a crash report never shows the password."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from forge_tui.services.home import Home, open_home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.first_run import FirstRunScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.passwords import PASSWORD
from tests.ui.helpers import error_text, make_user, type_text, unlock, wait_for_screen, wait_until


def answered(app: ForgeApp) -> bool:
    shown = error_text(app, "#unlock-error")
    return bool(shown) and "…" not in shown


async def assert_refused_with(app: ForgeApp, sentence: str) -> None:
    async with app.run_test(size=(100, 24)) as pilot:
        await unlock(pilot)
        await wait_until(pilot, lambda: answered(app))
        assert sentence in error_text(app, "#unlock-error")
        assert isinstance(app.screen, UnlockScreen) and app.workspace is None
        assert PASSWORD not in app.export_screenshot()
        # The screen still answers: the next attempt is handled the same way.
        await unlock(pilot)
        await wait_until(pilot, lambda: answered(app))
        assert sentence in error_text(app, "#unlock-error")


@pytest.mark.parametrize(
    ("damage", "sentence"),
    [
        ("""UPDATE user SET kdf_params = '{"memory": 1}'""", "The stored key settings of account 'alice' are damaged"),
        ("""UPDATE user SET kdf_params = '{"memory_kib": 1, "iterations": 1, "lanes": 1}'""", "are damaged"),
        ("UPDATE user SET kdf_params = 'not json'", "Unlocking failed unexpectedly (JSONDecodeError); try again."),
    ],
)
async def test_a_damaged_account_is_a_sentence_and_the_app_keeps_running(
    home: Home, damage: str, sentence: str
) -> None:
    make_user(home)
    with sqlite3.connect(home.db_path) as raw:
        raw.execute(damage)
    await assert_refused_with(ForgeApp(home), sentence)


def short_busy_wait(home_dir: Path) -> None:
    """Wait 0.5 s for another process's write lock instead of the default 10 s."""
    home_dir.mkdir(parents=True, exist_ok=True)
    (home_dir / "config.toml").write_text("[database]\nbusy_wait_seconds = 0.5\n", encoding="utf-8")


async def test_a_database_locked_by_another_process_is_a_sentence(
    fast_home_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short_busy_wait(fast_home_dir)
    home = open_home(fast_home_dir)
    make_user(home)
    holder = sqlite3.connect(home.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # holds the write lock, as a busy writer in another process does
    try:
        await assert_refused_with(ForgeApp(home), "kept the database busy for over 0.5 s")
    finally:
        holder.close()
        home.close()


async def test_first_run_with_the_database_locked_is_a_sentence(
    fast_home_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    short_busy_wait(fast_home_dir)
    home = open_home(fast_home_dir)
    holder = sqlite3.connect(home.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        app = ForgeApp(home)
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for_screen(pilot, FirstRunScreen)
            await type_text(pilot, "alice")
            await pilot.press("tab", "tab")
            await type_text(pilot, PASSWORD)
            await pilot.press("tab")
            await type_text(pilot, PASSWORD)
            await pilot.press("enter")
            await wait_until(pilot, lambda: "…" not in error_text(app, "#first-run-error"))
            shown = error_text(app, "#first-run-error")
            assert "kept the database busy for over 0.5 s, so this change was not saved" in shown
            assert isinstance(app.screen, FirstRunScreen)
    finally:
        holder.close()
        home.close()


CRASH_CHILD = """
import sys
from forge_tui.services.home import open_home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.unlock import UnlockScreen

password = sys.stdin.readline().rstrip("\\n")
app = ForgeApp(open_home(sys.argv[1]))

async def drive(pilot):
    while not isinstance(app.screen, UnlockScreen):
        await pilot.pause(0.05)
    await pilot.press(*["space" if ch == " " else ch for ch in password])
    await pilot.press("enter")
    error = app.screen.query_one("#unlock-error")
    while not str(error.render()) or "…" in str(error.render()):
        await pilot.pause(0.05)
    print("SHOWN", error.render(), flush=True)

    def crash(typed=password):
        raise RuntimeError("forced crash")

    app.call_later(crash)

app.run(headless=True, size=(100, 24), auto_pilot=drive)
"""


@pytest.mark.slow
def test_a_crash_at_unlock_prints_no_password_and_writes_none(fast_home_dir: Path) -> None:
    """The real app in its own process, asked to write Textual's log into the data directory: an
    unlock that fails, then a crash while the password is a local variable."""
    home = open_home(fast_home_dir)
    make_user(home)
    with sqlite3.connect(home.db_path) as raw:
        raw.execute("""UPDATE user SET kdf_params = '{"memory": 1}'""")
    home.close()
    env = os.environ | {"TEXTUAL_LOG": str(fast_home_dir / "textual.log")}
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CRASH_CHILD), str(fast_home_dir)],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "SHOWN The stored key settings of account 'alice' are damaged" in child.stdout, child.stderr[-3000:]
    assert "forced crash" in child.stderr  # Textual printed its crash report
    assert not (fast_home_dir / "textual.log").exists()  # it would hold every key typed
    printed = PASSWORD in child.stdout + child.stderr
    assert not printed, "the password is in the crash output"
    for path in fast_home_dir.rglob("*"):
        written = path.is_file() and PASSWORD.encode() in path.read_bytes()
        assert not written, f"the password is in {path.name}"
