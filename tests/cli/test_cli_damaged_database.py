"""A forge.db that is truncated, empty, not SQLite, damaged inside, or gone while its -wal stays:
every command and the TUI's start-up refuse it with one sentence that points at a backup and the
-wal file, and nothing is created over it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import Cli
from tests.cli.helpers import stocked
from tests.damage import zero_page
from tests.passwords import PASSWORD


def refused(result: Result, what: str) -> None:
    assert result.exit_code == 1, result.output
    message = result.stderr.strip()
    assert message.startswith("forge-tui: The database ") and what in message, message
    assert "restore it from a backup" in message and "forge.db-wal" in message
    assert "Traceback" not in result.output and "\n" not in message and len(message) < 400


# The TUI's start-up (no command) and commands that read or create accounts.
STARTS = [(), ("datasets", "list"), ("user", "create", "-u", "bob", "--password-stdin")]


@pytest.mark.parametrize("start", STARTS, ids=["tui", "datasets-list", "user-create"])
def test_a_truncated_database_is_refused(
    alice: Cli, fast_home_dir: Path, tmp_path: Path, start: tuple[str, ...]
) -> None:
    stocked(alice, tmp_path)
    db = fast_home_dir / "forge.db"
    assert not (fast_home_dir / "forge.db-wal").exists()
    whole = db.read_bytes()
    db.write_bytes(whole[: len(whole) // 2])
    refused(alice(*start, input=PASSWORD + "\n"), "is truncated")
    assert db.read_bytes() == whole[: len(whole) // 2]


@pytest.mark.parametrize("start", STARTS, ids=["tui", "datasets-list", "user-create"])
def test_an_empty_database_file_is_not_a_fresh_install(cli: Cli, fast_home_dir: Path, start: tuple[str, ...]) -> None:
    db = fast_home_dir / "forge.db"
    db.touch()
    refused(cli(*start, input=PASSWORD + "\n"), "is empty (0 bytes)")
    assert db.stat().st_size == 0


def test_a_file_that_is_not_sqlite_is_refused(cli: Cli, fast_home_dir: Path) -> None:
    (fast_home_dir / "forge.db").write_bytes(b"not a database at all\n" * 500)
    refused(cli("user", "create", "-u", "bob", "--password-stdin", input=PASSWORD + "\n"), "is not a SQLite database")


def test_a_missing_database_beside_its_wal_is_not_replaced(cli: Cli, fast_home_dir: Path) -> None:
    (fast_home_dir / "forge.db-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(4092))
    refused(cli("user", "create", "-u", "bob", "--password-stdin", input=PASSWORD + "\n"), "is missing")
    assert not (fast_home_dir / "forge.db").exists()


def test_damage_inside_the_file_is_reported_at_start(alice: Cli, fast_home_dir: Path) -> None:
    zero_page(fast_home_dir / "forge.db", "user")
    refused(alice("datasets", "list"), "is damaged (SQLite: database disk image is malformed)")


def test_damage_met_while_reading_is_reported(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    stocked(alice, tmp_path)
    zero_page(fast_home_dir / "forge.db", "example")
    for command in (("datasets", "verify", "default"), ("export", "--out", str(tmp_path / "o.jsonl"))):
        refused(alice(*command, "--password-stdin", input=PASSWORD + "\n"), "is damaged (SQLite: ")
    assert list(tmp_path.glob("*o.jsonl*")) == []


def test_a_fresh_data_directory_still_starts(cli: Cli, fast_home_dir: Path) -> None:
    created = cli("user", "create", "-u", "bob", "--password-stdin", input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    assert sorted(p.name for p in fast_home_dir.iterdir() if p.name.startswith(".forge.db")) == []
