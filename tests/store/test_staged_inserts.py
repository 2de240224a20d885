"""Staged inserts: rows written in several transactions stay hidden from every read until one last
step shows them; a discard, or the next start after a process died midway, deletes them."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from typing import Any

import pytest

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from forge_tui.store import example_reader
from forge_tui.store import examples as rows
from forge_tui.store.staged_inserts import InsertLost, StagedInsert, discard_abandoned
from tests.processes import dead_pid


def sealed(workspace: Workspace, dataset_id: int, n: int, tag: str = "staged") -> list[dict[str, Any]]:
    cipher = workspace.examples.cipher(dataset_id)
    return [
        rows.sealed_values(cipher, dataset_id, ExampleContent(user_prompt=f"{tag} {i}", output=f"a {i}"), ExampleMeta())
        for i in range(n)
    ]


def stored_rows(home: Home) -> int:
    """Every row in the table, shown or not."""
    with sqlite3.connect(home.db_path) as db:
        (count,) = db.execute("SELECT count(*) FROM example").fetchone()
        return int(count)


def pending(home: Home) -> int:
    with sqlite3.connect(home.db_path) as db:
        (count,) = db.execute("SELECT count(*) FROM pending_insert").fetchone()
        return int(count)


def shown(workspace: Workspace, dataset_id: int) -> dict[str, Any]:
    """What each way of reading a dataset sees."""
    ids = workspace.examples.ids(dataset_id)
    connection = example_reader.connect(workspace.home.db_path)
    try:
        # A range scan from the first id to the last: staged rows in between must not come along.
        read = example_reader.read(connection, dataset_id, ids) if ids else []
    finally:
        connection.close()
    return {
        "count": workspace.examples.count(dataset_id),
        "listed": {d.name: d.example_count for d in workspace.datasets.list()}[workspace.datasets.get(dataset_id).name],
        "ids": len(ids),
        "window": len(workspace.examples.window(dataset_id, 0, 1000)),
        "scan": sum(1 for _ in workspace.examples.scan(dataset_id)),
        "reader": len(read),
    }


def every(n: int) -> dict[str, int]:
    return dict.fromkeys(("count", "listed", "ids", "window", "scan", "reader"), n)


def test_staged_rows_are_hidden_from_every_read_until_published(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("target").id
    workspace.examples.add(dataset, ExampleContent(user_prompt="before", output="kept"))
    staged = StagedInsert(workspace.home.engine, dataset)
    staged.add(sealed(workspace, dataset, 300))
    workspace.examples.add(dataset, ExampleContent(user_prompt="meanwhile", output="kept too"))
    staged.add(sealed(workspace, dataset, 300))
    assert stored_rows(workspace.home) == 602
    assert shown(workspace, dataset) == every(2)

    staged.publish(sealed(workspace, dataset, 10))
    assert shown(workspace, dataset) == every(612)
    assert pending(workspace.home) == 0


def test_discard_deletes_the_rows_in_chunks_and_shows_none(workspace: Workspace, monkeypatch: Any) -> None:
    from forge_tui.store import staged_inserts

    monkeypatch.setattr(staged_inserts, "DISCARD_CHUNK", 100)
    dataset = workspace.datasets.create("target").id
    workspace.examples.add(dataset, ExampleContent(user_prompt="before", output="kept"))
    with pytest.raises(RuntimeError), StagedInsert(workspace.home.engine, dataset) as staged:
        staged.add(sealed(workspace, dataset, 450))
        raise RuntimeError("the import failed")
    assert stored_rows(workspace.home) == 1
    assert pending(workspace.home) == 0
    assert shown(workspace, dataset) == every(1)


def test_the_next_start_discards_rows_whose_process_is_gone(workspace: Workspace) -> None:
    home = workspace.home
    dataset = workspace.datasets.create("target").id
    gone = StagedInsert(home.engine, dataset)
    gone.add(sealed(workspace, dataset, 50, "gone"))
    alive = StagedInsert(home.engine, dataset)
    alive.add(sealed(workspace, dataset, 20, "alive"))
    with sqlite3.connect(home.db_path) as db:  # as if another process, now dead, had written `gone`
        db.execute("UPDATE pending_insert SET pid = ? WHERE id = ?", (dead_pid(), gone.id))
    db.close()
    assert stored_rows(home) == 70

    again = open_home(home.path)  # the next start
    again.close()
    assert stored_rows(home) == 20  # the live insert (this process's) is left alone
    assert pending(home) == 1
    alive.publish()
    assert [e.content.user_prompt for e in workspace.examples.scan(dataset) if isinstance(e, Example)] == [
        f"alive {i}" for i in range(20)
    ]


def test_a_process_that_lost_its_insert_cannot_add_to_it(workspace: Workspace) -> None:
    home = workspace.home
    dataset = workspace.datasets.create("target").id
    staged = StagedInsert(home.engine, dataset)
    staged.add(sealed(workspace, dataset, 30))
    with sqlite3.connect(home.db_path) as db:  # its pid looks dead to the next start
        db.execute("UPDATE pending_insert SET pid = ? WHERE id = ?", (dead_pid(), staged.id))
    db.close()
    assert discard_abandoned(home.engine) == 1
    with pytest.raises(InsertLost, match="nothing was added"):
        staged.add(sealed(workspace, dataset, 30))
    with pytest.raises(InsertLost):
        staged.publish(sealed(workspace, dataset, 30))
    assert stored_rows(home) == 0
    assert shown(workspace, dataset) == every(0)


def test_an_insert_of_this_process_id_that_no_one_here_writes_is_abandoned(workspace: Workspace) -> None:
    # A process that died with the same pid as this one (pids are reused): nothing here writes it.
    home = workspace.home
    dataset = workspace.datasets.create("target").id
    with sqlite3.connect(home.db_path) as db:
        db.execute(
            "INSERT INTO pending_insert (dataset_id, host, pid, started_at) VALUES (?, ?, ?, ?)",
            (dataset, socket.gethostname(), os.getpid(), time.time()),
        )
    db.close()
    assert discard_abandoned(home.engine) == 1
    assert pending(home) == 0
