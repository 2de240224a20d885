"""Switching the interface language at run time: every screen redraws at once and keeps its state, the
choice is saved with the account, and a saved choice applies at unlock unless --lang or FORGE_TUI_LANG
chose the language for this run."""

from __future__ import annotations

from textual.widgets import Button, Input, Select
from textual.widgets._footer import FooterKey

from forge_tui import i18n
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.localized import TLabel
from forge_tui.ui.messages import SwitchLanguage
from forge_tui.ui.screens.audition import AuditionScreen
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.settings import SettingsScreen
from forge_tui.ui.screens.unlock import UnlockScreen
from forge_tui.ui.widgets.audition_card import AuditionCard
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import (
    at_datasets,
    batch_done,
    make_user,
    open_audition,
    prepare_backend,
    static_text,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.ui.test_palette import run_command


def footer_words(app: ForgeApp) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


def labels(app: ForgeApp) -> list[str]:
    return [str(label.render()) for label in app.screen.query(TLabel)]


def saved_language(home: Home) -> str | None:
    return SettingsService(home, AccountService(home).get("alice")).language()


def streaming(screen: AuditionScreen) -> bool:
    """A card has two pieces of its answer or more, and more to come."""
    session = screen.session
    return session is not None and any(len(card.parts) >= 2 and not card.finished for card in session.cards)


async def test_switching_on_audition_keeps_the_streaming_cards_and_redraws_the_labels(
    home: Home, fake: FakeOllama
) -> None:
    prepare_backend(home, fake)
    fake.token_latency = 0.05  # answers of 20-60 pieces stream for 1 to 3 s
    app = ForgeApp(home)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_audition(pilot)
        assert "Template" in labels(app) and "Generate" in footer_words(app)
        screen.query_one("#seed", Input).value = "7"
        screen.query_one("#paraphrase-model", Input).value = ""  # the cards start at once
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: streaming(screen), timeout=30)
        session, cards = screen.session, list(screen.query(AuditionCard))
        assert session is not None
        live = next(card for card in session.cards if len(card.parts) >= 2 and not card.finished)
        pieces = len(live.parts)

        app.post_message(SwitchLanguage("zh_TW"))  # as Settings' Language and the palette ask
        await wait_until(pilot, lambda: "產生" in footer_words(app), timeout=1)
        assert isinstance(app.screen, AuditionScreen)
        assert {"範本", "卡片數", "產生模型"} <= set(labels(app)), labels(app)
        assert "Template" not in labels(app)
        assert str(screen.query_one("#generate", Button).label).startswith("產生")
        assert "加入星號卡片" in footer_words(app)
        assert static_text(app.screen, "#header-dataset").startswith("資料集：")
        # The same batch and the same card widgets, and they stream on.
        assert screen.session is session and list(screen.query(AuditionCard)) == cards
        assert not live.finished
        await wait_until(pilot, lambda: batch_done(screen), timeout=30)
        assert len(live.parts) > pieces and live.finished
        assert saved_language(home) == "zh_TW"


async def test_switching_before_unlock_keeps_what_was_typed_and_help_follows(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_screen(pilot, UnlockScreen)
        await type_text(pilot, "half-typed")
        await run_command(pilot, "language")
        await wait_until(pilot, lambda: "密碼" in labels(app))
        assert isinstance(app.screen, UnlockScreen)
        assert app.screen.query_one("#password", Input).value == "half-typed"
        assert labels(app) == ["解鎖 forge-tui", "使用者名稱", "密碼"]
        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        assert static_text(app.screen, "#help-title") == "說明 — 解鎖"
        assert static_text(app.screen, "#help-close") == "按 esc 關閉說明。"  # the key as bound
        # Back in English from the palette over the help.
        await run_command(pilot, "language")
        await wait_until(pilot, lambda: i18n.current() == "en" and isinstance(app.screen, HelpScreen))
        assert static_text(app.screen, "#help-title") == "Help — Unlock"
        # Before unlock there is no account to save it in.
        assert saved_language(home) is None


async def test_the_saved_choice_applies_at_unlock_unless_the_run_chose(home: Home) -> None:
    make_user(home)
    SettingsService(home, AccountService(home).get("alice")).save_language("zh_TW")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        assert labels(app)[0] == "Unlock forge-tui"  # before unlock: the environment's language
        await at_datasets(pilot)
        await wait_until(pilot, lambda: "範本" in footer_words(app))
        assert i18n.current() == "zh_TW"
    i18n.start("en", {})  # --lang en
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await at_datasets(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        assert "Templates" in footer_words(app) and i18n.current() == "en"


async def test_language_in_settings_applies_at_once_and_is_saved(home: Home) -> None:
    make_user(home)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await at_datasets(pilot)
        await pilot.press("s")
        await wait_for_screen(pilot, SettingsScreen)
        app.screen.query_one("#language", Select).value = "zh_TW"
        await wait_until(pilot, lambda: "範本" in footer_words(app) or "儲存" in footer_words(app))
        assert isinstance(app.screen, SettingsScreen) and "語言" in labels(app)
        assert saved_language(home) == "zh_TW"
        await pilot.press("escape")  # back to Datasets
        await wait_for_screen(pilot, DatasetsScreen)
        assert "範本" in footer_words(app)


async def test_the_note_about_the_language_is_a_toast(home: Home) -> None:
    """What forge_tui.cli.main() passes when the locale asked for Simplified Chinese."""
    note = i18n.start(None, {"LANG": "zh_CN.UTF-8"})
    assert note == "簡體中文介面尚未翻譯，因此 forge-tui 以繁體中文顯示。"
    app = ForgeApp(home, notice=note)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = [(n.title, n.message) for n in app._notifications]
        assert shown == [("語言", note)]
