"""Pilot: the Settings screen against the fake Ollama, and the header's model-server state."""

from __future__ import annotations

import socket

from textual.widgets import Input, Select, Static

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.settings import SettingsService
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.settings import SettingsScreen
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import error_text, make_user, unlock, wait_for_screen, wait_until


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


async def test_settings_pick_models_from_the_live_list_and_save(home: Home) -> None:
    make_user(home)
    user = AccountService(home).get("alice")
    with FakeOllama() as fake:
        SettingsService(home, user).save_backend(BackendSettings(base_url=fake.base_url))
        app = ForgeApp(home)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(pilot)
            await wait_for_screen(pilot, DatasetsScreen)
            await wait_until(pilot, lambda: app.backend_status == "● Ollama")

            await pilot.press("s")
            await wait_for_screen(pilot, SettingsScreen)
            status = app.screen.query_one("#settings-status", Static)
            await wait_until(pilot, lambda: "models" in str(status.render()))
            assert "Ollama 0.12.6" in str(status.render())

            generation = app.screen.query_one("#generation-model", Select)
            labels = [str(prompt) for prompt, _ in generation._options]
            assert any(label.startswith("llama3.2:latest") and "Q4_K_M" in label for label in labels), labels
            generation.value = "llama3.2:latest"
            app.screen.query_one("#paraphrase-model", Select).value = "qwen3:0.6b"
            app.screen.query_one("#judge-model", Select).value = "qwen3:0.6b"
            concurrency = app.screen.query_one("#concurrency", Input)
            concurrency.value = "0"
            await pilot.press("ctrl+s")
            assert "Concurrency is a whole number between 1 and 1024" in error_text(app, "#settings-error")
            concurrency.value = "8"
            app.screen.query_one("#first-byte", Input).value = "120"
            app.screen.query_one("#max-tokens", Input).value = "512"
            app.screen.query_one("#answer-time-limit", Input).value = "90"
            await pilot.press("ctrl+s")
            await pilot.pause()

        saved = SettingsService(home, user).backend()
        assert saved.generation_model == "llama3.2:latest" and saved.paraphrase_model == "qwen3:0.6b"
        assert saved.judge_model == "qwen3:0.6b"
        assert saved.concurrency == 8 and saved.first_byte_timeout == 120
        assert saved.max_tokens == 512 and saved.answer_time_limit == 90
        assert saved.base_url == fake.base_url


async def test_unreachable_server_shows_in_the_header_and_says_how_to_fix_it(home: Home) -> None:
    make_user(home)
    user = AccountService(home).get("alice")
    with FakeOllama() as fake:
        SettingsService(home, user).save_backend(BackendSettings(base_url=fake.base_url))
        app = ForgeApp(home)
        async with app.run_test(size=(80, 24)) as pilot:
            await unlock(pilot, PASSWORD)
            await wait_for_screen(pilot, DatasetsScreen)
            await wait_until(pilot, lambda: app.backend_status == "● Ollama")

            dead = _dead_url()
            await pilot.press("s")
            await wait_for_screen(pilot, SettingsScreen)
            app.screen.query_one("#base-url", Input).value = dead
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.backend_status == "✗ Ollama down")
            warnings = [n.message for n in app._notifications if n.title == "Model server"]
            assert any(f"Ollama is not answering at {dead}" in m and "ollama serve" in m for m in warnings)
            # Everything that needs no model still works.
            await pilot.press("escape")
            await wait_for_screen(pilot, DatasetsScreen)


async def test_a_base_url_without_http_is_refused_with_a_sentence_and_nothing_is_saved(home: Home) -> None:
    make_user(home)
    user = AccountService(home).get("alice")
    dead = _dead_url()
    SettingsService(home, user).save_backend(BackendSettings(base_url=dead))
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_for_screen(pilot, DatasetsScreen)
        await pilot.press("s")
        await wait_for_screen(pilot, SettingsScreen)
        app.screen.query_one("#base-url", Input).value = "localhost:11434"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert error_text(app, "#settings-error") == (
            "The base URL starts with http:// or https:// and names a host, e.g. http://localhost:11434."
        )
        assert app.screen.query_one("#base-url", Input).value == "localhost:11434"  # kept for mending
    assert SettingsService(home, user).backend().base_url == dead
