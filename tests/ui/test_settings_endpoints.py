"""Pilot at 80×24: the Settings screen's endpoints (add with the models the server lists, a server that
does not answer, a refused name that keeps what was typed, edit, remove with a confirmation) and the
endpoint choice of Audition and of a new job."""

from __future__ import annotations

import socket

from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Input, Select

from forge_tui.core.endpoints import POOL, Endpoint
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.jobs import JobService
from forge_tui.services.settings import SettingsService
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm
from forge_tui.ui.dialogs.endpoint import EndpointDialog
from forge_tui.ui.dialogs.help import HelpScreen
from forge_tui.ui.dialogs.new_job import NewJobForm, PlanPreview
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.screens.settings import SettingsScreen
from forge_tui.ui.widgets.endpoint_list import EndpointList
from forge_tui.ui.widgets.header import ForgeHeader
from tests.fake_ollama import FakeOllama
from tests.in_flight import chat_in_flight
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    open_screen,
    prepare_backend,
    screen_text,
    static_text,
    unlock,
    wait_for_screen,
    wait_for_workers,
    wait_until,
)


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def saved_endpoints(home: Home) -> list[Endpoint]:
    return SettingsService(home, AccountService(home).get("alice")).backend().endpoints


def inside(pilot: Pilot[None], shown: Region) -> bool:
    box = pilot.app.screen.query_one(".dialog").scrollable_content_region
    return pilot.app.screen.region.contains_region(box) and box.contains_region(shown)


async def type_endpoint(pilot: Pilot[None], **fields: str) -> None:
    """Opens the dialog with the table's add key (as bound), fills `fields` and saves with its save key."""
    table = pilot.app.screen.query_one(EndpointList)
    table.focus()
    await pilot.press("a")
    await wait_for_screen(pilot, EndpointDialog)
    for name, value in fields.items():
        pilot.app.screen.query_one(f"#endpoint-{name}", Input).value = value
    await pilot.press("ctrl+s")


async def test_endpoints_are_added_edited_and_removed_in_settings(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    dead = dead_url()
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, "s", SettingsScreen)
        await type_endpoint(pilot, name="gpu1", url=fake.base_url)
        await wait_for_screen(pilot, SettingsScreen)
        await wait_until(pilot, lambda: "gpu1: 2 models" in static_text(screen, "#endpoints-status"))
        table = screen.query_one(EndpointList)
        assert [e.name for e in table.endpoints] == ["gpu1"]
        assert str(table.get_row_at(0)[4]) == "llama3.2:latest, qwen3:0.6b"

        # A server that does not answer is added all the same; the line names its URL.
        await type_endpoint(pilot, name="gpu2", url=dead, max="16")
        await wait_for_screen(pilot, SettingsScreen)
        await wait_until(pilot, lambda: dead in static_text(screen, "#endpoints-status"))
        assert "gpu2: Ollama is not answering at" in static_text(screen, "#endpoints-status")

        # A name taken already: said in a toast, and the dialog opens again as typed.
        await type_endpoint(pilot, name="GPU1", url="http://other:11434")
        await wait_until(pilot, lambda: any("already" in n.message for n in app._notifications))
        await wait_for_screen(pilot, EndpointDialog)
        dialog = pilot.app.screen
        assert dialog.query_one("#endpoint-name", Input).value == "GPU1"
        for selector in ("#endpoint-name", "#endpoint-url", "#endpoint-max", "#save", "#cancel"):
            shown = dialog.query_one(selector).region
            assert shown.width >= 6 and inside(pilot, shown), (selector, shown)
        dialog.query_one("#endpoint-url", Input).value = "nohost"
        await pilot.press("ctrl+s")  # refused in the dialog itself, in one sentence
        assert "starts with http:// or https://" in static_text(dialog, "#endpoint-error")
        await pilot.press("escape")
        await wait_for_screen(pilot, SettingsScreen)

        # Edit the second (its name stays), then remove the first after a confirmation.
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("e")
        await wait_for_screen(pilot, EndpointDialog)
        assert pilot.app.screen.query_one("#endpoint-name", Input).disabled
        pilot.app.screen.query_one("#endpoint-max", Input).value = "8"
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, SettingsScreen)
        await wait_until(pilot, lambda: [e.max_concurrency for e in saved_endpoints(home)] == [32, 8])
        table.move_cursor(row=0)
        await pilot.press("d")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, SettingsScreen)
        await wait_until(pilot, lambda: [e.name for e in table.endpoints] == ["gpu2"])
        assert [e.name for e in saved_endpoints(home)] == ["gpu2"]

        # Audition's endpoint is saved with the form, and the form keeps the endpoints as saved.
        choice = screen.query_one("#endpoint-choice", Select)
        assert choice.value == POOL
        choice.value = "gpu2"
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = SettingsService(home, AccountService(home).get("alice")).backend()
        assert saved.endpoint == "gpu2" and [e.name for e in saved.endpoints] == ["gpu2"]

        await pilot.press("f1")
        await wait_for_screen(pilot, HelpScreen)
        text = screen_text(pilot.app.screen)
        assert "a adds one, e edits, d removes and r reads every endpoint's models again" in text
        await pilot.press("escape")
        await wait_for_workers(pilot)


