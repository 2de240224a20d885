"""Key rotation (services.key_rotation): a new data key, everything re-sealed, a new recovery key;
cut off by `kill -9` anywhere, every dataset still opens whole and the next run finishes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.errors import Conflict
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService, AuthFailed
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.services.exporting import CustomFormats
from forge_tui.services.home import Home, open_home
from forge_tui.services.key_rotation import RotationStep, rotate_key
from forge_tui.services.workspace import Workspace
from forge_tui.store.db import read_session
from forge_tui.store.examples import sealed_values
from forge_tui.store.key_rotation import KeyChanged
from forge_tui.store.staged_inserts import StagedInsert
from forge_tui.store.vault import key_check
from tests.passwords import PASSWORD

NEW_PASSWORD = "changed horse battery"
FORMAT_BODY = '{"q": {{ example.user_prompt | tojson }}}'
CHILD_TIMEOUT = 120


def content(tag: str, n: int) -> ExampleContent:
    turns = [{"role": "user", "content": f"{tag} hi {n}"}, {"role": "assistant", "content": "hello"}] if n % 2 else []
    return ExampleContent(
        system_prompt=f"{tag} system",
        user_prompt=f"{tag} question {n}",
        slots={"n": str(n)},
        output=f"{tag} answer {n}",
        tool_calls=[{"name": "look", "arguments": {"n": n}}] if n % 3 == 0 else [],
        rejected=[f"{tag} worse {n}"],
        turns=turns,
    )


def fill(home: Home) -> str:
    """alice with three datasets (3, 12 and 4 examples), a template with two saved system prompts
    and a custom format; returns her recovery key."""
    accounts = AccountService(home)
    created = accounts.create_user("alice", "", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    default = workspace.datasets.current()
    assert default is not None
    sizes = ((default, 3), (workspace.datasets.create("big"), 12), (workspace.datasets.create("small"), 4))
    for dataset, count in sizes:
        items = [(content(dataset.name, n), ExampleMeta(model="m", params={"seed": n})) for n in range(count)]
        workspace.examples.add_many(dataset.id, items)
    template = workspace.templates.create("mine", system_prompt="first system prompt", user_prompt="{{ x }}")
    assert template.id is not None
    workspace.templates.save_system_prompt(template.id, "second system prompt")
    CustomFormats(home, workspace.unlocked).save("qa", FORMAT_BODY)
    return created.recovery_key


@dataclass
class Seen:
    datasets: dict[str, list[tuple[Any, ...]]]
    templates: dict[str, list[str]]
    formats: dict[str, str]


def everything(home: Home) -> Seen:
    """What alice's account shows, opened through the services; fails on any row that does not open."""
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    datasets: dict[str, list[tuple[Any, ...]]] = {}
    for info in workspace.datasets.list():
        assert info.readable, info.name
        items = list(workspace.examples.scan(info.id))
        broken = [i for i in items if isinstance(i, BrokenExample)]
        assert not broken, broken[:2]
        datasets[info.name] = [_fields(e) for e in items if isinstance(e, Example)]
    history = workspace.templates.system_prompt_history
    templates = {t.name: [text for text, _ in history(t.id)] for t in workspace.templates.list() if t.id is not None}
    formats = {f.name: f.body for f in CustomFormats(home, workspace.unlocked).list()}
    return Seen(datasets, templates, formats)


def _fields(e: Example) -> tuple[Any, ...]:
    c = e.content
    return (e.id, c.system_prompt, c.user_prompt, c.slots, c.output, c.tool_calls, c.rejected, c.turns, e.meta.params)


def key_checks(home: Home) -> dict[str, bytes]:
    with read_session(home.engine) as s:
        found = s.connection().exec_driver_sql("SELECT name, key_check FROM dataset").all()
    return {str(name): bytes(check) for name, check in found}


def account_check(home: Home) -> bytes:
    with read_session(home.engine) as s:
        return bytes(s.connection().exec_driver_sql("SELECT key_check FROM user").scalar_one())


def leftovers(home: Home) -> tuple[int, int]:
    with read_session(home.engine) as s:
        plans = s.connection().exec_driver_sql("SELECT count(*) FROM key_rotation").scalar_one()
        shadows = s.connection().exec_driver_sql("SELECT count(*) FROM reseal_shadow").scalar_one()
    return int(plans), int(shadows)


