"""Pilot tests of the Examples screen: paging through a dataset, detail and edit, delete with undo,
and search streaming its matches in."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.store import examples as rows
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import Confirm, TextPrompt, WorkProgress
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.screens.datasets import DatasetsScreen
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.widgets.example_table import ExampleTable, RowView
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    examples_status,
    fill,
    make_user,
    open_examples,
    outputs,
    type_text,
    unlock,
    wait_for_screen,
    wait_until,
)


async def test_page_through_open_edit_and_save(home: Home) -> None:
    workspace = fill(home, 1000)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        table = screen.query_one(ExampleTable)
        assert "'default': 1000 examples" in examples_status(screen)
        assert table.columns == [
            "prompt",
            "slot:topic",
            "answer",
            "score",
            "rej",
            "kto",
            "review",
            "flag",
            "source",
            "model",
            "created",
        ]
        assert len(table._pages) <= 2  # only what is on screen was opened
        for _ in range(40):
            await pilot.press("pagedown")
        step = table.scrollable_content_region.height - 2
        assert table.cursor == min(999, 40 * step)
        await pilot.press("end")
        row = table.current()
        assert row is not None and row.cells["prompt"] == "question 999"
        assert len(table._pages) <= 30
        await pilot.press("home", "down", "enter")
        await wait_for_screen(pilot, ExampleDetail)
        detail = app.screen
        assert isinstance(detail, ExampleDetail)
        answer = detail.query_one("#d-output", TextArea)
        answer.text = "a better answer 1"
        await pilot.pause()
        assert "unsaved" in str(detail.query_one("#detail-title").render())
        await pilot.press("escape")  # unsaved: asks first
        await wait_for_screen(pilot, Confirm)
        await pilot.press("n")
        await wait_for_screen(pilot, ExampleDetail)
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)
        row = table.current()
        assert row is not None and row.cells["answer"] == "a better answer 1"
    assert outputs(workspace)[:3] == ["answer 0", "a better answer 1", "answer 2"]


async def test_select_delete_and_undo(home: Home) -> None:
    workspace = fill(home, 30)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("down", "space", "shift+down", "shift+down")  # rows 1, 2, 3
        assert "3 selected" in examples_status(screen)
        await pilot.press("delete")
        await wait_for_screen(pilot, Confirm)
        await pilot.press("y")
        await wait_for_screen(pilot, ExamplesScreen)
        await wait_until(pilot, lambda: "27 examples" in examples_status(screen))
        assert outputs(workspace)[:2] == ["answer 0", "answer 4"]
        await pilot.press("u")
        await wait_until(pilot, lambda: "30 examples" in examples_status(screen))
    assert outputs(workspace) == [f"answer {i}" for i in range(30)]


async def test_search_streams_matches_and_escape_returns(home: Home) -> None:
    fill(home, 600)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#examples-search", Input)
        await type_text(pilot, "t59")  # a slot value: t59, t590..t599
        await pilot.press("enter")
        try:
            await wait_until(pilot, lambda: "search finished" in examples_status(screen))
        except AssertionError:
            raise AssertionError(examples_status(screen)) from None
        table = screen.query_one(ExampleTable)
        assert table.total == 11
        assert "11 matching" in examples_status(screen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: "600 examples" in examples_status(screen))


async def import_from_datasets(pilot: Pilot[None], source: Any) -> None:
    """Unlock, then `i` on the Datasets screen with the file's path."""
    await unlock(pilot)
    await wait_for_screen(pilot, DatasetsScreen)
    await pilot.press("i")
    await wait_for_screen(pilot, TextPrompt)
    pilot.app.screen.query_one(Input).value = str(source)
    await pilot.press("enter")


