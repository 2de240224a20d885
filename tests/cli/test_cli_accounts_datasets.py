"""`forge-tui user …` and `forge-tui datasets …` in scripts (--password-stdin, --json, exit codes)."""

from __future__ import annotations

import json

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def test_user_create_prints_the_recovery_key_once(cli: Cli) -> None:
    created = cli("user", "create", "-u", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    assert "Recovery key: " in created.stdout
    again = cli("user", "create", "-u", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already an account named 'alice'" in again.stderr
    short = cli("user", "create", "-u", "bob", "--password-stdin", input="short\n")
    assert short.exit_code == 2 and "at least 8 characters" in short.stderr


def test_change_password_then_wrong_password_exits_3(alice: Cli) -> None:
    changed = alice("user", "change-password", "--password-stdin", input=f"{PASSWORD}\nnew password 1\n")
    assert changed.exit_code == 0, changed.output
    wrong = alice("datasets", "verify", "default", "--password-stdin", input=PASSWORD + "\n")
    assert wrong.exit_code == 3
    right = alice("datasets", "verify", "default", "--password-stdin", input="new password 1\n")
    assert right.exit_code == 0 and "default: 0 examples, 0 open, 0 broken." in right.stdout


def test_datasets_create_rename_archive_list(alice: Cli) -> None:
    assert alice("datasets", "create", "support chats", "-d", "from tickets").exit_code == 0
    assert alice("datasets", "rename", "support chats", "support").exit_code == 0
    assert alice("datasets", "archive", "support").exit_code == 0
    names = [d["name"] for d in json.loads(alice("datasets", "list", "--json").stdout)]
    assert names == ["default"]
    listed = json.loads(alice("datasets", "list", "--archived", "--json").stdout)
    assert [(d["name"], d["archived"], d["description"]) for d in listed] == [
        ("default", False, ""),
        ("support", True, "from tickets"),
    ]
    assert alice("datasets", "unarchive", "support").exit_code == 0
    assert "* default" in alice("datasets", "list").stdout
    missing = alice("datasets", "rename", "nope", "x")
    assert missing.exit_code == 5 and "No dataset named 'nope'" in missing.stderr
