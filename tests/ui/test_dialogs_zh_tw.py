"""The dialogs in Traditional Chinese: labels, buttons, hints and refusals in zh-TW, and a switch back to
English redraws them in place, keeping what was typed and chosen."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Label, Select, Static, TextArea

from forge_tui import i18n
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.judge_form import JudgeForm
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.augment_jobs import AugmentChoice, PreviewRow
from forge_tui.services.jobs import JobPlan
from forge_tui.ui.dialogs.augment import IN_PLACE, AugmentDialog
from forge_tui.ui.dialogs.common import WorkProgress
from forge_tui.ui.dialogs.dataset_ops import DatasetOpDialog
from forge_tui.ui.dialogs.endpoint import EndpointDialog
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.dialogs.judge_job import JudgeJobForm
from forge_tui.ui.dialogs.new_job import PlanPreview
from forge_tui.ui.field_checks import ModelNumber
from forge_tui.ui.localized import redraw_text
from forge_tui.ui.resources import stylesheets


class Harness(App[None]):
    CSS_PATH = stylesheets()  # type: ignore[assignment]

    def __init__(self, dialog: Screen[Any]) -> None:
        super().__init__()
        self.dialog = dialog

    def compose(self) -> ComposeResult:
        yield Static("")

    def on_mount(self) -> None:
        self.push_screen(self.dialog)


def switch(app: App[Any], language: str) -> None:
    """What the app's language switch does to the screens."""
    i18n.set_language(language)
    redraw_text(app.screen_stack)