async def test_a_new_job_runs_on_the_endpoint_chosen_in_its_dialog(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, endpoints=[Endpoint(name="gpu1", url=fake.base_url)], endpoint="gpu1")
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_screen(pilot, "b", JobsScreen)
        await pilot.press("n")
        await wait_for_screen(pilot, NewJobForm)
        form = pilot.app.screen
        choice = form.query_one("#job-endpoint", Select)
        assert choice.value == "gpu1"  # new jobs start with Settings' choice
        assert inside(pilot, choice.region)
        form.query_one("#job-count", Input).value = "2"
        form.query_one("#job-paraphrase_model", Input).value = ""
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, PlanPreview)
        preview = pilot.app.screen
        assert isinstance(preview, PlanPreview) and preview.plan.params["endpoint"] == "gpu1"
        await pilot.press("y")
        await wait_for_screen(pilot, JobsScreen)
        await wait_for_workers(pilot)
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    [job] = JobService(home, workspace.unlocked).list()
    assert job.endpoint == "gpu1"


async def test_the_header_says_how_many_endpoints_answer_and_names_the_one_down(home: Home, fake: FakeOllama) -> None:
    dead = dead_url()
    endpoints = [Endpoint(name="gpu1", url=fake.base_url), Endpoint(name="gpu2", url=dead)]
    prepare_backend(home, fake, endpoints=endpoints)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot)
        await wait_until(pilot, lambda: app.backend_status == "✗ 1 of 2 down")
        (told,) = [n for n in app._notifications if n.title == "Model server"]
        assert told.message.startswith("gpu2: ") and dead in told.message
        SettingsService(home, AccountService(home).get("alice")).save_backend(
            SettingsService(home, AccountService(home).get("alice"))
            .backend()
            .model_copy(update={"endpoints": endpoints[:1]})
        )
        app.check_backend()
        await wait_until(pilot, lambda: app.backend_status == "● 1 endpoint")


async def test_the_header_shows_a_server_at_work_as_busy_not_down(home: Home, fake: FakeOllama) -> None:
    """llama.cpp's server does not list its models while it serves its one request: the header says
    busy (not down, and no notice of a problem to fix), then answering once the request is done."""
    fake.parallel = 1
    fake.listing_waits = True
    fake.first_byte_delay = 4.0
    prepare_backend(home, fake, kind="openai", connect_timeout=0.5)
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await chat_in_flight(fake)
        await unlock(pilot)
        await wait_until(pilot, lambda: app.backend_status == "◐ OpenAI-compatible busy")
        label = app.screen.query_one(ForgeHeader).query_one("#header-backend")
        assert label.has_class("busy") and not label.has_class("down")
        assert not [n for n in app._notifications if n.title == "Model server"]
        assert (await chat).status_code == 200
        app.check_backend()
        await wait_until(pilot, lambda: app.backend_status == "● OpenAI-compatible")
        assert not label.has_class("busy")