async def test_import_from_datasets_asks_how_to_map_an_unknown_shape(home: Home, tmp_path: Any) -> None:
    workspace = fill(home, 0)
    source = tmp_path / "qa.csv"
    source.write_text("question,answer\nWhy?,Because.\nHow?,Like so.\n", encoding="utf-8")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await import_from_datasets(pilot, source)
        await wait_until(pilot, lambda: isinstance(app.screen, TextPrompt) and "Fields found: answer, question"
                         in str(app.screen.query_one(".dialog-title", Static).render()))  # fmt: skip
        await type_text(pilot, "user_prompt=question,output=answer")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(outputs(workspace)) == 2)
    assert outputs(workspace) == ["Because.", "Like so."]


async def test_importing_plain_text_asks_how_it_splits_into_documents(home: Home, tmp_path: Any) -> None:
    from textual.widgets import OptionList

    from forge_tui.ui.dialogs.pick import PickOne

    workspace = fill(home, 0)
    source = tmp_path / "wiki.txt"
    source.write_text('First, "quoted", line.\nSame paragraph.\n\nSecond paragraph, one line.\n', encoding="utf-8")
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await import_from_datasets(pilot, source)
        await wait_for_screen(pilot, PickOne)
        choices = app.screen.query_one(OptionList)
        assert [choices.get_option_at_index(i).id for i in range(choices.option_count)] == ["line", "paragraph", "file"]
        await pilot.press("down", "enter")  # per paragraph
        await wait_until(pilot, lambda: len(outputs(workspace)) == 2)
    assert outputs(workspace) == ['First, "quoted", line.\nSame paragraph.', "Second paragraph, one line."]


async def test_the_import_prompt_says_what_a_path_is_when_it_is_no_file(home: Home, tmp_path: Any) -> None:
    fill(home, 0)
    folder = tmp_path / "data.jsonl"
    folder.mkdir()
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await import_from_datasets(pilot, folder)
        error = app.screen.query_one("#prompt-error", Static)
        await wait_until(pilot, lambda: f"{folder} is a directory, not a file." in str(error.render()))
        assert isinstance(app.screen, TextPrompt)  # still asking


async def test_regenerate_sends_the_selection_to_audition(home: Home, fake: Any) -> None:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.settings import SettingsService
    from forge_tui.ui.screens.audition import AuditionScreen
    from forge_tui.ui.widgets.audition_card import AuditionCard

    workspace = fill(home, 5)
    user = AccountService(home).get("alice")
    SettingsService(home, user).save_backend(BackendSettings(base_url=fake.base_url, generation_model="llama3.2"))
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_examples(pilot)
        await pilot.press("down", "space", "down", "down", "space", "ctrl+r")  # rows 1 and 3
        await wait_for_screen(pilot, AuditionScreen)
        screen = app.screen
        assert isinstance(screen, AuditionScreen)
        await wait_until(pilot, lambda: screen.session is not None and len(screen.session.cards) == 2
                         and all(c.finished for c in screen.session.cards))  # fmt: skip
        session = screen.session
        assert session is not None and [c.prompt for c in session.cards] == ["question 1", "question 3"]
        sent = sorted(r["messages"][-1]["content"] for r in fake.requests)
        assert sent == ["question 1", "question 3"]
        await wait_until(pilot, lambda: len(screen.query(AuditionCard)) == 2)
        await pilot.press("space", "j", "space", "ctrl+s")
        await wait_until(pilot, lambda: len(outputs(workspace)) == 7)
    stored = [e for e in workspace.examples.scan(workspace.datasets.current().id) if isinstance(e, Example)]  # type: ignore[union-attr]
    assert [e.content.slots for e in stored[5:]] == [{"topic": "t1"}, {"topic": "t3"}]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_snapshot(
    home: Home, fake: Any, monkeypatch: pytest.MonkeyPatch, snap_compare: Any, size: tuple[int, int]
) -> None:
    from datetime import UTC, datetime

    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.settings import SettingsService
    from forge_tui.store import examples as example_rows

    monkeypatch.setattr(example_rows, "utcnow", lambda: datetime(2026, 11, 23, 9, 30, tzinfo=UTC))
    workspace = fill(home, 60)
    ids = workspace.examples.ids(workspace.datasets.current().id)  # type: ignore[union-attr]
    with home.engine.begin() as conn:  # two unreviewed examples from job 12, one of them flagged
        conn.exec_driver_sql("UPDATE example SET source = 'job', job_id = 12, review = 'unreviewed' WHERE id IN (?, ?)",
                             (ids[3], ids[4]))  # fmt: skip
        conn.exec_driver_sql("UPDATE example SET language_flag = 'Simplified Chinese' WHERE id = ?", (ids[4],))
        conn.exec_driver_sql("UPDATE example SET score = 7.5 WHERE id = ?", (ids[1],))  # a judge's score
    workspace.examples.set_review([ids[5]], ReviewState.REJECTED)
    SettingsService(home, AccountService(home).get("alice")).save_backend(BackendSettings(base_url=fake.base_url))

    async def run_before(pilot: Pilot[None]) -> None:
        await open_examples(pilot)
        await wait_until(pilot, lambda: pilot.app.backend_status == "● Ollama")  # type: ignore[attr-defined]
        await pilot.press("down", "down", "space", "shift+down")
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    assert snap_compare(ForgeApp(home), terminal_size=size, run_before=run_before)


