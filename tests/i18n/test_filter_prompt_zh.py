"""The Examples screen's filter prompt in zh_TW at 80×24: a bad expression is refused with the filter
language's sentence in Traditional Chinese, shown whole."""

from __future__ import annotations

from textual.widgets import Input

from forge_tui import i18n
from forge_tui.services.home import Home
from forge_tui.ui.app import ForgeApp
from forge_tui.ui.dialogs.common import TextPrompt
from tests.ui.helpers import error_text, fill, open_examples, type_text, wait_for_screen


async def test_a_bad_filter_is_refused_in_zh_tw(home: Home) -> None:
    fill(home, 3)
    i18n.start("zh_TW", {})
    app = ForgeApp(home)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_examples(pilot)
        await pilot.press("f")
        await wait_for_screen(pilot, TextPrompt)
        await type_text(pilot, "scroe >= 7")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextPrompt)
        assert app.screen.query_one(Input).value == "scroe >= 7"
        shown = error_text(app, "#prompt-error")
        assert shown.startswith("第 1 個字元的欄「scroe」不存在：可用的欄有 score")
        assert shown.endswith("slot:NAME。")
