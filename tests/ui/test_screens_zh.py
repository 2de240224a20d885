"""The workspace screens in Traditional Chinese, and back to English after a switch, their state kept."""

from __future__ import annotations

from textual.widgets import Button, DataTable, Label, Static
from textual.widgets.data_table import ColumnKey

from forge_tui import i18n
from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.screens.review import ReviewScreen
from forge_tui.ui.screens.settings import SettingsScreen
from tests.ui.helpers import (
    at_datasets,
    fill,
    make_user,
    open_screen,
    static_text,
    type_text,
    wait_for_screen,
    wait_until,
)


def header(table: DataTable[object], key: str) -> str:
    return table.columns[ColumnKey(key)].label.plain


def labels(screen: SettingsScreen) -> list[str]:
    return [str(label.content) for label in screen.query(Label)]


async def test_datasets_screen_switches_to_zh_tw_and_back_keeping_the_cursor(home: Home) -> None:
    make_user(home)
    DatasetService(home, AccountService(home).get("alice")).create("support")
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        screen = app.screen
        assert isinstance(screen, DatasetsScreen)
        table = screen.query_one(DataTable)
        table.move_cursor(row=1)
        summary = screen.query_one("#datasets-summary", Static)

        app.switch_language(i18n.TRADITIONAL_CHINESE, save=False)
        await pilot.pause()
        assert [header(table, k) for k in ("name", "examples", "state")] == ["名稱", "範例", "狀態"]
        assert str(summary.content).startswith("2 個資料集 · ")
        assert "每個範例都屬於一個資料集" in screen.help_text()
        assert table.cursor_row == 1 and table.row_count == 2

        app.switch_language(i18n.ENGLISH, save=False)
        await pilot.pause()
        assert [header(table, k) for k in ("name", "examples", "state")] == ["Name", "Examples", "State"]
        assert str(summary.content).startswith("2 datasets · ")
        assert table.cursor_row == 1


async def test_a_refused_rename_says_so_in_zh_tw(home: Home) -> None:
    """The toast's title (report's message id) is translated where it is shown."""
    make_user(home)
    DatasetService(home, AccountService(home).get("alice")).create("support")
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=next(i for i in range(table.row_count) if table.get_row_at(i)[1] == "default"))
        app.switch_language(i18n.TRADITIONAL_CHINESE, save=False)
        await pilot.pause()
        await pilot.press("r")
        await wait_for_screen(pilot, TextPrompt)
        prompt = app.screen
        assert isinstance(prompt, TextPrompt)
        assert "重新命名為" in str(prompt.query_one(".dialog-title", Label).content)
        await pilot.press("ctrl+u")
        await type_text(pilot, "support")
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.title == "無法重新命名" for n in app._notifications))


async def test_settings_labels_follow_the_language_and_the_typed_values_stay(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "s", SettingsScreen)
        screen.query_one("#api-key-env").value = "MY_KEY"  # type: ignore[attr-defined]

        app.switch_language(i18n.TRADITIONAL_CHINESE, save=False)
        await pilot.pause()
        assert "模型伺服器" in labels(screen)
        assert "並行數" not in labels(screen)  # the label is the whole sentence
        assert "同時請求數（並行數）" in labels(screen)
        assert str(screen.query_one("#save", Button).label) == "儲存"
        assert "{add}" not in screen.help_text() and "端點" in screen.help_text()

        app.switch_language(i18n.ENGLISH, save=False)
        await pilot.pause()
        assert "Model server" in labels(screen)
        assert str(screen.query_one("#save", Button).label) == "Save"
        assert screen.query_one("#api-key-env").value == "MY_KEY"  # type: ignore[attr-defined]


async def test_jobs_help_names_the_keys_in_zh_tw(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "b", JobsScreen)
        app.switch_language(i18n.TRADITIONAL_CHINESE, save=False)
        await pilot.pause()
        text = screen.help_text()
        assert text.startswith("工作會在無人看管時產生大量範例")
        assert "n 依你最後開啟的範本規劃新工作" in text


async def test_examples_and_review_redraw_their_lines_in_zh_tw(home: Home) -> None:
    fill(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        examples = await open_screen(pilot, "e", ExamplesScreen)
        app.switch_language(i18n.TRADITIONAL_CHINESE, save=False)
        await pilot.pause()
        assert examples.search_bar.placeholder.startswith("搜尋所有欄位")

        await pilot.press("q")
        await wait_for_screen(pilot, ReviewScreen)
        review = app.screen
        await wait_until(pilot, lambda: "最差的在前" in static_text(review, "#review-status"))
        app.switch_language(i18n.ENGLISH, save=False)
        await pilot.pause()
        assert "worst first" in static_text(review, "#review-status")