async def test_escape_stops_an_import_and_nothing_is_added(
    home: Home, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = fill(home, 0)
    source = tmp_path / "many.jsonl"
    source.write_text("".join(f'{{"prompt": "p{i}", "completion": "c{i}"}}\n' for i in range(400)), encoding="utf-8")
    monkeypatch.setattr("forge_tui.services.importing._INSERT_BATCH", 5)
    insert = rows.insert_values
    gate = threading.Event()  # the import waits at its third batch until escape was pressed
    batches: list[int] = []

    def held(session: Any, values: Any, insert_id: int | None = None) -> None:
        batches.append(len(values))
        if len(batches) == 3:
            gate.wait(10)
        insert(session, values, insert_id)

    monkeypatch.setattr(rows, "insert_values", held)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 30)) as pilot:
        await import_from_datasets(pilot, source)
        await wait_for_screen(pilot, WorkProgress)
        status = app.screen.query_one("#work-status", Static)
        await wait_until(pilot, lambda: "10 examples so far" in str(status.render()))
        await pilot.press("escape")
        gate.set()
        await wait_for_screen(pilot, DatasetsScreen)
        await wait_until(pilot, lambda: any("nothing was added" in n.message for n in app._notifications))
    assert outputs(workspace) == [] and len(batches) == 3


async def test_copy_the_example_and_a_whole_field(home: Home) -> None:
    fill(home, 3)
    app = ForgeApp(home)
    sent: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        original = app.copy_to_clipboard

        def copy(text: str) -> None:  # what reaches the terminal as OSC 52
            sent.append(text)
            original(text)

        app.copy_to_clipboard = copy  # type: ignore[method-assign]
        await open_examples(pilot)
        await pilot.press("down", "c")
        await wait_until(pilot, lambda: len(sent) == 1)
        record = json.loads(sent[0])
        assert (record["user_prompt"], record["output"], record["slots"]) == ("question 1", "answer 1", {"topic": "t1"})
        assert any("Copied example 2 as JSON" in n.message for n in app._notifications)
        await pilot.press("enter")
        await wait_for_screen(pilot, ExampleDetail)
        await pilot.press("alt+c")  # the answer field has focus
        await wait_until(pilot, lambda: len(sent) == 2)
        assert sent[1] == "answer 1" and app.clipboard == "answer 1"
        assert any("Copied the answer (8 characters)" in n.message for n in app._notifications)


def fill_labelled(home: Home, n: int) -> Workspace:
    """n examples: desirable, undesirable, unlabelled in turn; the first has reasoning and extras."""
    workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    dataset = workspace.datasets.current()
    assert dataset is not None
    labels = (True, False, None)
    items = [
        (
            ExampleContent(
                user_prompt=f"question {i}",
                output=f"answer {i}",
                reasoning="First I weigh the tides." if i == 0 else "",
                extra={"images": ["tide.png"], "source": "wiki"} if i == 0 else {},
            ),
            ExampleMeta(desirability=labels[i % 3]),
        )
        for i in range(n)
    ]
    workspace.examples.add_many(dataset.id, items)
    return workspace


