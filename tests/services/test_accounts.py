"""Accounts against a real SQLite file: unlock, passwords, recovery, tampering, the rate limit."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.accounts import (
    AccountDamaged,
    AccountService,
    AuthFailed,
    CreatedUser,
    TooManyAttempts,
    Unlocked,
)
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.services.home import Home
from forge_tui.store.vault import SealBroken
from tests.passwords import PASSWORD

WRONG = "not the password"
RESET_PASSWORD = "a repaired password"
HomeFactory = Callable[..., Home]  # the `make_home` fixture of tests/conftest.py
TOO_MANY = re.compile(r"^Too many attempts — wait \d+ s$")


@dataclass
class Account:
    home: Home
    accounts: AccountService
    created: CreatedUser

    def unlock(self, password: str = PASSWORD) -> Unlocked:
        return self.accounts.unlock(self.created.user.username, password)

    def datasets(self, unlocked: Unlocked) -> DatasetService:
        return DatasetService(self.home, unlocked.user)

    def examples(self, unlocked: Unlocked) -> ExampleService:
        return ExampleService(self.home, unlocked)


def content(n: int, tag: str = "") -> ExampleContent:
    return ExampleContent(
        system_prompt=f"You are helpful {tag}{n}",
        user_prompt=f"Question {tag}{n}?",
        slots={"topic": f"topic {n}", "tone": "dry"},
        output=f"Answer {tag}{n}.",
        tool_calls=[{"name": "lookup", "arguments": {"q": n}}],
        rejected=[f"bad answer {n}"],
    )


def opened(items: list[Example | BrokenExample]) -> list[Example]:
    assert all(isinstance(i, Example) for i in items), items
    return [i for i in items if isinstance(i, Example)]


def add_examples(account: Account, unlocked: Unlocked, dataset_id: int, count: int, tag: str = "") -> list[str]:
    service = account.examples(unlocked)
    return [service.add(dataset_id, content(n, tag), ExampleMeta(model="gemma3:270m")) for n in range(count)]


def make_account(home: Home, username: str = "alice") -> Account:
    accounts = AccountService(home)
    return Account(home, accounts, accounts.create_user(username, "Alice", PASSWORD))


@pytest.fixture
def alice(home: Home) -> Account:
    return make_account(home)


def current_id(account: Account, unlocked: Unlocked) -> int:
    current = account.datasets(unlocked).current()
    assert current is not None
    return current.id


# --- create and unlock ---------------------------------------------------------
def test_create_and_unlock_round_trip(alice: Account) -> None:
    assert alice.accounts.usernames() == ["alice"]
    assert alice.accounts.default_username() == "alice"
    unlocked = alice.unlock()
    assert unlocked.user.username == "alice"
    assert unlocked.user.display_name == "Alice"
    assert not unlocked.is_locked
    ds_id = current_id(alice, unlocked)
    ids = add_examples(alice, unlocked, ds_id, 3)

    # A fresh unlock (a new process would do the same) reads what the first one wrote.
    again = alice.unlock()
    service = alice.examples(again)
    got = opened(service.page(ds_id))
    assert [e.id for e in got] == ids
    assert got[1].content == content(1)
    assert got[1].meta.model == "gemma3:270m"
    assert service.get(ids[2]).content.output == "Answer 2."


def test_username_is_case_and_space_insensitive_on_unlock(alice: Account) -> None:
    assert alice.accounts.unlock("  Alice ", PASSWORD).user.username == "alice"


def test_duplicate_username_conflicts(alice: Account) -> None:
    with pytest.raises(Conflict, match="already an account named 'alice'"):
        alice.accounts.create_user("ALICE", "", PASSWORD)


def test_short_password_is_refused(home: Home) -> None:
    with pytest.raises(InvalidInput):
        AccountService(home).create_user("bob", "", "short")


def test_wrong_password_fails(alice: Account) -> None:
    with pytest.raises(AuthFailed, match="Wrong password"):
        alice.unlock(WRONG)


def test_unknown_user_fails(alice: Account) -> None:
    with pytest.raises(AuthFailed, match="No account named 'mallory'"):
        alice.accounts.unlock("mallory", PASSWORD)


def test_lock_drops_the_key(alice: Account) -> None:
    unlocked = alice.unlock()
    unlocked.lock()
    assert unlocked.is_locked
    with pytest.raises(AuthFailed, match="locked"):
        unlocked.data_key()


# --- passwords -----------------------------------------------------------------
def test_change_password_keeps_data_and_old_password_fails(alice: Account) -> None:
    unlocked = alice.unlock()
    ds_id = current_id(alice, unlocked)
    ids = add_examples(alice, unlocked, ds_id, 3)

    alice.accounts.change_password("alice", PASSWORD, "a brand new secret")

    with pytest.raises(AuthFailed):
        alice.unlock(PASSWORD)
    after = alice.unlock("a brand new secret")
    assert [e.id for e in opened(alice.examples(after).page(ds_id))] == ids


def test_change_password_needs_the_old_one(alice: Account) -> None:
    with pytest.raises(AuthFailed):
        alice.accounts.change_password("alice", WRONG, "a brand new secret")
    alice.unlock(PASSWORD)


def test_reset_with_recovery_key_keeps_data(alice: Account) -> None:
    unlocked = alice.unlock()
    ds_id = current_id(alice, unlocked)
    ids = add_examples(alice, unlocked, ds_id, 3)
    typed = alice.created.recovery_key.replace("-", "").lower()
    assert alice.accounts.check_recovery_key("alice", typed)

    outcome = alice.accounts.reset_password("alice", "forgot it so reset", typed)

    assert outcome.sealed_datasets == []
    assert outcome.recovery_key != alice.created.recovery_key
    with pytest.raises(AuthFailed):
        alice.unlock(PASSWORD)
    after = alice.unlock("forgot it so reset")
    assert [e.id for e in opened(alice.examples(after).page(ds_id))] == ids
    assert all(d.readable for d in alice.datasets(after).list(include_archived=True))
    # The old recovery key is replaced by the new one.
    assert not alice.accounts.check_recovery_key("alice", alice.created.recovery_key)
    assert alice.accounts.check_recovery_key("alice", outcome.recovery_key)


def test_reset_with_wrong_recovery_key_fails_and_changes_nothing(alice: Account) -> None:
    assert not alice.accounts.check_recovery_key("alice", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    with pytest.raises(AuthFailed, match="recovery key does not match"):
        alice.accounts.reset_password("alice", "forgot it so reset", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    alice.unlock(PASSWORD)


def test_reset_without_recovery_key_keeps_old_datasets_sealed(alice: Account) -> None:
    unlocked = alice.unlock()
    datasets = alice.datasets(unlocked)
    default_id = current_id(alice, unlocked)
    add_examples(alice, unlocked, default_id, 4)
    notes = datasets.create("notes", "my notes")
    add_examples(alice, unlocked, notes.id, 2)
    old_archive = datasets.create("old archive")
    datasets.set_archived(old_archive.id, True)
    at_risk = {d.name for d in alice.accounts.datasets_at_risk("alice")}
    assert at_risk == {"default", "notes", "old archive"}

    outcome = alice.accounts.reset_password("alice", "start all over again", None)

    assert sorted(outcome.sealed_datasets) == ["default", "notes", "old archive"]
    after = alice.unlock("start all over again")
    listed = {d.name: d for d in alice.datasets(after).list(include_archived=True)}
    # Nothing was deleted: the old datasets and their rows are still there, just unreadable.
    assert {"default", "notes", "old archive"} <= set(listed)
    assert listed["default"].example_count == 4
    assert listed["notes"].example_count == 2
    assert listed["notes"].description == "my notes"
    for name in ("default", "notes", "old archive"):
        assert listed[name].readable is False

    service = alice.examples(after)
    for ds_id in (default_id, notes.id):
        with pytest.raises(Conflict, match="sealed with a key this account no longer has"):
            service.page(ds_id)
        with pytest.raises(Conflict, match=r"password was reset without the recovery key"):
            list(service.scan(ds_id))
        with pytest.raises(Conflict):
            service.add(ds_id, content(99))

    current = alice.datasets(after).current()
    assert current is not None
    assert current.name == "default (after reset)"
    assert current.readable
    new_id = service.add(current.id, content(7))
    assert service.get(new_id).content == content(7)
    assert alice.accounts.datasets_at_risk("alice")[0].name == "default (after reset)"


def test_second_reset_without_key_picks_a_free_name(alice: Account) -> None:
    alice.accounts.reset_password("alice", "start all over again", None)
    outcome = alice.accounts.reset_password("alice", "and once more again", None)
    assert outcome.sealed_datasets == ["default (after reset)"]
    after = alice.unlock("and once more again")
    current = alice.datasets(after).current()
    assert current is not None
    assert current.name == "default (after reset) 2"


# --- tampering with the raw table ----------------------------------------------
def raw_db(home: Home) -> sqlite3.Connection:
    conn = sqlite3.connect(home.db_path, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


@pytest.mark.parametrize("params", ['{"memory": 1}', '{"memory_kib": 1, "iterations": 1, "lanes": 1}', "[]"])
def test_damaged_key_settings_are_reported_and_a_reset_with_the_recovery_key_repairs_them(
    alice: Account, params: str
) -> None:
    raw_db(alice.home).execute("UPDATE user SET kdf_params = ?", (params,))
    with pytest.raises(AccountDamaged, match="reset the password with `forge-tui user reset-password`"):
        alice.unlock()
    alice.accounts.reset_password("alice", RESET_PASSWORD, alice.created.recovery_key)
    assert alice.unlock(RESET_PASSWORD).data_key()


def test_tampered_and_moved_rows_are_reported_not_raised(alice: Account) -> None:
    unlocked = alice.unlock()
    ds_id = current_id(alice, unlocked)
    ids = add_examples(alice, unlocked, ds_id, 5)
    copied_to, flipped_row = ids[1], ids[3]

    with raw_db(alice.home) as conn:
        (output_of_0,) = conn.execute("SELECT output FROM example WHERE id = ?", (ids[0],)).fetchone()
        conn.execute("UPDATE example SET output = ? WHERE id = ?", (output_of_0, copied_to))
        (prompt,) = conn.execute("SELECT user_prompt FROM example WHERE id = ?", (flipped_row,)).fetchone()
        damaged = bytearray(prompt)
        damaged[len(damaged) // 2] ^= 0x40
        conn.execute("UPDATE example SET user_prompt = ? WHERE id = ?", (bytes(damaged), flipped_row))
    conn.close()

    service = alice.examples(alice.unlock())
    for listing in (service.page(ds_id), list(service.scan(ds_id))):
        assert [item.id for item in listing] == ids
        broken = {item.id: item for item in listing if isinstance(item, BrokenExample)}
        assert set(broken) == {copied_to, flipped_row}
        assert copied_to in broken[copied_to].reason
        assert "output" in broken[copied_to].reason
        assert flipped_row in broken[flipped_row].reason
        assert "user_prompt" in broken[flipped_row].reason
        good = [item for item in listing if isinstance(item, Example)]
        assert [e.content.output for e in good] == ["Answer 0.", "Answer 2.", "Answer 4."]

    with pytest.raises(SealBroken, match=copied_to):
        service.get(copied_to)
    assert service.get(ids[0]).content.output == "Answer 0."


def test_row_moved_to_another_dataset_does_not_open(alice: Account) -> None:
    unlocked = alice.unlock()
    ds_id = current_id(alice, unlocked)
    other = alice.datasets(unlocked).create("other")
    ids = add_examples(alice, unlocked, ds_id, 2)
    with raw_db(alice.home) as conn:
        conn.execute("UPDATE example SET dataset_id = ? WHERE id = ?", (other.id, ids[0]))
    conn.close()
    service = alice.examples(unlocked)
    (moved,) = service.page(other.id)
    assert isinstance(moved, BrokenExample)
    assert ids[0] in moved.reason
    assert [e.id for e in opened(service.page(ds_id))] == [ids[1]]


def test_row_copied_under_a_new_id_does_not_open(alice: Account) -> None:
    unlocked = alice.unlock()
    ds_id = current_id(alice, unlocked)
    (original,) = add_examples(alice, unlocked, ds_id, 1)
    forged = "f" * 32
    with raw_db(alice.home) as conn:
        conn.execute(
            "INSERT INTO example (id, dataset_id, template_id, system_prompt, user_prompt, slots, output,"
            " tool_calls, rejected, rejected_count, model, params, prompt_tokens, completion_tokens,"
            " created_at, updated_at) SELECT ?, dataset_id, template_id, system_prompt, user_prompt, slots, output,"
            " tool_calls, rejected, rejected_count, model, params, prompt_tokens, completion_tokens,"
            " created_at, updated_at FROM example WHERE id = ?",
            (forged, original),
        )
    conn.close()
    items = alice.examples(unlocked).page(ds_id)
    assert [type(i) for i in items] == [Example, BrokenExample]
    assert items[1].id == forged
    assert isinstance(items[1], BrokenExample)
    assert forged in items[1].reason


def test_other_users_dataset_is_not_found(home: Home) -> None:
    alice = make_account(home, "alice")
    bob = make_account(home, "bob")
    a = alice.unlock()
    alice_ds = current_id(alice, a)
    add_examples(alice, a, alice_ds, 1)
    with pytest.raises(NotFound):
        bob.examples(bob.unlock()).page(alice_ds)


# --- the rate limit (in one process) -------------------------------------------
def fail_times(account: Account, n: int) -> None:
    for _ in range(n):
        with pytest.raises(AuthFailed):
            account.unlock(WRONG)


def test_sixth_attempt_within_the_window_is_refused(alice: Account) -> None:
    fail_times(alice, 5)
    assert alice.accounts.wait_seconds("alice") > 0
    with pytest.raises(TooManyAttempts) as info:
        alice.unlock(PASSWORD)  # even the right password waits
    assert TOO_MANY.match(str(info.value)), str(info.value)
    assert 1 <= info.value.wait_seconds <= 60
    assert info.value.exit_code == 4
    # Refused attempts do not extend the wait.
    with pytest.raises(TooManyAttempts) as again:
        alice.unlock(WRONG)
    assert again.value.wait_seconds <= info.value.wait_seconds


def test_limit_is_per_username(home: Home) -> None:
    alice = make_account(home, "alice")
    bob = make_account(home, "bob")
    fail_times(alice, 5)
    with pytest.raises(TooManyAttempts):
        alice.unlock()
    assert bob.unlock().user.username == "bob"


def test_success_resets_the_count(alice: Account) -> None:
    fail_times(alice, 4)
    alice.unlock()
    assert alice.accounts.wait_seconds("alice") == 0
    fail_times(alice, 4)
    alice.unlock()
    fail_times(alice, 5)
    with pytest.raises(TooManyAttempts):
        alice.unlock()


def test_max_unlock_attempts_from_config(make_home: HomeFactory) -> None:
    home = make_home("max_unlock_attempts = 2")
    assert home.config.security.max_unlock_attempts == 2
    account = make_account(home)
    fail_times(account, 2)
    with pytest.raises(TooManyAttempts, match=TOO_MANY):
        account.unlock()


def test_attempts_age_out_of_the_window(make_home: HomeFactory) -> None:
    home = make_home("max_unlock_attempts = 2\nattempt_window_seconds = 0.5")
    account = make_account(home)
    fail_times(account, 2)
    with pytest.raises(TooManyAttempts) as info:
        account.unlock()
    assert info.value.wait_seconds == 1  # rounded up, never "wait 0 s"
    time.sleep(0.6)
    assert account.accounts.wait_seconds("alice") == 0
    assert account.unlock().user.username == "alice"


def test_unknown_usernames_are_limited_too(alice: Account) -> None:
    for _ in range(5):
        with pytest.raises(AuthFailed):
            alice.accounts.unlock("mallory", PASSWORD)
    with pytest.raises(TooManyAttempts):
        alice.accounts.unlock("mallory", PASSWORD)
    alice.unlock()
