"""`forge-tui serve` as a real process: the token guards every route, the cookie carries it after the
first visit, and a websocket from another origin is refused."""

from __future__ import annotations

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

TOKEN = "test-token-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(fast_home_dir: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {"FORGE_TUI_SERVE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "forge_tui", "--home", str(fast_home_dir), "serve", "--port", str(port)],
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
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


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


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_unlock_screen_renders_in_chromium(served: str, fast_home_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from typer.testing import CliRunner

    from forge_tui.cli import app as cli

    created = CliRunner().invoke(
        cli, ["--home", str(fast_home_dir), "user", "create", "-u", "alice", "--password-stdin"],
        input="correct horse\n",
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
            page.keyboard.type("correct horse")
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
