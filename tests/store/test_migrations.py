"""Alembic migrations: a database made by an older schema upgrades with its data intact."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import open_home
from forge_tui.store import tables  # noqa: F401  (fills SQLModel.metadata)
from forge_tui.store.db import current_revision, head_revision, make_engine, migrate
from forge_tui.store.vault import new_salt
from tests.legacy_accounts import CREATED, EXAMPLE_ID, legacy_account
from tests.passwords import PASSWORD


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(tmp_path / "forge.db")
    yield eng
    eng.dispose()


def schema(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").all()
    return [(str(t), str(n), str(s)) for t, n, s in rows]


def columns(engine: Engine, table: str) -> dict[str, tuple[str, int, str | None]]:
    """name -> (declared type, notnull, default) as SQLite reports them."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f'PRAGMA table_info("{table}")').all()
    return {r[1]: (r[2], r[3], r[4]) for r in rows}


def fill_revision_0001(engine: Engine) -> str:
    """A user, dataset and sealed example written with raw SQL in the 0001 layout, with real keys, so
    the upgraded database can be unlocked and read through the services. Returns the recovery key."""
    account = legacy_account("alice")
    ds_salt = new_salt()
    cipher = account.dataset_cipher(ds_salt)

    def seal(column: str, value: str) -> bytes:
        return cipher.seal(column, EXAMPLE_ID, value.encode())

    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO user (id, username, display_name, kdf_salt, kdf_params, wrapped_key, recovery_salt,"
            " wrapped_recovery_key, key_check, default_generation_model, default_paraphrase_model, created_at)"
            " VALUES (1, 'alice', 'Alice', ?, ?, ?, ?, ?, ?, 'gemma3:270m', NULL, ?)",
            (*account.user_columns, CREATED),
        )
        conn.exec_driver_sql(
            "INSERT INTO dataset (id, owner_id, name, description, salt, key_check, archived, created_at)"
            " VALUES (1, 1, 'legacy', 'made by 0001', ?, ?, 0, ?)",
            (ds_salt, account.key_check, CREATED),
        )
        conn.exec_driver_sql(
            "INSERT INTO example (id, dataset_id, template_id, system_prompt, user_prompt, slots, output,"
            " tool_calls, rejected, rejected_count, model, params, prompt_tokens, completion_tokens, created_at,"
            " updated_at) VALUES (?, 1, NULL, ?, ?, ?, ?, ?, ?, 1, 'gemma3:270m', ?, 11, 22, ?, ?)",
            (
                EXAMPLE_ID,
                seal("system_prompt", "be brief"),
                seal("user_prompt", "capital of France?"),
                seal("slots", '{"country": "France"}'),
                seal("output", "Paris."),
                seal("tool_calls", "[]"),
                seal("rejected", '["Lyon."]'),
                json.dumps({"temperature": 0.7}),
                CREATED,
                CREATED,
            ),
        )
    return account.recovery_key


