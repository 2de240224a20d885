"""Connection settings under contention from several OS processes."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import sys
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from forge_tui.store.db import make_engine

ROUNDS = 150
PROCESSES = 3


def _open_fresh_files(base: str, barrier: Barrier, results: Any) -> None:
    """Each round, every process opens the same brand-new file at the same moment."""
    failures: list[str] = []
    for i in range(ROUNDS):
        barrier.wait(timeout=60)
        engine = make_engine(Path(base) / f"{i}.db")
        try:
            with engine.connect() as conn:
                mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                if mode != "wal":
                    failures.append(f"round {i}: journal_mode {mode}")
        except Exception as exc:
            failures.append(f"round {i}: {exc}")
        finally:
            engine.dispose()
    results.put(failures)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="uses fork")
def test_processes_opening_a_fresh_file_at_once_never_see_locked(tmp_path: Path) -> None:
    # Switching a new file to WAL needs an exclusive lock, and SQLite answers "database is locked"
    # at once (no busy handler) to one of two connections that try together: make_engine retries.
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_open_fresh_files, args=(str(tmp_path), barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    failures = [f for _ in procs for f in results.get(timeout=120)]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert failures == []
    for i in range(ROUNDS):
        with sqlite3.connect(tmp_path / f"{i}.db") as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        conn.close()
