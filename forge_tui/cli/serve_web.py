"""The web side of `forge-tui serve`: textual-serve behind a Host check, an access token and an origin
check, with a cap on the app processes that browser tabs start.

textual-serve has no authentication, does not check where a websocket comes from, and starts a
process with the user's data directory for every websocket it accepts. Imported only by the `serve`
command (aiohttp and textual-serve are slow to import).
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

from forge_tui.cli.serve_addresses import Addresses, origin_of
from forge_tui.i18n import _, from_accept_language, ngettext

COOKIE = "forge_tui_token"
BASE_URL = "forge_tui.base_url"  # where the guard leaves the request's base URL
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _shown(value: str, limit: int = 80) -> str:
    printable = "".join(c for c in value if c.isprintable())
    return printable if len(printable) <= limit else printable[: limit - 1] + "…"


def make_guard(token: str, addresses: Addresses) -> Any:
    """aiohttp middleware: 400 for a Host this server does not answer to, 403 without the token, and
    403 for a websocket opened by a page of another origin."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host", "")
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        base = addresses.base_for(host, sockname[0] if sockname else None)
        if base is None:
            return web.Response(
                status=400,
                text="forge-tui: "
                + _(
                    "this server does not answer to the address {address}; open the address "
                    "`forge-tui serve` printed, or name this one with --public-url."
                ).format(address=repr(_shown(host)))
                + "\n",
            )
        from_query = request.query.get("token", "")
        given = from_query or request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(
                status=403,
                text="forge-tui: " + _("open the address with the access token that `forge-tui serve` printed.") + "\n",
            )
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and origin.lower() != origin_of(base):
                return web.Response(status=403, text="forge-tui: websocket from another origin refused.\n")
        request[BASE_URL] = base
        response = await handler(request)
        if from_query and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/", secure=addresses.secure)
        return response

    return guard


_ABSOLUTE_LINK = re.compile(r"""<link\b[^>]*\bhref=["'](https?://[^"']*)["'][^>]*>\s*""", re.IGNORECASE)


def make_offline_page() -> Any:
    """aiohttp middleware: textual-serve's page links a web font from Google; drop links to other
    hosts so the page loads nothing from the internet (the terminal falls back to a local monospace)."""

    @web.middleware
    async def offline(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        own = request.get(BASE_URL)
        if own and isinstance(response, web.Response) and response.content_type == "text/html" and response.text:
            # The page's own stylesheets are absolute too (under its base URL): keep those.
            response.text = _ABSOLUTE_LINK.sub(
                lambda link: link.group(0) if link.group(1).startswith(f"{own}/") else "", response.text
            )
        return response

    return offline


class Sessions:
    """How many app processes run, and how many refused tabs are still shown why."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.refused = 0

    @property
    def refusal(self) -> str:
        refused = ngettext(
            "this server runs at most {limit} session at once (--max-sessions) and all are "
            "in use; close another tab, then reload this one.",
            "this server runs at most {limit} sessions at once (--max-sessions) and all are "
            "in use; close another tab, then reload this one.",
            self.limit,
        )
        return "forge-tui: " + refused.format(limit=self.limit)


def browser_locale(accept_language: str | None) -> dict[str, str]:
    """The environment that tells an app process the browser's language: as LANGUAGE, the locale
    variable forge_tui.i18n reads first, so --lang, FORGE_TUI_LANG and the account's saved choice
    still win over it, as they do over a terminal's locale. No header: the server's own locale."""
    if not accept_language:
        return {}
    found = from_accept_language(accept_language)
    # A name forge_tui.i18n reads back to the same language and note, never the header's own text.
    return {"LANGUAGE": "zh_CN" if found.note else found.language}


class BrowserAppService(AppService):
    """textual-serve's app process, started with the browser's language in its environment."""

    def __init__(self, command: str, *, extra_environment: dict[str, str], **options: Any) -> None:
        super().__init__(command, **options)
        self.extra_environment = extra_environment

    def _build_environment(self, width: int = 80, height: int = 24) -> dict[str, str]:
        return super()._build_environment(width, height) | self.extra_environment


class GuardedServer(Server):
    def __init__(self, command: str, addresses: Addresses, token: str, max_sessions: int) -> None:
        super().__init__(
            command,
            host=addresses.bind,
            port=addresses.port,
            title="forge-tui",
            public_url=addresses.printed_url,
        )
        self.addresses = addresses
        self.token = token
        self.sessions = Sessions(max_sessions)

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(make_guard(self.token, self.addresses))
        app.middlewares.append(make_offline_page())
        return app

    async def on_startup(self, app: web.Application) -> None:
        served = _("forge-tui is served at {url}").format(url=f"{self.addresses.printed_url}/?token={self.token}")
        self.console.print(served, highlight=False)
        self.console.print(_("Each browser tab unlocks on its own. Press Ctrl+C to stop."), highlight=False)

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """textual-serve's page, with its websocket and files under the address the browser used."""
        base: str = request[BASE_URL]
        scheme, rest = base.split(":", 1)
        context = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": ("wss:" if scheme == "https" else "ws:") + rest + "/ws",
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        sessions = self.sessions
        if sessions.open < sessions.limit:
            sessions.open += 1
            try:
                return await self._run_app(request)
            finally:
                sessions.open -= 1
        return await self._refuse(request)

    async def _run_app(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handle_websocket, with the page's Accept-Language passed to the process it
        starts (textual-serve gives every process the server's own environment)."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        try:
            await websocket.prepare(request)
            app_service = BrowserAppService(
                self.command,
                extra_environment=browser_locale(request.headers.get("Accept-Language")),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            try:
                await self._process_messages(websocket, app_service)
            finally:
                await app_service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:
            log.exception(error)
        finally:
            if app_service is not None:
                await app_service.stop()
        return websocket

    async def _refuse(self, request: web.Request) -> web.WebSocketResponse:
        """No process for a tab beyond the cap. The page shows only what arrives as terminal output
        (a closed socket reads "Session ended."), so the tab gets the reason as text and the socket
        stays open until the tab goes; refused tabs held that way are capped too."""
        sessions = self.sessions
        if sessions.refused >= sessions.limit:
            raise web.HTTPServiceUnavailable(text=sessions.refusal + "\n")
        sessions.refused += 1
        try:
            websocket = web.WebSocketResponse(heartbeat=15)
            await websocket.prepare(request)
            await websocket.send_bytes(f"\r\n {sessions.refusal}\r\n".encode())
            async for _ in websocket:
                pass
            return websocket
        finally:
            sessions.refused -= 1
