"""Pilot tests: first run, unlock, wrong password, the Datasets screen and the idle lock."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import DataTable, Input, Static

from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.home import Home, open_home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.first_run import FirstRunScreen, RecoveryKeyScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from tests.conftest import prepare_home_dir
from tests.passwords import PASSWORD
from tests.ui.helpers import error_text, make_user, type_text, unlock, wait_for_screen, wait_for_workers, wait_until


async def test_first_run_creates_account_shows_recovery_key_then_datasets(home: Home) -> None:
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, FirstRunScreen)
        await type_text(pilot, "alice")
        await pilot.press("tab")
        await type_text(pilot, "Alice A")
        await pilot.press("tab")
        await type_text(pilot, PASSWORD)
        await pilot.press("tab")
        await type_text(pilot, PASSWORD)
        await pilot.press("enter")
        await wait_for_screen(pilot, RecoveryKeyScreen)
        key = str(app.screen.query_one("#recovery-key", Static).render())
        assert AccountService(home).check_recovery_key("alice", key)
        await pilot.press("enter")
        await wait_for_screen(pilot, DatasetsScreen)
        assert app.dataset_name == "default"
        assert app.username == "Alice A"
    assert AccountService(home).usernames() == ["alice"]


async def test_first_run_refuses_mismatched_passwords_and_short_ones(home: Home) -> None:
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, FirstRunScreen)
        await type_text(pilot, "bob")
        await pilot.press("tab", "tab")
        await type_text(pilot, "password-one")
        await pilot.press("tab")
        await type_text(pilot, "password-two")
        await pilot.press("enter")
        await pilot.pause()
        assert "differ" in error_text(app, "#first-run-error")
        app.screen.query_one("#password", Input).value = "short"
        app.screen.query_one("#password2", Input).value = "short"
        await pilot.click("#create")
        await wait_for_workers(pilot)
        assert "at least 8 characters" in error_text(app, "#first-run-error")
        assert isinstance(app.screen, FirstRunScreen)
    assert AccountService(home).usernames() == []


async def test_unlock_opens_datasets_screen(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, UnlockScreen)
        # The only account is filled in; the password field has focus.
        assert app.screen.query_one("#username", Input).value == "alice"
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert app.workspace is not None and not app.workspace.unlocked.is_locked


async def test_wrong_password_is_refused_then_rate_limited(make_home) -> None:  # type: ignore[no-untyped-def]
    home = make_home("max_unlock_attempts = 3")
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        for attempt in range(4):
            await unlock(pilot, f"wrong password {attempt}")
            await wait_for_workers(pilot)
            message = error_text(app, "#unlock-error")
            if attempt < 3:
                assert message == "Wrong password."
                assert app.screen.query_one("#password", Input).value == ""
            else:
                assert message.startswith("Too many attempts — wait ")
                assert message.endswith(" s")
        assert isinstance(app.screen, UnlockScreen)
        assert app.workspace is None


async def test_datasets_screen_create_switch_rename_archive(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1

        await pilot.press("n")
        await wait_for_screen(pilot, TextPrompt)
        await pilot.press("enter")  # an empty name is refused inside the dialog
        assert "needs a name" in error_text(app, "#prompt-error")
        await type_text(pilot, "support chats")
        await pilot.press("enter")
        await wait_for_screen(pilot, DatasetsScreen)
        assert table.row_count == 2

        # The new dataset is selected; Enter switches to it and the header follows.
        await pilot.press("enter")
        await pilot.pause()
        assert app.dataset_name == "support chats"

        await pilot.press("r")
        await wait_for_screen(pilot, TextPrompt)
        app.screen.query_one(Input).value = "Support chats v2"
        await pilot.press("enter")
        await wait_for_screen(pilot, DatasetsScreen)
        names = [table.get_row_at(i)[1] for i in range(table.row_count)]
        assert "Support chats v2" in names

        # Archiving hides it and it stops being current; "h" shows archived ones again.
        await pilot.press("a")
        await pilot.pause()
        assert table.row_count == 1
        assert app.dataset_name == "default"
        await pilot.press("h")
        await pilot.pause()
        assert table.row_count == 2
        archived_row = next(i for i in range(table.row_count) if table.get_row_at(i)[1] == "Support chats v2")
        assert "archived" in table.get_row_at(archived_row)[5]
        table.move_cursor(row=archived_row)
        await pilot.press("a")
        await pilot.pause()

    user = AccountService(home).get("alice")
    listed = {d.name: d for d in DatasetService(home, user).list(include_archived=True)}
    assert set(listed) == {"default", "Support chats v2"}
    assert not listed["Support chats v2"].archived


async def test_current_dataset_survives_restart(fast_home_dir: Path) -> None:
    first = open_home(fast_home_dir)
    make_user(first)
    user = AccountService(first).get("alice")
    DatasetService(first, user).create("second")
    app = ForgeApp(first)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        table = app.screen.query_one(DataTable)
        row = next(i for i in range(table.row_count) if table.get_row_at(i)[1] == "second")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
    first.close()

    again = open_home(fast_home_dir)
    app = ForgeApp(again)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert app.dataset_name == "second"
    again.close()


async def test_idle_lock_hides_content_and_returns_to_same_screen(tmp_path: Path) -> None:
    # 0.01 minutes: the app locks after 0.6 s without input.
    home = open_home(prepare_home_dir(tmp_path / "home", "lock_after_minutes = 0.01"))
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        await pilot.press("escape")
        await wait_for_screen(pilot, DatasetsScreen)
        workspace = app.workspace
        assert workspace is not None

        await wait_for_screen(pilot, UnlockScreen)
        assert workspace.unlocked.is_locked  # the keys are gone
        # Only the lock screen is drawn: nothing of the datasets screen shows.
        await wait_until(pilot, lambda: "Locked" in app.export_screenshot())
        drawn = app.export_screenshot()
        assert "dataset:" not in drawn and "Examples" not in drawn
        assert app.screen.query_one("#username", Input).disabled

        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert not workspace.unlocked.is_locked
        assert app.workspace is workspace
    home.close()


async def test_help_lists_the_keys_of_the_screen(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        keys = str(app.screen.query_one(".help-keys", Static).render())
        for description in ("New", "Rename", "Archive", "Verify", "Lock"):
            assert description in keys


async def test_verify_reports_a_tampered_row_and_the_app_keeps_running(home: Home) -> None:
    import sqlite3

    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.services.examples import ExampleService

    make_user(home)
    unlocked = AccountService(home).unlock("alice", PASSWORD)
    dataset = DatasetService(home, unlocked.user).current()
    assert dataset is not None
    items = [(ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), ExampleMeta()) for i in range(3)]
    ids = ExampleService(home, unlocked).add_many(dataset.id, items)
    with sqlite3.connect(home.db_path) as db:
        # Move one row's sealed answer into another row.
        blob = db.execute("SELECT output FROM example WHERE id = ?", (ids[0],)).fetchone()[0]
        db.execute("UPDATE example SET output = ? WHERE id = ?", (blob, ids[1]))

    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("v")
        await wait_for_workers(pilot)
        damaged = [n for n in app._notifications if "damaged" in (n.title or "")]
        assert damaged, [n.message for n in app._notifications]
        assert ids[1] in damaged[0].message and "output" in damaged[0].message
        assert "1 of 3" in damaged[0].message
        assert isinstance(app.screen, DatasetsScreen)


async def test_a_burst_of_keys_with_tab_fills_each_field(home: Home) -> None:
    """Over SSH, "alice<Tab>Alice" can arrive in one read: the text after the Tab goes to the next field."""
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, FirstRunScreen)
        driver = app._driver
        assert driver is not None
        for key in ("z", "o", "e", "tab", "Z", "tab", "p"):
            driver.send_message(events.Key(key, key if len(key) == 1 else None))
        await pilot.pause(0.3)
        values = [i.value for i in app.screen.query(Input).results(Input)]
        assert values[:3] == ["zoe", "Z", "p"]
