"""Pilot at 80×24: Anthropic is a kind in Settings and in the endpoint dialog; an Anthropic endpoint is
added against the fake Anthropic server, with its key read from the variable the dialog names."""

from __future__ import annotations

import pytest
from textual.widgets import Input, Select

from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.endpoint import EndpointDialog
from forge_tui.ui.screens.settings import SettingsScreen
from forge_tui.ui.widgets.endpoint_list import EndpointList
from tests.fake_anthropic import FakeAnthropic
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import open_screen, prepare_backend, static_text, wait_for_screen, wait_for_workers, wait_until

KEY_ENV = "FORGE_TEST_UI_ANTHROPIC_KEY"
KEY = "sk-ant-ui-test-key"


async def test_an_anthropic_endpoint_is_added_in_settings(
    home: Home, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    prepare_backend(home, fake)
    app = ForgeApp(home)
    with FakeAnthropic(api_key=KEY) as claude:
        url_of_claude = claude.base_url
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_screen(pilot, "s", SettingsScreen)
            kinds = screen.query_one("#kind", Select)
            assert ("Anthropic", "anthropic") in kinds._options
            kinds.value = "anthropic"
            await pilot.pause()
            assert screen.query_one("#base-url", Input).placeholder == "https://api.anthropic.com/v1"

            screen.query_one(EndpointList).focus()
            await pilot.press("a")
            await wait_for_screen(pilot, EndpointDialog)
            dialog = pilot.app.screen
            dialog.query_one("#endpoint-kind", Select).value = "anthropic"
            await pilot.pause()
            url, key = dialog.query_one("#endpoint-url", Input), dialog.query_one("#endpoint-key", Input)
            assert (url.placeholder, key.placeholder) == ("https://api.anthropic.com", "e.g. ANTHROPIC_API_KEY")
            dialog.query_one("#endpoint-name", Input).value = "claude"
            url.value, key.value = claude.base_url, KEY_ENV
            await pilot.press("ctrl+s")
            await wait_for_screen(pilot, SettingsScreen)
            await wait_until(pilot, lambda: "claude: 2 models" in static_text(screen, "#endpoints-status"))
            await wait_for_workers(pilot)
    [saved] = SettingsService(home, AccountService(home).get("alice")).backend().endpoints
    assert (saved.kind, saved.url, saved.api_key_env) == ("anthropic", url_of_claude, KEY_ENV)
    assert saved.models == ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"]
    assert claude.headers == [] and KEY not in saved.model_dump_json()