async def test_the_desirability_column_and_its_filter(fast_home_dir: Any) -> None:
    from forge_tui.services.home import open_home

    config = fast_home_dir / "config.toml"  # a remapped key: the status line names the one in use
    config.write_text(config.read_text() + '\n[keys]\n"examples.desirability_filter" = "y"\n', encoding="utf-8")
    home = open_home(fast_home_dir)
    make_user(home)
    fill_labelled(home, 30)
    app = ForgeApp(home)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await open_examples(pilot)
            table = screen.query_one(ExampleTable)
            assert "'default': 30 examples · y filters ✓/✗" in examples_status(screen)
            assert [(table.row(i) or RowView("", {})).cells["kto"] for i in range(4)] == ["✓", "✗", "", "✓"]
            await pilot.press("K")  # no longer bound
            await pilot.pause()
            assert table.total == 30
            seen = []
            for _ in range(4):
                await pilot.press("y")
                await wait_until(pilot, lambda: table.total in (10, 30))
                rows = [table.row(i) for i in range(table.total)]
                seen.append((examples_status(screen).split(" · ")[0], {r.cells["kto"] for r in rows if r is not None}))
            assert seen == [
                ("'default': 10 desirable (✓) examples", {"✓"}),
                ("'default': 10 undesirable (✗) examples", {"✗"}),
                ("'default': 10 unlabelled examples", {""}),
                ("'default': 30 examples", {"✓", "✗", ""}),
            ]
            await pilot.press("y", "y", "ctrl+a")  # select all undesirable ones: only those
            assert len(table.selected) == 10 and "y: unlabelled" in examples_status(screen)
            await pilot.press("escape", "slash")  # a search keeps the filter
            await type_text(pilot, "question 1")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "search finished" in examples_status(screen))
            found = [table.row(i) for i in range(table.total)]
            assert [r.cells["prompt"] for r in found if r is not None] == ["question 1", "question 10", "question 13",
                                                                           "question 16", "question 19"]  # fmt: skip
    finally:
        home.close()


async def test_the_detail_folds_reasoning_and_extras_and_sets_desirability(home: Home) -> None:
    from textual.widgets import Collapsible, Select

    make_user(home)
    workspace = fill_labelled(home, 3)
    app = ForgeApp(home)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_examples(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, ExampleDetail)
        detail = app.screen
        assert isinstance(detail, ExampleDetail)
        reasoning_fold = detail.query_one("#d-reasoning-fold", Collapsible)
        extra_fold = detail.query_one("#d-extra-fold", Collapsible)
        assert reasoning_fold.collapsed and extra_fold.collapsed
        assert reasoning_fold.title == "Reasoning (24 characters)" and "images, source" in extra_fold.title
        assert detail.query_one("#d-reasoning", TextArea).text == "First I weigh the tides."
        extra = detail.query_one("#d-extra", TextArea)
        assert extra.read_only and json.loads(extra.text) == {"images": ["tide.png"], "source": "wiki"}
        select = detail.query_one("#d-desirability", Select)
        assert select.value == "desirable"
        select.focus()
        await pilot.press("enter", "down", "enter")  # ✗ undesirable
        await wait_until(pilot, lambda: select.value == "undesirable")
        assert "unsaved" in str(detail.query_one("#detail-title").render())
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "saved" in str(detail.query_one("#detail-title").render()))
        await pilot.press("escape")
        await wait_for_screen(pilot, ExamplesScreen)
        row = screen.query_one(ExampleTable).current()
        assert row is not None and row.cells["kto"] == "✗"
    dataset = workspace.datasets.current()
    assert dataset is not None
    first = next(e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example))
    assert first.meta.desirability is False
    assert first.content.reasoning == "First I weigh the tides." and first.content.extra["source"] == "wiki"
