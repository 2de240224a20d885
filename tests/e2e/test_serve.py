"""`forge-tui serve` as a real process: the token guards every route, the cookie carries it after the
first visit, and a websocket from another origin is refused."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.passwords import PASSWORD

TOKEN = "test-token-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(home: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`forge-tui serve --port P *args` as a process, and the address it is contacted on (always 127.0.0.1)."""
    port = free_port()
    env = os.environ | {"FORGE_TUI_SERVE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "forge_tui", "--home", str(home), "serve", "--port", str(port), *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(base, timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("the server did not start")
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def served(fast_home_dir: Path) -> Iterator[str]:
    with serving(fast_home_dir) as (base, _):
        yield base


def websocket_headers(origin: str) -> dict[str, str]:
    return {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Origin": origin,
    }


def test_token_cookie_and_origin(served: str) -> None:
    assert httpx.get(served).status_code == 403
    assert httpx.get(f"{served}/?token=wrong").status_code == 403
    assert httpx.get(f"{served}/static/js/textual.js").status_code == 403
    page = httpx.get(f"{served}/?token={TOKEN}")
    assert page.status_code == 200 and "forge-tui" in page.text
    # Nothing from the internet, and the page's own stylesheet and script stay.
    assert "googleapis" not in page.text and "static/js/textual.js" in page.text and "static/css/xterm.css" in page.text
    cookie = page.cookies.get("forge_tui_token")
    assert cookie == TOKEN and "httponly" in page.headers["set-cookie"].lower()
    with httpx.Client(cookies={"forge_tui_token": TOKEN}) as browser:
        assert browser.get(f"{served}/").status_code == 200
        foreign = browser.get(f"{served}/ws", headers=websocket_headers("http://evil.example"))
        assert foreign.status_code == 403 and "another origin" in foreign.text
    with (
        httpx.Client(cookies={"forge_tui_token": TOKEN}) as browser,
        browser.stream("GET", f"{served}/ws?width=80&height=24", headers=websocket_headers(served)) as upgraded,
    ):
        assert upgraded.status_code == 101


def page_urls(page: str) -> tuple[str, str]:
    """The page's websocket URL and its stylesheet's URL."""
    socket_url = re.search(r'data-session-websocket-url="([^"]*)"', page)
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]*xterm.css)"', page)
    assert socket_url and stylesheet, page[:2000]
    return socket_url.group(1), stylesheet.group(1)


def test_https_public_url_makes_the_cookie_secure_and_the_page_use_it(fast_home_dir: Path) -> None:
    with serving(fast_home_dir, "--public-url", "https://forge.example") as (base, _):
        direct = httpx.get(f"{base}/?token={TOKEN}")
        assert direct.status_code == 200
        assert "secure" in [p.strip().lower() for p in direct.headers["set-cookie"].split(";")]
        # Behind the proxy the browser asks for forge.example: the page points there, over TLS.
        proxied = httpx.get(f"{base}/?token={TOKEN}", headers={"Host": "forge.example"})
        assert page_urls(proxied.text) == ("wss://forge.example/ws", "https://forge.example/static/css/xterm.css")
        # A page served to the proxy's address opening a websocket from elsewhere is refused.
        headers = websocket_headers(base) | {"Host": "forge.example"}
        foreign = httpx.get(f"{base}/ws", headers=headers, cookies={"forge_tui_token": TOKEN})
        assert foreign.status_code == 403 and "another origin" in foreign.text


@pytest.mark.slow
def test_wildcard_bind_answers_to_this_machines_names_only(fast_home_dir: Path) -> None:
    with serving(fast_home_dir, "--host", "0.0.0.0") as (base, _), httpx.Client(
        cookies={"forge_tui_token": TOKEN}
    ) as browser:  # fmt: skip
        port = base.rsplit(":", 1)[1]
        page = browser.get(f"{base}/")
        assert page.status_code == 200
        assert page_urls(page.text) == (f"ws://127.0.0.1:{port}/ws", f"{base}/static/css/xterm.css")
        by_name = browser.get(f"{base}/", headers={"Host": f"localhost:{port}"})
        assert page_urls(by_name.text)[0] == f"ws://localhost:{port}/ws"
        # A DNS name rebound to this machine, or another port, is refused whatever the token.
        for host in (f"evil.example:{port}", "evil.example", "127.0.0.1:1"):
            refused = browser.get(f"{base}/?token={TOKEN}", headers={"Host": host})
            assert refused.status_code == 400, host
            assert refused.text.startswith("forge-tui: this server does not answer to the address"), refused.text
            assert len(refused.text) < 200
        mixed = websocket_headers(f"http://127.0.0.1:{port}") | {"Host": f"localhost:{port}"}
        assert browser.get(f"{base}/ws", headers=mixed).status_code == 403
        same = websocket_headers(f"http://localhost:{port}") | {"Host": f"localhost:{port}"}
        with browser.stream("GET", f"{base}/ws?width=80&height=24", headers=same) as upgraded:
            assert upgraded.status_code == 101