def test_upgrade_from_0001_keeps_data(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "current_dataset_id" not in columns(engine, "user")
    recovery_key = fill_revision_0001(engine)
    engine.dispose()

    home = open_home(home_dir)  # the start-up path: migrates to head
    try:
        assert home.schema_revision() == head_revision()
        user_cols = columns(home.engine, "user")
        assert user_cols["current_dataset_id"][1] == 0  # nullable
        assert user_cols["settings"][1] == 1
        with home.engine.connect() as conn:
            ((current, settings),) = conn.exec_driver_sql("SELECT current_dataset_id, settings FROM user").all()
            assert current is None
            assert json.loads(settings) == {}
            counts = {
                t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar() for t in ("user", "dataset", "example")
            }
            fks = conn.exec_driver_sql('PRAGMA foreign_key_list("user")').all()
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        # The batch rebuild of `user` must not cascade into the rows that point at it.
        assert counts == {"user": 1, "dataset": 1, "example": 1}
        assert [(f[2], f[3], f[6]) for f in fks] == [("dataset", "current_dataset_id", "SET NULL")]

        accounts = AccountService(home)
        unlocked = accounts.unlock("alice", PASSWORD)
        assert unlocked.user.display_name == "Alice"
        assert accounts.check_recovery_key("alice", recovery_key)
        datasets = DatasetService(home, unlocked.user)
        current_ds = datasets.current()
        assert current_ds is not None
        assert (current_ds.name, current_ds.description, current_ds.example_count, current_ds.readable) == (
            "legacy",
            "made by 0001",
            1,
            True,
        )
        (item,) = ExampleService(home, unlocked).page(current_ds.id)
        assert isinstance(item, Example)
        assert item.id == EXAMPLE_ID
        assert item.content.output == "Paris."
        assert item.content.slots == {"country": "France"}
        assert item.content.rejected == ["Lyon."]
        assert item.meta.params == {"temperature": 0.7}
        assert (item.meta.prompt_tokens, item.meta.completion_tokens) == (11, 22)

        # The new column works: switching datasets is remembered.
        datasets.switch(datasets.create("second").id)
        current_after = datasets.current()
        assert current_after is not None
        assert current_after.name == "second"
    finally:
        home.close()


def test_head_schema_matches_the_models(engine: Engine) -> None:
    migrate(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_migrating_twice_is_a_no_op(engine: Engine) -> None:
    migrate(engine)
    before = schema(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO login_attempt (username, at, ok) VALUES ('x', 1.0, 0)")
    migrate(engine)
    migrate(engine, "head")
    migrate(engine, head_revision())  # skips the shortcut: Alembic itself finds nothing to do
    assert schema(engine) == before
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM login_attempt").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1


def test_foreign_keys_are_back_on_after_migrating(engine: Engine) -> None:
    migrate(engine, "0001")
    migrate(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


MIGRATE_CHILD = """
import sys
from forge_tui.services.home import open_home
print("READY", flush=True)
sys.stdin.readline()
home = open_home(sys.argv[1])
print(home.schema_revision(), flush=True)
home.close()
"""


@pytest.mark.slow
def test_two_processes_migrate_a_fresh_database_at_once(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(MIGRATE_CHILD), str(home_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "READY"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("GO\n")
            child.stdin.flush()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert "database is locked" not in err
        assert out.strip() == head_revision()
    with sqlite3.connect(home_dir / "forge.db") as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(head_revision(),)]
        tables_made = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert {"user", "dataset", "example", "login_attempt", "job", "job_item"} <= tables_made


def fill_revision_0005(engine: Engine) -> None:
    """An account and an example of two turns as revision 0005 stored them: every content field
    sealed, params too, and the output's seal binding the presence marker of the time ("turns")."""
    account = legacy_account("alice")
    ds_salt = new_salt()
    cipher = account.dataset_cipher(ds_salt)
    turns = json.dumps(
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "and?"},
        ]
    )
    sealed = {
        "system_prompt": cipher.seal("system_prompt", EXAMPLE_ID, b"be brief"),
        "user_prompt": cipher.seal("user_prompt", EXAMPLE_ID, b"and?"),
        "slots": cipher.seal("slots", EXAMPLE_ID, b"{}"),
        "output": cipher.seal("output", EXAMPLE_ID, b"Done.", b"turns"),
        "tool_calls": cipher.seal("tool_calls", EXAMPLE_ID, b"[]"),
        "rejected": cipher.seal("rejected", EXAMPLE_ID, b"[]"),
        "turns": cipher.seal("turns", EXAMPLE_ID, turns.encode()),
        "params": cipher.seal("params", EXAMPLE_ID, b'{"seed": 3}'),
    }
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO user (id, username, display_name, kdf_salt, kdf_params, wrapped_key, recovery_salt,"
            " wrapped_recovery_key, key_check, settings, seal_pending, created_at)"
            " VALUES (1, 'alice', 'Alice', ?, ?, ?, ?, ?, ?, '{}', 0, ?)",
            (*account.user_columns, CREATED),
        )
        conn.exec_driver_sql(
            "INSERT INTO dataset (id, owner_id, name, description, salt, key_check, archived, created_at)"
            " VALUES (1, 1, 'chats', '', ?, ?, 0, ?)",
            (ds_salt, account.key_check, CREATED),
        )
        conn.exec_driver_sql(
            f"INSERT INTO example (id, dataset_id, {', '.join(sealed)}, rejected_count, model, created_at, updated_at)"
            f" VALUES (?, 1, {', '.join('?' * len(sealed))}, 0, 'm', ?, ?)",
            (EXAMPLE_ID, *sealed.values(), CREATED, CREATED),
        )


def test_upgrade_from_0005_adds_reasoning_extra_and_desirability(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0005")
    fill_revision_0005(engine)
    engine.dispose()

    home = open_home(home_dir)
    try:
        assert home.schema_revision() == head_revision()
        example_cols = columns(home.engine, "example")
        assert {name: example_cols[name][:2] for name in ("reasoning", "extra", "desirability")} == {
            "reasoning": ("BLOB", 0),
            "extra": ("BLOB", 0),
            "desirability": ("BOOLEAN", 0),
        }
        with home.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM example WHERE dataset_id = 1 AND desirability = 0 ORDER BY id"
            ).all()
        assert "ix_example_dataset_id_desirability_id" in " ".join(str(row[-1]) for row in plan)

        unlocked = AccountService(home).unlock("alice", PASSWORD)
        examples = ExampleService(home, unlocked)
        (item,) = examples.page(1)
        assert isinstance(item, Example)  # the old marker ("turns") still opens the output
        assert (item.content.output, len(item.content.turns), item.meta.params) == ("Done.", 3, {"seed": 3})
        assert (item.content.reasoning, item.content.extra, item.meta.desirability) == ("", {}, None)

        thought = item.content.model_copy(update={"reasoning": "They asked twice.", "extra": {"lang": "en"}})
        saved = examples.update(item, thought, desirability=False)
        assert saved.content == thought and saved.meta.desirability is False
        assert [e.id for e in examples.window(1, 0, 10, wanted=DesirabilityFilter.UNDESIRABLE)] == [EXAMPLE_ID]
        assert examples.count(1, DesirabilityFilter.UNLABELLED) == 0
    finally:
        home.close()


def test_upgrade_from_0007_adds_source_review_and_language_flag(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0005")
    fill_revision_0005(engine)  # one example made by model 'm' (Audition)
    migrate(engine, "0007")
    with engine.begin() as conn:  # a copy of it without a model, as imports stored them
        names = [c for c in columns(engine, "example") if c not in ("id", "model")]
        conn.exec_driver_sql(
            f"INSERT INTO example (id, model, {', '.join(names)}) SELECT 'imported-one', '', {', '.join(names)} "
            "FROM example"
        )
    engine.dispose()

    home = open_home(home_dir)
    try:
        with home.engine.connect() as conn:
            stored = conn.exec_driver_sql("SELECT id, source, job_id, review, language_flag FROM example").all()
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM example WHERE dataset_id = 1 AND review = 'unreviewed' ORDER BY id"
            ).all()
        assert sorted(stored) == sorted(
            [(EXAMPLE_ID, "audition", None, "accepted", None), ("imported-one", "import", None, "accepted", None)]
        )
        assert "ix_example_dataset_id_review_id" in " ".join(str(row[-1]) for row in plan)
    finally:
        home.close()


def test_upgrade_from_0008_reshapes_the_job_tables(tmp_path: Path) -> None:
    from forge_tui.services.jobs import ItemInputs, JobPlan, JobService

    home_dir = tmp_path / "home"
    home_dir.mkdir()
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0005")
    fill_revision_0005(engine)
    migrate(engine, "0008")
    with engine.begin() as conn:  # the unused 0001 layout: no owner, nothing sealed
        assert "owner_id" not in columns(engine, "job")
        conn.exec_driver_sql(
            "INSERT INTO job (kind, dataset_id, params, status, total, done, failed) "
            "VALUES ('x', 1, '{}', 'pending', 0, 0, 0)"
        )
    engine.dispose()

    home = open_home(home_dir)
    try:
        assert {"owner_id", "spec", "key_check", "pause_reason", "heartbeat_at"} <= set(columns(home.engine, "job"))
        assert {"inputs", "seed", "error_kind", "finished_at"} <= set(columns(home.engine, "job_item"))
        unlocked = AccountService(home).unlock("alice", PASSWORD)
        jobs = JobService(home, unlocked)
        assert jobs.list() == []
        items = [ItemInputs(0, {"topic": "tides"}, 7)]
        created = jobs.create(JobPlan("generate", "one", 1, None, {"model": "m"}, {"model": "m"}, items))
        assert jobs.items(created.id) == items
        assert len(ExampleService(home, unlocked).page(1)) == 1  # the example of 0005 is still there
    finally:
        home.close()


def test_upgrade_from_0009_indexes_the_source_for_the_examples_filter(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0005")
    fill_revision_0005(engine)
    migrate(engine, "0009")
    engine.dispose()

    home = open_home(home_dir)
    try:
        with home.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT id FROM example WHERE dataset_id = 1 AND source = 'job' ORDER BY id"
            ).all()
            kept = conn.exec_driver_sql("SELECT id, source FROM example").all()
        assert "ix_example_dataset_id_source_id" in " ".join(str(row[-1]) for row in plan)
        assert kept == [(EXAMPLE_ID, "audition")]
    finally:
        home.close()


def test_upgrade_from_0015_adds_the_saved_config_table(engine: Engine) -> None:
    migrate(engine, "0015")
    assert "saved_config" not in [name for _, name, _ in schema(engine)]
    migrate(engine)
    assert set(columns(engine, "saved_config")) == {"id", "owner_id", "name_tag", "content", "key_check", "created_at"}


def test_upgrade_from_0016_adds_the_document_and_chunk_tables(engine: Engine) -> None:
    migrate(engine, "0016")
    assert not {"document", "chunk"} & {name for _, name, _ in schema(engine)}
    migrate(engine)
    assert set(columns(engine, "document")) == {
        "id", "owner_id", "set_tag", "name_tag", "meta", "text", "key_check", "chars", "chunk_tokens",
        "chunk_overlap", "created_at",
    }  # fmt: skip
    assert set(columns(engine, "chunk")) == {"id", "document_id", "position", "body"}
