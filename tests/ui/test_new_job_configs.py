"""Save config / Load config in the new-job and judge-job dialogs (80×24): a loaded configuration fills every field
exactly as it was saved, and the values typed since are gone; the picker deletes one after a confirmation."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, Select, Static

from forge_tui.core.job_configs import GenerateConfig, JudgeConfig
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.job_configs import JobConfigService, config_of_form, judge_config_of_form
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.judge_job import JudgeJobForm
from forge_tui.ui.dialogs.new_job import TEXT_FIELDS, NewJobForm
from forge_tui.ui.dialogs.saved_configs import ConfigPicker
from forge_tui.ui.screens.jobs import JobsScreen
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import at_datasets, prepare_backend, type_text, wait_for_screen, wait_until

TYPED = {
    "count": "12",
    "language": "zh-TW",
    "model": "qwen3:8b",
    "paraphrase_model": "",
    "second_model": "gemma3",
    "temperature": "0.3",
    "second_temperature": "1.1",
    "max_tokens": "512",
    "seed": "42",
    "turns": "4",
    "sources": "topic=values:tides|reefs",
    "until_pass": "10",
    "judge_model": "judge:1b",
    "judge_rubric": "overall",
    "threshold": "8",
    "dedup": "0.85",
    "max_attempts": "30",
}


def form_of(pilot: Pilot[None]) -> NewJobForm:
    form = pilot.app.screen
    assert isinstance(form, NewJobForm)
    return form


async def test_a_saved_config_loads_back_into_every_field(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        await pilot.press("n")
        await wait_for_screen(pilot, NewJobForm)
        form = form_of(pilot)
        templates = list(form._templates)
        for name, value in TYPED.items():
            form.query_one(f"#job-{name}", Input).value = value
        form.query_one("#job-kind", Select).value = "preference"
        form.query_one("#job-quotas", Checkbox).value = True
        second = templates[1]
        form.query_one("#job-template", Select).value = second.id
        await pilot.pause()
        form.query_one("#job-sources", Input).value = TYPED["sources"]  # after the template's default
        typed = form.typed()

        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "zh pairs")
        await pilot.press("enter")
        await wait_for_screen(pilot, NewJobForm)
        workspace_configs = JobConfigService(home, AccountService(home).unlock("alice", PASSWORD))
        await wait_until(pilot, lambda: [c.name for c in workspace_configs.list()] == ["zh pairs"])
        saved = workspace_configs.get("zh pairs")
        assert saved == config_of_form("zh pairs", typed, templates)
        assert isinstance(saved, GenerateConfig) and saved.template == second.name and saved.quotas

        for name, _ in TEXT_FIELDS:  # typed over since
            form.query_one(f"#job-{name}", Input).value = "changed"
        form.query_one("#job-kind", Select).value = "single"
        form.query_one("#job-quotas", Checkbox).value = False
        form.query_one("#job-template", Select).value = templates[0].id
        await pilot.pause()

        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfigPicker)
        await pilot.press("enter")
        await wait_for_screen(pilot, NewJobForm)
        await pilot.pause()
        await pilot.pause()
        assert config_of_form("zh pairs", form_of(pilot).typed(), templates) == saved
        assert form_of(pilot).typed() == typed


async def test_the_judge_dialog_saves_and_loads_a_config(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        await pilot.press("j")
        await wait_for_screen(pilot, JudgeJobForm)
        dialog = pilot.app.screen
        assert isinstance(dialog, JudgeJobForm)
        for name, value in {"rubric": "pairwise", "only": "all", "action": "fix"}.items():
            dialog.query_one(f"#judge-{name}", Select).value = value
        for name, value in {"threshold": "8.5", "model": "judge:1b", "fix_model": "fixer"}.items():
            dialog.query_one(f"#judge-{name}", Input).value = value
        typed = dialog.typed()
        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "strict")
        await pilot.press("enter")
        await wait_for_screen(pilot, JudgeJobForm)
        configs = JobConfigService(home, AccountService(home).unlock("alice", PASSWORD))
        await wait_until(pilot, lambda: [c.name for c in configs.list()] == ["strict"])
        assert configs.get("strict") == judge_config_of_form("strict", typed)

        dialog.query_one("#judge-rubric", Select).value = "overall"
        dialog.query_one("#judge-threshold", Input).value = "3"
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfigPicker)
        await pilot.press("enter")
        await wait_for_screen(pilot, JudgeJobForm)
        await wait_until(pilot, lambda: dialog.typed() == typed)


async def test_the_picker_deletes_a_config_after_asking_and_loads_another(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    configs = JobConfigService(home, AccountService(home).unlock("alice", PASSWORD))
    for name, threshold in (("lenient", "5"), ("strict", "9")):
        configs.save(JudgeConfig(name=name, threshold=threshold))
    async with ForgeApp(home).run_test(size=(80, 24)) as pilot:
        await at_datasets(pilot)
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        await pilot.press("j")
        await wait_for_screen(pilot, JudgeJobForm)
        dialog = pilot.app.screen
        assert isinstance(dialog, JudgeJobForm)
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, ConfigPicker)
        assert "del deletes" in str(pilot.app.screen.query_one("#configs-hint", Static).render())
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")  # kept
        await wait_for_screen(pilot, ConfigPicker)
        assert [c.name for c in configs.list()] == ["lenient", "strict"]
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, ConfigPicker)
        await wait_until(pilot, lambda: [c.name for c in configs.list()] == ["strict"])
        await pilot.press("enter")
        await wait_for_screen(pilot, JudgeJobForm)
        await wait_until(pilot, lambda: dialog.query_one("#judge-threshold", Input).value == "9")
