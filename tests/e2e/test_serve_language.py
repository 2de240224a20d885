"""`forge-tui serve` hands each tab's app process the page's Accept-Language, so a browser set to
zh-TW gets the unlock screen in Traditional Chinese and an English one gets English."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from forge_tui.cli.serve_web import browser_locale
from forge_tui.i18n import detect
from forge_tui.services.home import open_home
from tests.e2e.test_serve import TOKEN, serving
from tests.ui.helpers import make_user


def test_browser_locale_reads_back_as_the_browsers_language() -> None:
    assert browser_locale(None) == {} and browser_locale("") == {}
    for header, language in (("zh-TW,zh;q=0.9,en;q=0.8", "zh_TW"), ("en-US,en;q=0.9", "en"), ("fr", "en")):
        assert detect(None, browser_locale(header)).language == language
    simplified = detect(None, browser_locale("zh-CN,zh;q=0.9"))
    assert simplified.language == "zh_TW" and simplified.note is not None
    # Ranked as a locale: --lang, FORGE_TUI_LANG and the account's saved choice still win.
    assert detect(None, {"FORGE_TUI_LANG": "en"} | browser_locale("zh-TW")).language == "en"
    assert detect(None, browser_locale("zh-TW"), saved="en").language == "en"


async def screen_text(socket: Any, wanted: str, timeout: float = 30) -> str:
    """The terminal output a tab receives until `wanted` appears in it (or `timeout` seconds pass)."""
    import aiohttp

    shown = ""

    async def read() -> None:
        nonlocal shown
        while wanted not in shown:
            message = await socket.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                shown += bytes(message.data).decode("utf-8", "replace")
            elif message.type != aiohttp.WSMsgType.TEXT:
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(read(), timeout)
    return shown


@pytest.mark.slow
async def test_each_tab_opens_in_its_browsers_language(fast_home_dir: Path) -> None:
    import aiohttp

    home = open_home(fast_home_dir)
    make_user(home)
    home.close()
    with serving(fast_home_dir) as (base, _server):
        async with aiohttp.ClientSession(cookies={"forge_tui_token": TOKEN}) as browser:
            url = f"{base}/ws?width=80&height=24"
            chinese = await browser.ws_connect(url, origin=base, headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.8"})
            assert "使用者名稱" in await screen_text(chinese, "使用者名稱")
            await chinese.close()
            english = await browser.ws_connect(url, origin=base, headers={"Accept-Language": "en-US,en;q=0.9"})
            shown = await screen_text(english, "Username")
            assert "Username" in shown and "使用者名稱" not in shown
            await english.close()
