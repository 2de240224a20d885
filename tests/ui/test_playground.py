"""The Playground at 80x24 against the fake Ollama: a streamed chat, thinking folded, a tool call with a
typed result, edit and regenerate, branch, save as example, and an example opened from Examples."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from forge_tui import i18n
from forge_tui.core.chat import ToolDef
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.templates import TemplateInfo
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.card_editor import CardEditor
from forge_tui.ui.dialogs.chat_options import ChatOptionsDialog
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.screens.examples import ExamplesScreen
from forge_tui.ui.screens.jobs import JobsScreen
from forge_tui.ui.screens.playground import PlaygroundScreen
from forge_tui.ui.widgets.conversation import ChatStatus, TurnView
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD
from tests.ui.helpers import (
    RunBefore,
    ScreenT,
    at_datasets,
    open_examples,
    open_screen,
    prepare_backend,
    type_text,
    wait_for_screen,
    wait_until,
)
from tests.ui.test_256_colours import unreadable
from tests.ui.test_zh_tw_screens import clipped

SIZE = (80, 24)


def alice(home: Home) -> Workspace:
    return Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))


def saved_examples(home: Home) -> list[Example]:
    workspace = alice(home)
    dataset = workspace.datasets.current()
    assert dataset is not None
    return [e for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)]


def turn_texts(screen: PlaygroundScreen) -> list[str]:
    return [str(view.render()) for view in screen.query(TurnView)]


def answered(screen: PlaygroundScreen, turns: int) -> bool:
    chat = screen.chat
    return len(chat.turns) == turns and not chat.streaming and len(screen.query(TurnView)) == turns


async def say(pilot: Pilot[None], screen: PlaygroundScreen, text: str, turns: int) -> None:
    screen.message_field.focus()
    await type_text(pilot, text)
    await pilot.press("enter")
    await wait_until(pilot, lambda: answered(screen, turns))


async def open_playground(pilot: Pilot[None]) -> PlaygroundScreen:
    return await open_screen(pilot, "p", PlaygroundScreen)


async def test_a_chat_streams_and_its_thinking_is_folded_until_asked_for(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    fake.token_latency = 0.01
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        await wait_until(pilot, lambda: screen._models)
        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, ChatOptionsDialog)
        assert "llama3.2:latest, qwen3:0.6b" in str(pilot.app.screen.query_one("#chat-models").render())
        pilot.app.screen.query_one("#chat-model", Input).value = "qwen3:0.6b"
        pilot.app.screen.query_one("#chat-seed", Input).value = "4"
        await pilot.press("ctrl+s")
        await wait_for_screen(pilot, PlaygroundScreen)
        assert "Model qwen3:0.6b" in str(screen.query_one("#playground-status").render())

        shown_live: list[str] = []
        repaint = screen.chat.listener
        assert repaint is not None

        def watching() -> None:  # what the last turn shows at each streamed piece
            repaint()
            shown_live.append(turn_texts(screen)[-1] if screen.chat.streaming else "")

        screen.chat.listener = watching
        await say(pilot, screen, "Why is the sky blue?", 2)
        assert screen.message_field.value == ""
        live = [text for text in shown_live if text.startswith("Model …")]
        assert len(set(live)) > 10  # the answer grew piece by piece on screen
        answer = screen.chat.turns[1]
        assert answer.thinking and answer.content
        shown = turn_texts(screen)[1]
        assert "▸ Thinking" in shown and answer.thinking not in shown and answer.content[:30] in shown
        await pilot.press("up")  # from the message field to the last turn
        assert isinstance(screen.focused, TurnView) and screen.focused.index == 1
        await pilot.press("f")
        assert answer.thinking[:30] in turn_texts(screen)[1]
        sent = fake.requests[-1]
        assert sent["model"] == "qwen3:0.6b" and sent["options"]["seed"] == 4


async def test_a_tool_call_answered_by_hand_then_saved_as_one_accepted_example(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    tool = ToolDef(
        name="get_weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    alice(home).templates.add(TemplateInfo(name="Weather", user_prompt="{{ q }}", is_tool_calling=True, tools=[tool]))
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        await pilot.press("ctrl+t")
        await wait_for_screen(pilot, PickOne)
        await pilot.press("down", "enter")  # past "No tools" to Weather
        await wait_for_screen(pilot, PlaygroundScreen)
        assert [t.name for t in screen.chat.options.tools] == ["get_weather"]

        await say(pilot, screen, "Weather in Oslo?", 2)
        assert "→ get_weather(" in turn_texts(screen)[1]
        assert "get_weather" in screen.message_field.placeholder
        await say(pilot, screen, "Sunny, 21 C", 4)  # the tool's answer, then the model's
        assert [t.role for t in screen.chat.turns] == ["user", "assistant", "tool", "assistant"]
        assert turn_texts(screen)[2].startswith("Tool get_weather")

        await pilot.press("ctrl+s")
        await pilot.pause()
        [example] = saved_examples(home)
        assert example.meta.source is ExampleSource.PLAYGROUND and example.meta.review is ReviewState.ACCEPTED
        assert example.content.output == screen.chat.turns[3].content
        assert [t["role"] for t in example.content.turns] == ["user", "assistant", "tool"]
        assert example.content.turns[2]["content"] == "Sunny, 21 C"
        assert example.meta.params["tools"][0]["function"]["name"] == "get_weather"


async def test_without_a_generation_model_the_first_served_one_is_chosen(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake, generation_model=None)
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        await wait_until(pilot, lambda: screen.chat.options.model == "llama3.2:latest")
        await pilot.pause()
        assert "Model llama3.2:latest" in str(screen.query_one("#playground-status").render())
        await say(pilot, screen, "hello", 2)
        assert screen.chat.turns[-1].content and screen.chat.turns[-1].error is None


async def test_escape_stops_an_answer_and_enter_asks_again(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    fake.endless, fake.token_latency = True, 0.01
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        await type_text(pilot, "Go on forever")
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(screen.chat.turns) == 2 and len(screen.chat.turns[1].content) > 20)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.chat.streaming)
        assert screen.chat.turns[1].error == "Stopped before the answer was complete."
        assert "✗ Stopped before the answer was complete." in turn_texts(screen)[1]
        fake.endless = False
        await pilot.press("enter")  # nothing typed: the stopped answer is asked again
        await wait_until(pilot, lambda: answered(screen, 2) and screen.chat.turns[1].error is None)


async def test_edit_an_earlier_message_regenerates_from_there_and_branch_keeps_a_rejected_one(
    home: Home, fake: FakeOllama
) -> None:
    prepare_backend(home, fake)
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        await say(pilot, screen, "First", 2)
        await say(pilot, screen, "Second", 4)
        old_first_answer = screen.chat.turns[1].content

        await pilot.press("up", "up", "up", "up")  # to turn 1, the first message
        assert isinstance(screen.focused, TurnView) and screen.focused.index == 0
        await pilot.press("e")
        await wait_for_screen(pilot, CardEditor)
        pilot.app.screen.query_one("#edit-answer", TextArea).text = "A better first question"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: answered(screen, 2))
        assert screen.chat.turns[0].content == "A better first question"
        assert screen.chat.turns[1].content != old_first_answer

        old = screen.chat.turns[1].content
        screen.chat.options.seed = 11  # another seed, another answer from the fake
        await pilot.press("up")
        await pilot.press("b")
        await wait_until(pilot, lambda: answered(screen, 2) and screen.chat.turns[1].rejected == [old])
        assert "1 rejected alternative kept" in turn_texts(screen)[1]
        await pilot.press("up", "c")
        assert pilot.app.clipboard == screen.chat.turns[1].content

        await pilot.press("ctrl+s")
        await pilot.pause()
        [example] = saved_examples(home)
        assert example.content.rejected == [old] and example.content.output == screen.chat.turns[1].content


async def test_an_example_opened_from_examples_continues_and_saving_updates_it(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    workspace = alice(home)
    dataset = workspace.datasets.current()
    assert dataset is not None
    content = ExampleContent(system_prompt="Be brief.", user_prompt="Hi", output="Hello there.")
    example_id = workspace.examples.add(dataset.id, content, ExampleMeta(model="llama3.2"))
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await pilot.press("P")
        await wait_for_screen(pilot, PlaygroundScreen)
        screen = pilot.app.screen
        assert isinstance(screen, PlaygroundScreen)
        await wait_until(pilot, lambda: answered(screen, 2))
        assert screen.chat.example_id == example_id and screen.chat.options.system_prompt == "Be brief."
        assert "System: Be brief." in str(screen.query_one("#playground-status").render())
        await say(pilot, screen, "And more?", 4)
        await pilot.press("ctrl+s")
        await pilot.pause()
        [example] = saved_examples(home)
        assert example.id == example_id and example.content.user_prompt == "And more?"
        assert example.content.turns[1] == {"role": "assistant", "content": "Hello there."}


async def test_the_detail_view_opens_its_example_in_the_playground(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    workspace = alice(home)
    dataset = workspace.datasets.current()
    assert dataset is not None
    example_id = workspace.examples.add(dataset.id, ExampleContent(user_prompt="Hi", output="Hello."))
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        await open_examples(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, ExampleDetail)
        await pilot.press("alt+p")
        screen = await wait_screen(pilot, PlaygroundScreen)
        await wait_until(pilot, lambda: answered(screen, 2))
        assert screen.chat.example_id == example_id
        assert [t.content for t in screen.chat.turns] == ["Hi", "Hello."]


async def test_p_opens_the_playground_everywhere_but_pauses_on_jobs(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    async with ForgeApp(home).run_test(size=SIZE) as pilot:
        await at_datasets(pilot)
        await pilot.press("b")
        await wait_for_screen(pilot, JobsScreen)
        await pilot.press("p")  # the Jobs screen's own pause
        await pilot.pause(0.2)
        assert isinstance(pilot.app.screen, JobsScreen)
        await pilot.press("e")
        examples = await wait_screen(pilot, ExamplesScreen)
        assert "P (and alt+p in the detail view) opens the example in the Playground" in examples.help_text()
        await pilot.press("p")
        playground = await wait_screen(pilot, PlaygroundScreen)
        assert "b asks for another answer and keeps the old one as a rejected alternative" in playground.help_text()


async def wait_screen(pilot: Pilot[None], kind: type[ScreenT]) -> ScreenT:
    await wait_for_screen(pilot, kind)
    screen = pilot.app.screen
    assert isinstance(screen, kind)
    return screen


async def test_readable_in_zh_tw_at_80x24(home: Home, fake: FakeOllama) -> None:
    prepare_backend(home, fake)
    i18n.set_language("zh_TW")
    app = ForgeApp(home)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_playground(pilot)
        screen.chat.options.model = "qwen3:0.6b"
        await say(pilot, screen, "Hello", 2)
        assert str(screen.query_one(ChatStatus).render()).startswith("模型 qwen3:0.6b · 溫度 0.8")
        assert turn_texts(screen)[0].startswith("你") and "▸ 思考" in turn_texts(screen)[1]
        assert unreadable(app) == []
        await pilot.press("ctrl+o")
        await wait_for_screen(pilot, ChatOptionsDialog)
        assert clipped(app) == [] and unreadable(app) == []


def playground_snapshot(home: Home, fake: FakeOllama) -> tuple[ForgeApp, RunBefore]:
    prepare_backend(home, fake)

    async def run_before(pilot: Pilot[None]) -> None:
        screen = await open_playground(pilot)
        shown = pilot.app
        assert isinstance(shown, ForgeApp)
        await wait_until(pilot, lambda: shown.backend_status == "● Ollama")
        screen.chat.options.seed = 7
        screen.chat.options.model = "qwen3:0.6b"
        screen.draw_text()
        await say(pilot, screen, "Hello", 2)
        pilot.app.clear_notifications()
        await pilot.pause(0.2)

    return ForgeApp(home), run_before


def test_snapshot(home: Home, fake: FakeOllama, snap_compare: Any) -> None:
    app, run_before = playground_snapshot(home, fake)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