def descendants(pid: int) -> set[int]:
    """The processes below `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    wanted = {pid}
    while wanted:
        wanted = {child for child, parent in parents.items() if parent in wanted} - found
        found |= wanted
    return found


async def first_output(socket: Any) -> str:
    """The first terminal output (a binary frame) that a websocket receives."""
    import aiohttp

    while True:
        message = await socket.receive(timeout=60)
        if message.type == aiohttp.WSMsgType.BINARY:
            return bytes(message.data).decode("utf-8", "replace")
        assert message.type == aiohttp.WSMsgType.TEXT, message


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="counts processes through Linux's /proc")
async def test_sessions_beyond_the_cap_are_refused_without_a_process(fast_home_dir: Path) -> None:
    import aiohttp

    with serving(fast_home_dir, "--max-sessions", "1") as (base, server):
        async with aiohttp.ClientSession(cookies={"forge_tui_token": TOKEN}) as browser:
            url = f"{base}/ws?width=100&height=30"
            first = await browser.ws_connect(url, origin=base)
            assert "refused" not in await first_output(first)
            running = descendants(server.pid)
            assert running  # the first tab's app
            second = await browser.ws_connect(url, origin=base)
            shown = await first_output(second)
            assert "at most 1 session at once (--max-sessions) and all are in use" in shown, shown
            assert "close another tab, then reload this one." in shown
            # Refused tabs are held only up to the cap too; beyond it the upgrade itself is refused.
            third = httpx.get(url, headers=websocket_headers(base), cookies={"forge_tui_token": TOKEN})
            assert third.status_code == 503 and "all are in use" in third.text
            assert descendants(server.pid) == running
            # Closing the first tab frees its place.
            await first.close()
            await second.close()
            deadline = time.monotonic() + 30
            while descendants(server.pid) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert not descendants(server.pid)
            again = await browser.ws_connect(url, origin=base)
            assert "in use" not in await first_output(again)
            await again.close()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_unlock_screen_renders_in_chromium(served: str, fast_home_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from typer.testing import CliRunner

    from forge_tui.cli import app as cli

    created = CliRunner().invoke(
        cli, ["--home", str(fast_home_dir), "user", "create", "-u", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    artifacts = Path(os.environ.get("FORGE_TUI_ARTIFACTS", fast_home_dir.parent))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            refused = page.goto(served)
            assert refused is not None and refused.status == 403
            # The terminal is drawn on a canvas: read what the app sent down the websocket instead.
            frames: list[bytes] = []  # the app's terminal output (text frames are pings and metadata)

            def on_socket(socket: Any) -> None:
                socket.on("framereceived", lambda f: frames.append(f) if isinstance(f, bytes) else None)

            page.on("websocket", on_socket)
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{served}/?token={TOKEN}")

            def shown() -> str:  # the terminal output without its escape sequences
                return re.sub(r"\x1b\[[0-9;?$<>=]*[A-Za-z]", "", b"".join(frames).decode("utf-8", "replace"))

            deadline = time.monotonic() + 30
            while not all(w in shown() for w in ("Unlock", "Username", "alice")) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert all(w in shown() for w in ("Unlock", "Username", "alice")), shown()[-2000:]
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts / "serve-unlock.png"))
            assert requested and all(u.startswith(served) for u in requested), requested

            # Unlock in this tab; a second tab is an app process of its own and asks again.
            page.mouse.click(590, 152)  # into the password field (the page gets the keys from then on)
            page.wait_for_timeout(300)
            page.keyboard.type(PASSWORD)
            page.keyboard.press("Enter")
            deadline = time.monotonic() + 30
            while "archived hidden" not in shown() and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            page.screenshot(path=str(artifacts / "serve-unlocked.png"))
            assert "1 dataset · archived hidden" in shown(), shown()[-2000:]
            other = browser.new_page(viewport={"width": 1200, "height": 800})
            frames.clear()
            other.on("websocket", on_socket)
            other.goto(f"{served}/?token={TOKEN}")
            deadline = time.monotonic() + 30
            while not all(w in shown() for w in ("Unlock", "Password")) and time.monotonic() < deadline:
                other.wait_for_timeout(200)
            assert all(w in shown() for w in ("Unlock", "Password")), shown()[-2000:]
            assert "archived hidden" not in shown()
        finally:
            browser.close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_a_browser_set_to_zh_tw_gets_the_unlock_screen_in_zh_tw(served: str, fast_home_dir: Path) -> None:
    """Chromium with its language set to zh-TW sends `Accept-Language: zh-TW`; the tab's app process
    opens in Traditional Chinese (screenshot kept as an artifact)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from typer.testing import CliRunner

    from forge_tui.cli import app as cli

    created = CliRunner().invoke(
        cli, ["--home", str(fast_home_dir), "user", "create", "-u", "alice", "--password-stdin"],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    artifacts = Path(os.environ.get("FORGE_TUI_ARTIFACTS", fast_home_dir.parent))
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            context = browser.new_context(locale="zh-TW", viewport={"width": 1200, "height": 800})
            page = context.new_page()
            frames: list[bytes] = []
            languages: list[str] = []
            page.on("request", lambda r: languages.append(r.headers.get("accept-language", "")))
            page.on(
                "websocket",
                lambda s: s.on("framereceived", lambda f: frames.append(f) if isinstance(f, bytes) else None),
            )
            page.goto(f"{served}/?token={TOKEN}")

            def shown() -> str:
                return re.sub(r"\x1b\[[0-9;?$<>=]*[A-Za-z]", "", b"".join(frames).decode("utf-8", "replace"))

            deadline = time.monotonic() + 30
            while not all(w in shown() for w in ("解鎖", "使用者名稱", "alice")) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert languages and languages[0].startswith("zh-TW"), languages[:1]
            assert all(w in shown() for w in ("解鎖", "使用者名稱", "密碼", "alice")), shown()[-2000:]
            assert "Username" not in shown()
            page.wait_for_timeout(500)
            page.screenshot(path=str(artifacts / "serve-unlock-zh-TW.png"))
        finally:
            browser.close()
