"""TemplateService against a real SQLite file: starters, editing, history, archive, files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from forge_tui.core.errors import Conflict, ForgeError, NotFound
from forge_tui.core.starters import starter_templates
from forge_tui.core.templates import SlotDef, TemplateError
from forge_tui.services.accounts import AccountService, AuthFailed
from forge_tui.services.exporting import CustomFormats
from forge_tui.services.home import Home
from forge_tui.services.templates import TemplateService
from forge_tui.services.workspace import Workspace
from forge_tui.store.vault import SealBroken
from tests.passwords import PASSWORD


@pytest.fixture
def templates(home: Home) -> TemplateService:
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    return TemplateService(home, accounts.unlock("alice", PASSWORD))


def test_a_new_account_has_the_starters_and_each_renders(templates: TemplateService) -> None:
    listed = templates.list()
    assert sorted(t.name for t in listed) == sorted(t.name for t in starter_templates())
    weather = templates.get("Tool call: weather")
    assert weather.is_tool_calling and weather.tools[0].name == "get_weather"
    # Each starter's system prompt is its first history entry.
    assert weather.id is not None
    assert [text for text, _ in templates.system_prompt_history(weather.id)] == [weather.system_prompt]


def test_other_users_templates_are_not_visible(home: Home, templates: TemplateService) -> None:
    accounts = AccountService(home)
    accounts.create_user("bob", "Bob", PASSWORD)
    bob = TemplateService(home, accounts.unlock("bob", PASSWORD))
    mine = templates.create("Mine", user_prompt="x")
    assert "Mine" not in [t.name for t in bob.list()]
    with pytest.raises(NotFound):
        bob.get(mine.id or 0)


def test_create_rename_duplicate_and_name_clashes(templates: TemplateService) -> None:
    made = templates.create("  Haiku   maker ", user_prompt="A haiku about {{ season }}")
    assert made.name == "Haiku maker" and made.id is not None
    with pytest.raises(Conflict, match="already a template named 'Haiku maker'"):
        templates.create("Haiku maker")
    with pytest.raises(TemplateError, match="needs a name"):
        templates.create("   ")
    renamed = templates.rename(made.id, "Haiku")
    assert templates.get("Haiku").id == made.id == renamed.id
    with pytest.raises(Conflict):
        templates.rename(made.id, "Rewrite in a style")
    first, second = templates.duplicate(made.id), templates.duplicate(made.id)
    assert (first.name, second.name) == ("Haiku (copy)", "Haiku (copy 2)")
    assert first.user_prompt == made.user_prompt and first.id != made.id


def test_save_keeps_the_system_prompt_apart(templates: TemplateService) -> None:
    made = templates.create("T", system_prompt="old system", user_prompt="old {{ a }}")
    edited = made.model_copy(
        update={"system_prompt": "NOT SAVED HERE", "user_prompt": "new {{ a }}", "slots": [SlotDef(name="a")]}
    )
    saved = templates.save(edited)
    assert saved.user_prompt == "new {{ a }}" and saved.slots == [SlotDef(name="a")]
    assert saved.system_prompt == "old system"
    with pytest.raises(TemplateError, match="user prompt: line 1"):
        templates.save(saved.model_copy(update={"user_prompt": "{% if %}"}))
    with pytest.raises(TemplateError, match="at least one tool"):
        templates.save(saved.model_copy(update={"is_tool_calling": True}))
    assert templates.get("T").user_prompt == "new {{ a }}"


def test_history_keeps_ten_distinct_newest_first(templates: TemplateService) -> None:
    made = templates.create("H", user_prompt="x")
    assert made.id is not None
    for i in range(12):
        templates.save_system_prompt(made.id, f"v{i}")
    templates.save_system_prompt(made.id, "v3")
    history = [text for text, _ in templates.system_prompt_history(made.id)]
    assert history == ["v3", "v11", "v10", "v9", "v8", "v7", "v6", "v5", "v4", "v2"]
    assert templates.get(made.id).system_prompt == "v3"


def test_archive_and_search(templates: TemplateService) -> None:
    made = templates.create("Zeta 100%_done", user_prompt="x")
    assert [t.name for t in templates.list(search="100%_")] == ["Zeta 100%_done"]  # no LIKE wildcards
    assert templates.list(search="%") == [templates.get(made.id or 0)]
    templates.set_archived(made.id or 0, True)
    assert "Zeta 100%_done" not in [t.name for t in templates.list()]
    archived = templates.list(include_archived=True)
    assert archived[-1].name == "Zeta 100%_done" and archived[-1].archived  # archived ones sort last


def test_export_then_import_under_another_name(templates: TemplateService, tmp_path: Path) -> None:
    for suffix in ("toml", "json"):
        out = templates.export_file("Tool call: weather", tmp_path / f"weather.{suffix}")
        again = templates.import_file(out, name=f"Weather from {suffix}")
        original = templates.get("Tool call: weather")
        assert again.model_copy(update={"id": None, "name": original.name}) == original.model_copy(update={"id": None})
    with pytest.raises(Conflict):
        templates.import_file(tmp_path / "weather.toml")  # the name in the file is taken
    assert not list(tmp_path.glob("*.part"))


def test_import_problems_name_the_file_and_line(templates: TemplateService, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n "user_prompt": [1]}\n')
    with pytest.raises(TemplateError, match=r"bad\.json: user_prompt must be text"):
        templates.import_file(bad)
    with pytest.raises(NotFound, match="Cannot read"):
        templates.import_file(tmp_path / "missing.toml")
    with pytest.raises(ForgeError, match=r"to a \.toml or \.json file"):
        templates.export_file("Rewrite in a style", tmp_path / "x.yaml")
    with pytest.raises(ForgeError, match="does not exist"):
        templates.export_file("Rewrite in a style", tmp_path / "no" / "x.toml")


# --- sealed at rest ---------------------------------------------------------------------------
def test_content_moved_to_another_row_does_not_open(home: Home, templates: TemplateService) -> None:
    mine = templates.create("Mine", user_prompt="mine")
    other = templates.create("Other", user_prompt="other")
    with sqlite3.connect(home.db_path) as conn:
        conn.execute(
            "UPDATE template SET content = (SELECT content FROM template WHERE id = ?) WHERE id = ?",
            (mine.id, other.id),
        )
    conn.close()
    with pytest.raises(SealBroken, match=f"template row {other.id}: the content field cannot be opened"):
        templates.get("Other")
    assert "Other" not in [t.name for t in templates.list()]  # left out of the list, which still opens
    assert templates.get("Mine").user_prompt == "mine"


def test_locked_then_resumed(home: Home) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    formats = CustomFormats(home, workspace.unlocked)  # as a screen holds it across a lock
    formats.create("qa")
    workspace.lock()
    with pytest.raises(AuthFailed, match="locked"):
        workspace.templates.list()
    with pytest.raises(AuthFailed, match="locked"):
        formats.list()
    workspace.resume(accounts.unlock("alice", PASSWORD))
    assert len(workspace.templates.list()) == len(starter_templates())
    assert [f.name for f in formats.list()] == ["qa"]


def test_a_reset_without_recovery_key_starts_again_from_the_starters(home: Home, templates: TemplateService) -> None:
    templates.create("Mine", user_prompt="x")
    accounts = AccountService(home)
    accounts.reset_password("alice", "a new password", recovery_key=None)
    after = TemplateService(home, accounts.unlock("alice", "a new password"))
    # The old templates stay stored, sealed with a key the account no longer has.
    assert sorted(t.name for t in after.list()) == sorted(t.name for t in starter_templates())
    with pytest.raises(NotFound):
        after.get("Mine")
    with home.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM template").scalar() == 2 * len(starter_templates()) + 1
