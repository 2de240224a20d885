"""A writer meets another process's write lock (a real process holds it): it waits, says so after a
second, and gives up with DatabaseBusy (a sentence) instead of "database is locked"."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text

from forge_tui.core.errors import DatabaseBusy
from forge_tui.store.db import WriteWait, make_engine, migrate, write_session
from tests.lock_holder import write_lock_held

pytestmark = pytest.mark.slow  # starts a process that holds the lock

ATTEMPT = text("INSERT INTO login_attempt (username, at, ok) VALUES ('alice', 1.0, 0)")


def test_a_writer_waits_says_so_and_gives_up_with_a_sentence(tmp_path: Path) -> None:
    notices: list[float] = []
    engine = make_engine(tmp_path / "forge.db", WriteWait(seconds=2.5, notice=lambda: notices.append(time.monotonic())))
    migrate(engine)
    try:
        with write_lock_held(tmp_path / "forge.db"):
            started = time.monotonic()
            with pytest.raises(DatabaseBusy, match=r"busy for over 2\.5 s, so this change was not saved"):
                with write_session(engine) as s:
                    s.execute(ATTEMPT)
            gave_up = time.monotonic() - started
        assert 2.4 < gave_up < 5
        assert len(notices) == 1 and 0.9 < notices[0] - started < 2.4
        with write_session(engine) as s:  # the lock is free again
            s.execute(ATTEMPT)
    finally:
        engine.dispose()


def test_a_writer_behind_a_short_write_goes_through_without_a_notice(tmp_path: Path) -> None:
    notices: list[int] = []
    engine = make_engine(tmp_path / "forge.db", WriteWait(seconds=5, notice=lambda: notices.append(1)))
    migrate(engine)
    try:
        with write_lock_held(tmp_path / "forge.db", seconds=0.3):
            with write_session(engine) as s:
                s.execute(ATTEMPT)
        assert notices == []
    finally:
        engine.dispose()


def test_a_statement_that_meets_the_lock_midway_is_a_sentence_too(tmp_path: Path) -> None:
    # A transaction begun deferred (not how this app writes) that then writes meets the lock at that
    # statement, not at BEGIN.
    engine = make_engine(tmp_path / "forge.db")
    migrate(engine)
    try:
        with write_lock_held(tmp_path / "forge.db"), pytest.raises(DatabaseBusy, match="busy for over 1 s"):
            with engine.begin() as connection:
                connection.execute(ATTEMPT)
    finally:
        engine.dispose()
