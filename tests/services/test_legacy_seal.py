"""A database from revision 0003 held templates, history, custom formats and example params in
plaintext. After the upgrade the owner's first unlock seals them: no plaintext is left in the file
or its WAL, and everything still reads the same."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.exporting import CustomFormats
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from forge_tui.store.db import make_engine, migrate
from forge_tui.store.vault import new_salt
from tests.db_bytes import db_files, found_in, marker
from tests.legacy_accounts import CREATED, EXAMPLE_ID, legacy_account
from tests.passwords import PASSWORD

SEED = 771234509876123


def add_user(conn: sqlite3.Connection, user_id: int, username: str) -> None:
    """An account in the 0003 layout, with real keys (the context strings are part of the format),
    and its dataset holding one example whose content is sealed and whose params are plain."""
    account = legacy_account(username)
    ds_salt = new_salt()
    conn.execute(
        "INSERT INTO user (id, username, display_name, kdf_salt, kdf_params, wrapped_key, recovery_salt,"
        " wrapped_recovery_key, key_check, created_at, settings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}')",
        (user_id, username, username.title(), *account.user_columns, CREATED),
    )
    conn.execute(
        "INSERT INTO dataset (id, owner_id, name, description, salt, key_check, archived, created_at)"
        " VALUES (?, ?, 'legacy', '', ?, ?, 0, ?)",
        (user_id, user_id, ds_salt, account.key_check, CREATED),
    )
    cipher = account.dataset_cipher(ds_salt)
    row_id = EXAMPLE_ID[:-1] + str(user_id)
    sealed = {c: cipher.seal(c, row_id, v.encode()) for c, v in CONTENT.items()}
    conn.execute(
        "INSERT INTO example (id, dataset_id, template_id, system_prompt, user_prompt, slots, output, tool_calls,"
        " rejected, rejected_count, model, params, created_at, updated_at)"
        " VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, 0, 'm', ?, ?, ?)",
        (row_id, user_id, *sealed.values(), json.dumps(PARAMS[username]), CREATED, CREATED),
    )


CONTENT = {
    "system_prompt": "be brief",
    "user_prompt": "capital of France?",
    "slots": "{}",
    "output": "Paris.",
    "tool_calls": "[]",
    "rejected": "[]",
}
MARKS = {
    kind: marker()
    for kind in (
        "template name",
        "system prompt",
        "user prompt",
        "slot description",
        "slot value",
        "tool definition",
        "history entry",
        "deleted history entry",
        "custom format name",
        "custom format body",
        "params",
    )
}
TOOL = {"name": "lookup", "description": MARKS["tool definition"], "parameters": {"type": "object", "properties": {}}}
SLOTS = [
    {
        "name": "topic",
        "description": MARKS["slot description"],
        "default": "tides",
        "values": [{"value": MARKS["slot value"], "weight": 1.0}],
    }
]
FORMAT_BODY = '{"q": {{ example.user_prompt | tojson }}, "tag": "' + MARKS["custom format body"] + '"}'
PARAMS = {
    "alice": {"seed": SEED, "template": MARKS["template name"], "note": MARKS["params"]},
    "bob": {"seed": 5},
}


def make_0003_database(home_dir: Path, users: list[str]) -> None:
    engine = make_engine(home_dir / "forge.db")
    migrate(engine, "0003")
    engine.dispose()
    conn = sqlite3.connect(home_dir / "forge.db")
    conn.execute("PRAGMA journal_mode = WAL")
    # As SQLite's default build (Debian's turns it on): a deleted row leaves its bytes in free pages.
    conn.execute("PRAGMA secure_delete = OFF")
    with conn:
        for user_id, username in enumerate(users, start=1):
            add_user(conn, user_id, username)
        if users:
            conn.execute(
                "INSERT INTO template (id, owner_id, name, system_prompt, user_prompt, slots, is_tool_calling, tools,"
                " archived, created_at, updated_at) VALUES (1, 1, ?, ?, ?, ?, 1, ?, 0, ?, ?)",
                (
                    MARKS["template name"],
                    MARKS["system prompt"],
                    "Tell me about {{ topic }}. " + MARKS["user prompt"],
                    json.dumps(SLOTS),
                    json.dumps([TOOL]),
                    CREATED,
                    CREATED,
                ),
            )
            # Long enough to spill into overflow pages, which its deletion leaves on the free list as they are.
            deleted = " ".join([MARKS["deleted history entry"]] * 2000)
            for text in (deleted, MARKS["history entry"], MARKS["system prompt"]):
                conn.execute(
                    "INSERT INTO system_prompt_history (template_id, text, saved_at) VALUES (1, ?, ?)", (text, CREATED)
                )
        conn.execute(
            "INSERT INTO export_template (name, category, body, builtin, created_at) VALUES (?, 'custom', ?, 0, ?)",
            (MARKS["custom format name"], FORMAT_BODY, CREATED),
        )
    if users:
        with conn:
            conn.execute("DELETE FROM system_prompt_history WHERE length(text) > 1000")
    conn.close()


@contextmanager
def wal_file_kept(home: Home) -> Iterator[None]:
    """An idle connection: the WAL file is not deleted when the app's connections close, and no
    read transaction keeps a checkpoint from emptying it."""
    conn = sqlite3.connect(home.db_path)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    try:
        yield
    finally:
        conn.close()


def leaks(home: Home) -> dict[str, list[str]]:
    files = db_files(home)
    found = {kind: found_in(files, mark) for kind, mark in MARKS.items() if found_in(files, mark)}
    if found_in(files, str(SEED)):
        found["seed"] = found_in(files, str(SEED))
    return found


def test_first_unlock_after_the_upgrade_seals_every_plaintext_kind(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    make_0003_database(home_dir, ["alice", "bob"])
    home = open_home(home_dir)  # the start-up path: migrates to head
    try:
        with wal_file_kept(home):
            # The migration cannot seal: the plaintext waits for the owner (the grep does see it; the
            # deleted entry's free pages may have been reused by the migrations' new tables since).
            assert set(MARKS) - {"deleted history entry"} | {"seed"} <= set(leaks(home)) <= set(MARKS) | {"seed"}
            accounts = AccountService(home)
            workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
            assert (home.db_path.parent / "forge.db-wal").exists()
            # Custom formats were shared by every account: Bob's copy waits for his own unlock.
            assert set(leaks(home)) == {"custom format name", "custom format body"}
            bob = accounts.unlock("bob", PASSWORD)
            assert leaks(home) == {}

        template = workspace.templates.get(MARKS["template name"])
        assert template.system_prompt == MARKS["system prompt"]
        assert template.user_prompt == "Tell me about {{ topic }}. " + MARKS["user prompt"]
        assert [s.model_dump() for s in template.slots] == SLOTS
        assert template.is_tool_calling and template.tools[0].model_dump() == TOOL
        assert template.id is not None
        history = [text for text, _ in workspace.templates.system_prompt_history(template.id)]
        assert history == [MARKS["system prompt"], MARKS["history entry"]]
        (fmt,) = CustomFormats(home, workspace.unlocked).list()
        assert (fmt.name, fmt.body) == (MARKS["custom format name"], FORMAT_BODY)
        (example,) = workspace.examples.page(1)
        assert isinstance(example, Example)
        assert example.meta.params == PARAMS["alice"] and example.content.output == "Paris."
        (bob_fmt,) = CustomFormats(home, bob).list()
        assert bob_fmt.body == FORMAT_BODY
        (bob_example,) = Workspace.open(home, bob).examples.page(2)
        assert isinstance(bob_example, Example) and bob_example.meta.params == {"seed": 5}
        with home.engine.connect() as conn:
            left = conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM template WHERE legacy IS NOT NULL)"
                " + (SELECT count(*) FROM system_prompt_history WHERE legacy_text IS NOT NULL)"
                " + (SELECT count(*) FROM export_template WHERE legacy IS NOT NULL)"
                " + (SELECT count(*) FROM example WHERE legacy_params IS NOT NULL)"
                " + (SELECT count(*) FROM user WHERE seal_pending)"
            ).scalar()
        assert left == 0
    finally:
        home.close()


def test_formats_of_a_database_without_accounts_go_to_the_first_account(tmp_path: Path) -> None:
    home_dir = tmp_path / "home"
    home_dir.mkdir()
    make_0003_database(home_dir, [])
    home = open_home(home_dir)
    try:
        with wal_file_kept(home):
            assert set(leaks(home)) == {"custom format name", "custom format body"}
            accounts = AccountService(home)
            accounts.create_user("carol", "", PASSWORD)
            assert leaks(home) == {}
        (fmt,) = CustomFormats(home, accounts.unlock("carol", PASSWORD)).list()
        assert (fmt.name, fmt.body) == (MARKS["custom format name"], FORMAT_BODY)
    finally:
        home.close()