def test_rotation_reseals_everything_and_replaces_the_recovery_key(home: Home) -> None:
    old_recovery = fill(home)
    before = everything(home)
    old_check = account_check(home)
    steps: list[RotationStep] = []

    outcome = rotate_key(home, "alice", PASSWORD, steps.append, batch=5)

    assert (outcome.datasets, outcome.examples, outcome.templates, outcome.formats) == (3, 19, 4, 1)
    assert not outcome.resumed and outcome.damaged == 0
    new_check = account_check(home)
    assert new_check != old_check
    assert set(key_checks(home).values()) == {new_check}
    assert everything(home) == before
    assert leftovers(home) == (0, 0)
    assert steps[0].stage == "planned" and steps[-1].stage == "finishing"
    assert ("switched", "big", 12) in [(s.stage, s.dataset, s.done) for s in steps]
    accounts = AccountService(home)
    assert not accounts.check_recovery_key("alice", old_recovery)
    assert accounts.check_recovery_key("alice", outcome.recovery_key)
    # The new recovery key resets the password and keeps the data; the old one is refused.
    with pytest.raises(AuthFailed):
        accounts.reset_password("alice", "a brand new secret", old_recovery)
    accounts.reset_password("alice", PASSWORD, outcome.recovery_key)
    assert everything(home) == before


def test_a_wrong_password_changes_nothing(home: Home) -> None:
    fill(home)
    checks = key_checks(home)
    with pytest.raises(AuthFailed):
        rotate_key(home, "alice", "not the password at all")
    assert key_checks(home) == checks
    assert leftovers(home) == (0, 0)


def test_a_password_changed_midway_is_kept_and_the_next_run_finishes(home: Home) -> None:
    fill(home)
    before = everything(home)
    accounts = AccountService(home)

    def change_password(step: RotationStep) -> None:
        if step.stage == "finishing":
            accounts.change_password("alice", PASSWORD, NEW_PASSWORD)

    with pytest.raises(Conflict, match="was changed while its key was rotated"):
        rotate_key(home, "alice", PASSWORD, change_password)

    with pytest.raises(AuthFailed):
        accounts.unlock("alice", PASSWORD)
    assert rotate_key(home, "alice", NEW_PASSWORD).resumed
    accounts.change_password("alice", NEW_PASSWORD, PASSWORD)
    assert everything(home) == before


def test_a_row_that_does_not_open_keeps_what_it_had(home: Home) -> None:
    fill(home)
    with read_session(home.engine) as s:
        victim, output = s.connection().exec_driver_sql("SELECT id, output FROM example ORDER BY id LIMIT 1").one()
    damaged = bytes(output[:-1]) + bytes([output[-1] ^ 1])
    with home.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE example SET output = ? WHERE id = ?", (damaged, victim))

    outcome = rotate_key(home, "alice", PASSWORD)

    assert outcome.damaged == 1 and outcome.examples == 19
    with read_session(home.engine) as s:
        assert s.connection().exec_driver_sql("SELECT output FROM example WHERE id = ?", (victim,)).scalar() == damaged
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    opened = [i for d in workspace.datasets.list() for i in workspace.examples.scan(d.id)]
    assert [i.id for i in opened if isinstance(i, BrokenExample)] == [victim]
    assert len(opened) == 19


def test_a_session_unlocked_before_the_rotation_never_writes_with_the_old_key(home: Home) -> None:
    fill(home)
    accounts = AccountService(home)
    before = ExampleService(home, accounts.unlock("alice", PASSWORD))
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    dataset_id = workspace.datasets.get("small").id
    old_cipher = before.cipher(dataset_id)  # derived from the old key, and kept
    stale_insert = StagedInsert(home.engine, dataset_id)  # an import that began before the rotation

    rotate_key(home, "alice", PASSWORD)

    with pytest.raises(KeyChanged):
        stale_insert.add([sealed_values(old_cipher, dataset_id, content("late", 0), ExampleMeta())])
    stale_insert.discard()
    with pytest.raises(Exception, match="unlock again"):
        before.add(dataset_id, content("late", 1))
    # Unlocked again, the same service writes under the new key.
    before.unlocked.take_key(accounts.unlock("alice", PASSWORD))
    before.forget_keys()
    before.add(dataset_id, content("late", 2))
    assert len(everything(home).datasets["small"]) == 5


class _Stop(Exception):
    pass


def _stop_when_planned(step: RotationStep) -> None:
    if step.stage == "planned":
        raise _Stop


def _unlocked_midway(home: Home) -> Workspace:
    """A session unlocked while a rotation is under way: it holds the old key and the new one."""
    with pytest.raises(_Stop):
        rotate_key(home, "alice", PASSWORD, _stop_when_planned)
    return Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))


def test_undo_of_a_delete_after_a_rotation_reseals_the_rows_with_the_new_key(home: Home) -> None:
    fill(home)
    before = everything(home)
    workspace = _unlocked_midway(home)
    dataset_id = workspace.datasets.get("small").id
    ids = [e.id for e in workspace.examples.window(dataset_id, 0, 10)]
    removed = workspace.examples.delete(dataset_id, ids[:2])

    rotate_key(home, "alice", PASSWORD)

    workspace.examples.undo_delete(removed)
    assert everything(home) == before


