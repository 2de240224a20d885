"""DESIGN §3: the database file holds no plaintext of example content. Grep the raw bytes for it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from forge_tui.core.chat import ToolDef
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.templates import SlotDef, TemplateInfo, WeightedValue
from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import ExampleService
from forge_tui.services.exporting import CustomFormats
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from tests.db_bytes import db_files, found_in, marker
from tests.passwords import PASSWORD

# What the account keeps besides example content; README ("How your data is protected") lists the rest.
KINDS = (
    "template name",
    "system prompt",
    "user prompt",
    "slot description",
    "slot default",
    "slot value",
    "tool definition",
    "history entry",
    "custom format name",
    "custom format body",
    "control",  # a dataset description: plain, so the grep must find it
)


@contextmanager
def wal_kept_open(home: Home) -> Iterator[None]:
    """Holds a reader open so SQLite neither checkpoints nor deletes the WAL while we look at it."""
    conn = sqlite3.connect(home.db_path)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    try:
        yield
    finally:
        conn.close()


def sealed_content(mark: str) -> ExampleContent:
    return ExampleContent(
        system_prompt=f"system {mark}",
        user_prompt=f"user {mark}",
        slots={f"slot-{mark}": f"value {mark}"},
        output=f"output {mark} " + "long answer " * 200,
        tool_calls=[{"name": "search", "arguments": {"query": mark}}],
        rejected=[f"rejected {mark}", f"also {mark}"],
        reasoning=f"reasoning {mark}",
        extra={f"field-{mark}": [f"extra {mark}"]},
    )


def test_example_content_never_reaches_the_file(home: Home) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "", PASSWORD)
    unlocked = accounts.unlock("alice", PASSWORD)
    current = DatasetService(home, unlocked.user).current()
    assert current is not None
    secret = marker()
    plain = marker()
    service = ExampleService(home, unlocked)

    with wal_kept_open(home):
        ids = [service.add(current.id, sealed_content(secret), ExampleMeta(model="m")) for _ in range(20)]
        service.add_many(current.id, [(sealed_content(secret), ExampleMeta())] * 20)
        # Control: a dataset description is a plain column, so the same grep must find it.
        DatasetService(home, unlocked.user).create("control", description=f"described {plain}")
        files = db_files(home)
        assert "forge.db-wal" in files, "the WAL should still be there while a reader holds it"
        assert len(files["forge.db-wal"]) > 0
        assert found_in(files, secret) == []
        assert "forge.db-wal (utf-8)" in found_in(files, plain)

    # The content does open again, so the marker was really written, sealed.
    assert service.get(ids[0]).content == sealed_content(secret)

    # After the last connection closes SQLite checkpoints the WAL into the main file: look again.
    home.close()
    with sqlite3.connect(home.db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    files = db_files(home)
    assert found_in(files, secret) == []
    assert "forge.db (utf-8)" in found_in(files, plain)


def test_grep_finds_plaintext_in_every_encoding(tmp_path: Path) -> None:
    """The control for the control: a plain column written as UTF-16 is found by the UTF-16 needles."""
    mark = marker()
    db = tmp_path / "probe.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA encoding = 'UTF-16le'")
        conn.execute("CREATE TABLE t (v TEXT)")
        conn.execute("INSERT INTO t VALUES (?)", (mark,))
    conn.close()
    data = {"probe.db": db.read_bytes()}
    assert found_in(data, mark) == ["probe.db (utf-16-le)"]


def test_templates_history_formats_and_params_never_reach_the_file(home: Home) -> None:
    """Each kind of account content outside example content is sealed too: grep for a marker in each."""
    marks = {kind: marker() for kind in KINDS}
    accounts = AccountService(home)
    accounts.create_user("alice", "", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    current = workspace.datasets.current()
    assert current is not None
    tool = ToolDef(
        name="lookup",
        description=f"tool {marks['tool definition']}",
        parameters={"type": "object", "properties": {"q": {"type": "string"}}},
    )
    info = TemplateInfo(
        name=f"Template {marks['template name']}",
        system_prompt=f"system {marks['system prompt']}",
        user_prompt=f"Ask about {{{{ topic }}}} {marks['user prompt']}",
        slots=[
            SlotDef(
                name="topic",
                description=f"about {marks['slot description']}",
                default=f"default {marks['slot default']}",
                values=[WeightedValue(value=f"value {marks['slot value']}", weight=2)],
            )
        ],
        is_tool_calling=True,
        tools=[tool],
    )
    formats = CustomFormats(home, workspace.unlocked)
    body = '{"q": {{ example.user_prompt | tojson }}, "tag": "' + marks["custom format body"] + '"}'
    seed = 918273645546372

    with wal_kept_open(home):
        made = workspace.templates.add(info)
        assert made.id is not None
        workspace.templates.save_system_prompt(made.id, f"older {marks['history entry']}")
        workspace.templates.save_system_prompt(made.id, info.system_prompt)
        formats.save(f"fmt-{marks['custom format name']}", body)
        params = {"seed": seed, "template": made.name, "tools": [tool.to_openai()]}
        workspace.examples.add(current.id, ExampleContent(user_prompt="q", output="a"), ExampleMeta(params=params))
        DatasetService(home, workspace.user).create("control", description=f"described {marks['control']}")
        files = db_files(home)
        assert len(files["forge.db-wal"]) > 0
        leaks = {kind: found_in(files, mark) for kind, mark in marks.items() if found_in(files, mark)}
        assert leaks == {"control": ["forge.db-wal (utf-8)"]}
        assert found_in(files, str(seed)) == []

    # Everything opens again, so the markers were really written, sealed.
    assert workspace.templates.get(info.name).model_copy(update={"id": None}) == info
    assert [t for t, _ in workspace.templates.system_prompt_history(made.id)][:2] == [
        info.system_prompt,
        f"older {marks['history entry']}",
    ]
    assert formats.get(f"fmt-{marks['custom format name']}").body == body
    (example,) = workspace.examples.page(current.id)
    assert isinstance(example, Example) and example.meta.params == params

    home.close()
    with sqlite3.connect(home.db_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    files = db_files(home)
    assert {kind: found_in(files, mark) for kind, mark in marks.items() if found_in(files, mark)} == {
        "control": ["forge.db (utf-8)"]
    }
