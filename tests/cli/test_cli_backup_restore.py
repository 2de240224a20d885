"""`forge-tui backup`, `forge-tui restore` and `forge-tui user rotate-key` on a real data directory.

A restore that is refused (not SQLite, damaged, a schema from a newer version, a wrong password)
changes nothing: the database's bytes and the directory's files stay as they were."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import stat
from pathlib import Path

import pytest

from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from tests.cli.conftest import Cli
from tests.cli.helpers import stocked
from tests.damage import zero_page
from tests.passwords import PASSWORD


def state_of(home_dir: Path) -> dict[str, str]:
    """Every file of the data directory (the database checkpointed first) and a hash of its bytes."""
    with sqlite3.connect(home_dir / "forge.db") as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in home_dir.iterdir() if p.is_file()}


def backed_up(alice: Cli, out: Path) -> dict[str, object]:
    result = alice("backup", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_backup_writes_an_owner_only_copy_that_restore_puts_back(
    alice: Cli, fast_home_dir: Path, tmp_path: Path
) -> None:
    stocked(alice, tmp_path, count=50)
    out = tmp_path / "backups" / "forge-backup.db"
    out.parent.mkdir()

    summary = backed_up(alice, out)

    assert summary["examples"] == 50 and summary["accounts"] == ["alice"] and summary["path"] == str(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["forge-backup.db"]  # no temporary file left
    with sqlite3.connect(out) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()
    assert b"question 7 " not in out.read_bytes()  # still sealed

    assert alice("datasets", "create", "made after the backup").exit_code == 0
    restored = alice("restore", str(out), "--yes", "--password-stdin", "--json", input=PASSWORD + "\n")

    assert restored.exit_code == 0, restored.output
    report = json.loads(restored.stdout)
    kept = Path(report["kept"])
    assert report["examples"] == 50 and kept.parent == fast_home_dir
    assert kept.name.startswith("forge.db.before-restore-") and stat.S_IMODE(kept.stat().st_mode) == 0o600
    listed = alice("datasets", "list", "--json")
    assert [d["name"] for d in json.loads(listed.stdout)] == ["default"]
    verified = alice("datasets", "verify", "default", "--password-stdin", input=PASSWORD + "\n")
    assert verified.exit_code == 0, verified.output
    with sqlite3.connect(kept) as connection:  # the replaced database, whole, with what came after the backup
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT count(*) FROM dataset").fetchone() == (2,)
    connection.close()
    assert not list(fast_home_dir.glob(".restore-*"))


def test_backup_refuses_to_write_over_the_database(alice: Cli, fast_home_dir: Path) -> None:
    result = alice("backup", "--out", str(fast_home_dir / "forge.db"))
    assert result.exit_code == 2 and "is the database itself" in result.stderr


def damaged_copy(alice: Cli, tmp_path: Path) -> Path:
    stocked(alice, tmp_path, count=200)
    copy = tmp_path / "damaged.db"
    backed_up(alice, copy)
    zero_page(copy, "example")
    return copy


def truncated_copy(alice: Cli, tmp_path: Path) -> Path:
    copy = tmp_path / "truncated.db"
    backed_up(alice, copy)
    whole = copy.read_bytes()
    copy.write_bytes(whole[: len(whole) // 2 + 100])
    return copy


def not_sqlite(_alice: Cli, tmp_path: Path) -> Path:
    text = tmp_path / "notes.txt"
    text.write_text("just some notes, no database here\n" * 20, encoding="utf-8")
    return text


def newer_schema(alice: Cli, tmp_path: Path) -> Path:
    copy = tmp_path / "newer.db"
    backed_up(alice, copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0999'")
    connection.close()
    return copy


@pytest.mark.parametrize(
    ("make", "exit_code", "said"),
    [
        (not_sqlite, 2, "is not a SQLite database, so it is no forge-tui backup; nothing was changed."),
        (truncated_copy, 2, "is truncated"),
        (damaged_copy, 2, "is damaged (SQLite: "),
        (newer_schema, 2, "was written by a newer forge-tui (schema 0999"),
    ],
    ids=["not-sqlite", "truncated", "damaged", "newer-schema"],
)
def test_restore_refuses_a_bad_file_and_changes_nothing(
    alice: Cli, fast_home_dir: Path, tmp_path: Path, make: object, exit_code: int, said: str
) -> None:
    assert callable(make)
    bad = make(alice, tmp_path)
    before = state_of(fast_home_dir)

    result = alice("restore", str(bad), "--yes", "--password-stdin", input=PASSWORD + "\n")

    assert result.exit_code == exit_code, result.output
    message = result.stderr.strip()
    assert said in message and "Traceback" not in result.output and "\n" not in message and len(message) < 400
    assert state_of(fast_home_dir) == before


def test_restore_refuses_a_wrong_password_and_changes_nothing(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "good.db"
    backed_up(alice, copy)
    before = state_of(fast_home_dir)

    result = alice("restore", str(copy), "--yes", "--password-stdin", input="not the password\n")

    assert result.exit_code == 3, result.output
    assert result.stderr.strip() == "forge-tui: Wrong password for 'alice' in the backup; nothing was changed."
    assert state_of(fast_home_dir) == before


def test_restore_asks_unless_told_yes(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "good.db"
    backed_up(alice, copy)
    before = state_of(fast_home_dir)
    result = alice("restore", str(copy), "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 2 and "without --yes" in result.stderr
    assert state_of(fast_home_dir) == before


def test_restore_upgrades_a_backup_of_an_older_schema(alice: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    backed_up(alice, copy)
    # As revision 0006 left it: 0013-0017's tables, score and index, 0012's table, 0010's index,
    # 0009-0011's jobs, 0008's columns, then 0007's tables dropped.
    with sqlite3.connect(copy) as connection:
        connection.executescript(
            "DROP TABLE chunk; DROP TABLE document; DROP TABLE saved_config; DROP TABLE dedup_cluster;"
            " DROP TABLE rubric; DROP TABLE example_judgement;"
            "DROP INDEX ix_example_dataset_id_score_id; ALTER TABLE example DROP COLUMN score;"
            "DROP TABLE job_batch_answer; DROP TABLE job_item; DROP TABLE job;"
            "CREATE TABLE job (id INTEGER PRIMARY KEY, kind VARCHAR NOT NULL, dataset_id INTEGER, template_id INTEGER,"
            " params JSON NOT NULL, status VARCHAR NOT NULL, total INTEGER NOT NULL, done INTEGER NOT NULL,"
            " failed INTEGER NOT NULL, started_at DATETIME, finished_at DATETIME, error VARCHAR);"
            "CREATE TABLE job_item (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, idx INTEGER NOT NULL,"
            " status VARCHAR NOT NULL, attempt INTEGER NOT NULL, error VARCHAR, example_id VARCHAR);"
            "CREATE INDEX ix_job_item_job_id ON job_item (job_id);"
            "DROP INDEX ix_example_dataset_id_source_id;"
            "DROP INDEX ix_example_dataset_id_review_id; DROP INDEX ix_example_job_id;"
            + "".join(f"ALTER TABLE example DROP COLUMN {c};" for c in ("source", "job_id", "review", "language_flag"))
            + "DROP TABLE reseal_shadow; DROP TABLE key_rotation; UPDATE alembic_version SET version_num = '0006';"
        )
    connection.close()

    result = alice("restore", str(copy), "--yes", "--password-stdin", "--json", input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backup_schema"] == "0006" and report["schema"] != "0006"


def test_restore_replaces_a_damaged_database_and_keeps_it_with_its_wal(
    alice: Cli, fast_home_dir: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "good.db"
    backed_up(alice, copy)
    db, wal = fast_home_dir / "forge.db", fast_home_dir / "forge.db-wal"
    db.write_bytes(b"not a database any more" * 100)
    wal.write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))
    assert alice("datasets", "list").exit_code == 1  # refused, as a damaged database is

    result = alice("restore", str(copy), "--yes", "--password-stdin", "--json", input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    kept = Path(json.loads(result.stdout)["kept"])
    assert kept.read_bytes() == b"not a database any more" * 100
    assert kept.with_name(kept.name + "-wal").read_bytes()[:4] == b"\x37\x7f\x06\x82"
    assert not (fast_home_dir / "forge.db-shm").exists() or not wal.exists() or wal.stat().st_size == 0
    listed = alice("datasets", "list", "--json")
    assert listed.exit_code == 0 and [d["name"] for d in json.loads(listed.stdout)] == ["default"]


def test_rotate_key_prints_a_new_recovery_key_and_the_old_one_stops_working(
    cli: Cli, fast_home_dir: Path, tmp_path: Path
) -> None:
    created = cli("user", "create", "-u", "alice", "--password-stdin", input=PASSWORD + "\n")
    old_recovery = created.stdout.split("Recovery key: ")[1].split()[0]
    stocked(cli, tmp_path, count=20)

    result = cli("user", "rotate-key", "--password-stdin", "--json", input=PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["datasets"], report["examples"], report["templates"], report["resumed"]) == (1, 20, 3, False)
    assert "Dataset 'default': 20 examples sealed with the new key." in result.stderr
    home = open_home(fast_home_dir)
    try:
        accounts = AccountService(home)
        assert not accounts.check_recovery_key("alice", old_recovery)
        assert accounts.check_recovery_key("alice", report["recovery_key"])
    finally:
        home.close()
    verified = cli("datasets", "verify", "default", "--password-stdin", input=PASSWORD + "\n")
    assert verified.exit_code == 0, verified.output
    wrong = cli("user", "rotate-key", "--password-stdin", input="not the password\n")
    assert wrong.exit_code == 3 and wrong.stderr.strip() == "forge-tui: Wrong password."