def test_undo_of_a_delete_after_a_rotation_without_the_new_key_is_refused(home: Home) -> None:
    fill(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset_id = workspace.datasets.get("small").id
    ids = [e.id for e in workspace.examples.window(dataset_id, 0, 10)]
    removed = workspace.examples.delete(dataset_id, ids[:2])

    rotate_key(home, "alice", PASSWORD)

    for _attempt in range(2):  # not "try again": the second try is refused too, and writes nothing
        with pytest.raises(Conflict, match="no longer possible"):
            workspace.examples.undo_delete(removed)
    assert len(everything(home).datasets["small"]) == 2


def test_templates_and_formats_saved_by_a_session_that_joined_a_rotation_use_the_new_key(home: Home) -> None:
    fill(home)
    workspace = _unlocked_midway(home)
    formats = CustomFormats(home, workspace.unlocked)

    rotate_key(home, "alice", PASSWORD)

    workspace.templates.create("after", user_prompt="hi")
    formats.save("later", FORMAT_BODY)
    seen = everything(home)
    assert "after" in seen.templates and "later" in seen.formats


def test_templates_and_formats_are_not_saved_under_a_retired_key(home: Home) -> None:
    fill(home)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    formats = CustomFormats(home, workspace.unlocked)
    template_id = workspace.templates.get("mine").id
    assert template_id is not None

    rotate_key(home, "alice", PASSWORD)

    with pytest.raises(Conflict, match="unlock again"):
        workspace.templates.create("after", user_prompt="hi")
    with pytest.raises(Conflict, match="unlock again"):
        workspace.templates.save_system_prompt(template_id, "late")
    with pytest.raises(Conflict, match="unlock again"):
        formats.save("later", FORMAT_BODY)
    seen = everything(home)
    assert "after" not in seen.templates and "later" not in seen.formats


STOPPING_CHILD = """
import sys
from forge_tui.services.home import open_home
from forge_tui.services.key_rotation import rotate_key

home = open_home(sys.argv[1])
stop_at = sys.argv[2]


def progress(step):
    at = step.stage if step.stage != "resealing" else f"resealing:{step.dataset}:{step.done}"
    if at == stop_at:
        print("STOPPED", flush=True)
        sys.stdin.readline()  # killed here


rotate_key(home, "alice", sys.argv[3], progress, batch=5)
print("FINISHED", flush=True)
"""


def kill_at(home_dir: Path, stop_at: str) -> None:
    """Runs a rotation in a child process and kills it (SIGKILL) where `stop_at` says."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(STOPPING_CHILD), str(home_dir), stop_at, PASSWORD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "STOPPED", child.communicate(timeout=CHILD_TIMEOUT)[1][-2000:]
        child.kill()
        child.wait(timeout=CHILD_TIMEOUT)
        assert child.returncode == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop_at", "moved_before_kill"),
    [
        ("planned", set()),  # the plan is stored, nothing moved yet
        ("resealing:big:5", {"default"}),  # in the middle of re-sealing the second dataset
        ("finishing", {"default", "big", "small"}),  # every dataset moved, the account's key not yet
    ],
)
def test_a_kill_midway_leaves_every_dataset_whole_and_the_next_run_finishes(
    fast_home_dir: Path, stop_at: str, moved_before_kill: set[str]
) -> None:
    home = open_home(fast_home_dir)
    try:
        old_recovery = fill(home)
        before = everything(home)
        old_check = account_check(home)
    finally:
        home.close()

    kill_at(fast_home_dir, stop_at)

    home = open_home(fast_home_dir)
    try:
        checks = key_checks(home)
        assert account_check(home) == old_check  # the account's key is still the old one
        assert {name for name, check in checks.items() if check != old_check} == moved_before_kill
        assert len(set(checks.values())) == (2 if 0 < len(moved_before_kill) < 3 else 1)
        # Each dataset opens whole under the key it names: examples, templates, formats all readable.
        assert everything(home) == before
        assert leftovers(home)[0] == 1

        outcome = rotate_key(home, "alice", PASSWORD)

        assert outcome.resumed
        assert outcome.datasets == 3 - len(moved_before_kill)
        new_check = account_check(home)
        assert new_check != old_check
        assert set(key_checks(home).values()) == {new_check}
        assert everything(home) == before
        assert leftovers(home) == (0, 0)
        accounts = AccountService(home)
        assert not accounts.check_recovery_key("alice", old_recovery)
        assert accounts.check_recovery_key("alice", outcome.recovery_key)
        assert key_check(accounts.unlock("alice", PASSWORD).data_key()) == new_check
    finally:
        home.close()