def text(screen: Screen[Any], selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def labels(screen: Screen[Any]) -> list[str]:
    return [str(label.render()) for label in screen.query(Label)]


async def test_the_endpoint_dialog_in_zh_tw_and_back_in_english() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    dialog = EndpointDialog()
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert labels(dialog)[:3] == ["新增端點", "名稱", "類型"]
        assert str(dialog.query_one("#save", Button).label) == "儲存（^s）"
        assert dialog.query_one("#endpoint-key", Input).placeholder == "託管 API：例如 OPENAI_API_KEY"
        dialog.query_one("#endpoint-name", Input).value = "gpu1"
        dialog.query_one("#endpoint-max", Input).value = "many"
        await pilot.press("ctrl+s")  # refused: one sentence in zh-TW, the dialog stays
        await pilot.pause()
        assert text(dialog, "#endpoint-error") == "最大並行數必須是介於 1 到 1024 之間的整數。"
        assert app.screen is dialog

        switch(app, i18n.ENGLISH)
        await pilot.pause()
        assert labels(dialog)[:3] == ["New endpoint", "Name", "Kind"]
        assert str(dialog.query_one("#save", Button).label) == "Save (^s)"
        assert str(dialog.query_one("#cancel", Button).label) == "Cancel"
        assert dialog.query_one("#endpoint-key", Input).placeholder == "hosted APIs: e.g. OPENAI_API_KEY"
        assert dialog.query_one("#endpoint-name", Input).value == "gpu1"  # what was typed is kept


async def test_the_augment_dialog_switches_language_keeping_its_fields() -> None:
    async def previewer(_choice: AugmentChoice) -> list[PreviewRow]:
        return []

    choice = AugmentChoice(dataset_id=1, field="answer", instruction="", model="m", into="x")
    dialog = AugmentDialog(choice, "default", previewer, concurrency=4)
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog.query_one("#augment-instruction", Input).value = "Shorten {{ answer }}"
        dialog.query_one("#augment-target", Select).value = IN_PLACE

        switch(app, i18n.TRADITIONAL_CHINESE)
        await pilot.pause()
        assert text(dialog, "#augment-title") == "擴增「default」的所有範例"
        assert dialog.query_one("#augment-concurrency", Input).placeholder == "同時送出的請求數；留空：依設定的 4"
        assert str(dialog.query_one("#start", Button).label) == "開始（^s）"
        target = dialog.query_one("#augment-target", Select)
        assert target.value == IN_PLACE and "原地修改（可復原）" in str(target.query_one("#label", Static).render())
        assert dialog.query_one("#augment-instruction", Input).value == "Shorten {{ answer }}"

        switch(app, i18n.ENGLISH)
        await pilot.pause()
        assert text(dialog, "#augment-title") == "Augment every example of 'default'"
        assert dialog.query_one("#augment-target", Select).value == IN_PLACE
        assert str(dialog.query_one("#start", Button).label) == "Start (^s)"


async def test_a_progress_line_and_a_refused_number_follow_the_language() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    progress = WorkProgress("import", threading.Event())
    app = Harness(progress)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text(progress, "#work-status") == "開始中…（按 esc 停止）"
        switch(app, i18n.ENGLISH)
        await pilot.pause()
        assert text(progress, "#work-status") == "Starting… (esc stops)"
        await pilot.press("escape")
        await pilot.pause()
        assert progress.cancel.is_set()
        switch(app, i18n.TRADITIONAL_CHINESE)
        await pilot.pause()
        assert text(progress, "#work-status") == "停止中…"


async def test_a_dataset_operation_refuses_a_bad_number_in_zh_tw() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    dialog = DatasetOpDialog("split", "default")
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert text(dialog, "#op-title") == "分割為 NAME-train、NAME-valid、NAME-test：default"
        dialog.query_one("#op-valid", Input).value = "a tenth"
        await pilot.click("#ok")
        await pilot.pause()
        assert text(dialog, "#op-error") == "驗證集比例必須是數字，而不是「a tenth」。"


def test_a_number_check_says_why_in_the_language_of_the_moment() -> None:
    check = ModelNumber(BackendSettings, "concurrency", i18n.N_("Concurrency"))
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    assert check.validate("0").failure_descriptions == ["並行數須為介於 1 到 1024 之間的整數。"]
    timeout = ModelNumber(BackendSettings, "first_byte_timeout", i18n.N_("Concurrency"))
    assert timeout.validate("0").failure_descriptions == ["並行數須為大於 0的數字。"]
    i18n.set_language(i18n.ENGLISH)
    assert check.validate("0").failure_descriptions == ["Concurrency is a whole number between 1 and 1024."]


async def test_the_judge_form_shows_every_field_beside_its_label_at_80x24_in_zh_tw() -> None:
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    dialog = JudgeJobForm(JudgeForm(), ["overall"], ["gpu1"])
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen.region
        for field in [*dialog.query(Select), *dialog.query(Input)]:
            shown = field.region
            assert shown.width >= 20 and screen.contains_region(shown), (field.id, shown)
        assert labels(dialog)[1:5] == ["評審準則", "範例", "低於門檻", "端點"]
        assert dialog.query_one("#plan", Button).region.bottom <= 24


async def test_the_plan_cuts_a_wide_slot_value_by_cells_and_names_its_columns_in_the_language() -> None:
    value = "臺灣夜市小吃" * 10  # 60 characters, 120 cells
    plan = JobPlan("generate", "n", 1, 1, {}, {"model": "m"}, [], {"topic": Counter({value: 3})}, ["p"])
    dialog = PlanPreview(plan)
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = dialog.query_one("#plan-spread", DataTable)
        shown = str(table.get_row_at(0)[1])
        assert value.startswith(shown) and 46 <= cell_len(shown) <= 48
        switch(app, i18n.TRADITIONAL_CHINESE)
        await pilot.pause()
        assert [str(c.label) for c in table.columns.values()] == ["欄位", "值", "項目數"]
        assert text(dialog, "#plan-title") == "規劃：0 個項目，模型 m，於 pool"


async def test_the_example_detail_refuses_bad_json_in_zh_tw_and_keeps_the_edit_across_a_switch() -> None:
    now = datetime.now(UTC)
    content = ExampleContent(user_prompt="q", output="a")
    example = Example(id="e1", dataset_id=1, content=content, meta=ExampleMeta(), created_at=now, updated_at=now)
    i18n.set_language(i18n.TRADITIONAL_CHINESE)
    dialog = ExampleDetail(example, lambda *_args: example)
    app = Harness(dialog)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert str(dialog.query_one("#save", Button).label) == "儲存（^s）"
        dialog.query_one("#d-tools", TextArea).text = "[{"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text(dialog, "#d-error").startswith("未儲存：工具呼叫不是有效的 JSON：第 1 行")
        assert str(dialog.query_one("#detail-title", Label).render()) == "範例 e1 • 未儲存"

        switch(app, i18n.ENGLISH)
        await pilot.pause()
        assert str(dialog.query_one("#detail-title", Label).render()) == "Example e1 • unsaved"
        assert text(dialog, "#d-error").startswith("Not saved: ")
        assert str(dialog.query_one("#close", Button).label) == "Close (esc)"
        assert dialog.query_one("#d-tools", TextArea).text == "[{"
