"""Deleting many examples: short transactions, so other processes write in between; a delete that
fails midway puts back what it had deleted; undo shows every example again at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from forge_tui.core.errors import DatabaseBusy
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services import examples as example_service
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.workspace import Workspace
from tests.conftest import prepare_home_dir
from tests.lock_holder import write_lock_held
from tests.passwords import PASSWORD

CHUNK = example_service.DELETE_CHUNK


def fill(workspace: Workspace, n: int) -> int:
    dataset = workspace.datasets.create("many").id
    items = [(ExampleContent(user_prompt=f"q {i}", output=f"a {i}"), ExampleMeta()) for i in range(n)]
    workspace.examples.add_many(dataset, items)
    return dataset


def outputs(workspace: Workspace, dataset: int) -> list[str]:
    return [e.content.output for e in workspace.examples.scan(dataset) if isinstance(e, Example)]


def test_a_big_delete_and_its_undo_are_short_transactions(workspace: Workspace) -> None:
    n = 2 * CHUNK + 500
    dataset = fill(workspace, n)
    ids = workspace.examples.ids(dataset)
    commits: list[int] = []
    event.listen(workspace.home.engine, "commit", lambda _conn: commits.append(1))

    removed = workspace.examples.delete(dataset, ids)
    assert len(commits) == 3  # one per chunk
    assert len(removed) == n and workspace.examples.count(dataset) == 0

    commits.clear()
    workspace.examples.undo_delete(removed)
    assert len(commits) == 1 + 3  # the staged insert's start, then one per chunk (the last shows them)
    assert outputs(workspace, dataset) == [f"a {i}" for i in range(n)]


@pytest.mark.slow
def test_a_delete_that_finds_the_database_busy_midway_puts_back_what_it_deleted(tmp_path: Path) -> None:
    path = prepare_home_dir(tmp_path / "home")
    with (path / "config.toml").open("a", encoding="utf-8") as config:
        config.write("\n[database]\nbusy_wait_seconds = 1\n")
    home = open_home(path)
    try:
        accounts = AccountService(home)
        accounts.create_user("alice", "Alice", PASSWORD)
        workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
        dataset = fill(workspace, CHUNK + 100)
        ids = workspace.examples.ids(dataset)
        holders: list[Any] = []

        def another_writer_comes(_session: Any) -> None:
            if not holders:  # after the first chunk: another process takes the lock for 1.5 s
                holders.append(write_lock_held(home.db_path, seconds=1.5))
                holders[0].__enter__()

        event.listen(Session, "after_commit", another_writer_comes)
        try:
            with pytest.raises(DatabaseBusy):
                workspace.examples.delete(dataset, ids)
        finally:
            event.remove(Session, "after_commit", another_writer_comes)
            for held in holders:
                held.__exit__(None, None, None)
        assert holders
        assert outputs(workspace, dataset) == [f"a {i}" for i in range(CHUNK + 100)]
    finally:
        home.close()
