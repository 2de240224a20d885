"""The Playground's conversation view alone, in a harness app: no account, no server."""

from __future__ import annotations

from textual.app import App, ComposeResult

from forge_tui.services.playground import Turn
from forge_tui.ui.widgets.conversation import ConversationView, TurnView


class OneConversation(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationView()


async def test_a_turn_streamed_in_right_after_a_branch_gets_a_view_of_its_own() -> None:
    app = OneConversation()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(ConversationView)
        asked, old = Turn(role="user", content="Question"), Turn(role="assistant", content="Old answer")
        view.show([asked, old])
        await pilot.pause()
        # A branch takes the old answer away and the new one starts at once, before the removal ran.
        view.show([asked])
        view.show([asked, Turn(role="assistant", content="New answer", streaming=True)])
        await pilot.pause()
        shown = [str(v.render()) for v in app.query(TurnView)]
        assert len(shown) == 2 and "New answer" in shown[1]


async def test_thinking_is_folded_to_one_line_until_unfolded() -> None:
    app = OneConversation()
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(ConversationView)
        view.show([Turn(role="assistant", content="Blue.", thinking="light scatters more at short wavelengths")])
        await pilot.pause()
        turn = app.query_one(TurnView)
        assert "▸ Thinking, 6 words (f unfolds)" in str(turn.render())
        assert "scatters" not in str(turn.render())
        turn.focus()
        await pilot.press("f")
        assert "light scatters more" in str(turn.render())
