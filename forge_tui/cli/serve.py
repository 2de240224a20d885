"""`forge-tui serve`: the app in a browser through textual-serve, behind an access token.

textual-serve has no authentication and does not check where a websocket comes from, and every
websocket it accepts starts a process with the user's data directory. So every route here wants the
random token printed at start (in the URL's query the first time, then from an HttpOnly cookie), and
a websocket upgrade from a page of another origin is refused. Each browser tab is its own app
process, which unlocks on its own.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from forge_tui.cli.common import echo, errors, open_home

COOKIE = "forge_tui_token"
Handler = Callable[[Any], Awaitable[Any]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(host: str, port: int, public_url: str) -> set[str]:
    origins = {origin_of(public_url)}
    if is_loopback(host):
        origins |= {f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://[::1]:{port}"}
    else:
        origins.add(f"http://{host}:{port}")
    return origins


def make_guard(token: str, origins: set[str]) -> Any:
    """aiohttp middleware: 403 without the token, and for a websocket from a foreign origin."""
    from aiohttp import web

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        from_query = request.query.get("token", "")
        given = from_query or request.cookies.get(COOKIE, "")
        if not hmac.compare_digest(given.encode(), token.encode()):
            return web.Response(
                status=403, text="forge-tui: open the address with the access token that `forge-tui serve` printed.\n"
            )
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and origin.lower() not in origins:
                return web.Response(status=403, text="forge-tui: websocket from another origin refused.\n")
        response: web.StreamResponse = await handler(request)
        if from_query and not response.prepared:
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return guard


_ABSOLUTE_LINK = re.compile(r"""<link\b[^>]*\bhref=["'](https?://[^"']*)["'][^>]*>\s*""", re.IGNORECASE)


def make_offline_page(own_url: str) -> Any:
    """aiohttp middleware: textual-serve's page links a web font from Google; drop links to other
    hosts so the page loads nothing from the internet (the terminal falls back to a local monospace)."""
    from aiohttp import web

    @web.middleware
    async def offline(request: web.Request, handler: Handler) -> web.StreamResponse:
        response: web.StreamResponse = await handler(request)
        if isinstance(response, web.Response) and response.content_type == "text/html" and response.text:
            # The page's own stylesheets are absolute too (under the public URL): keep those.
            response.text = _ABSOLUTE_LINK.sub(
                lambda link: link.group(0) if link.group(1).startswith(own_url) else "", response.text
            )
        return response

    return offline


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="The address browsers use (an SSH tunnel or a reverse proxy)."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="FORGE_TUI_SERVE_TOKEN", help="Access token (default: random).")
    ] = None,
) -> None:
    """Serve the app to a browser (textual-serve), protected by an access token."""
    from aiohttp import web
    from textual_serve.server import Server

    with errors():
        home = open_home()
    access = token or secrets.token_urlsafe(24)
    command = shlex.join([sys.executable, "-m", "forge_tui", "--home", str(home.path)])
    home.close()
    url = public_url.rstrip("/") if public_url else f"http://{'127.0.0.1' if host == 'localhost' else host}:{port}"
    origins = allowed_origins(host, port, url)

    class GuardedServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(make_guard(access, origins))
            app.middlewares.append(make_offline_page(f"{url}/"))
            return app

        async def on_startup(self, app: web.Application) -> None:
            self.console.print(f"forge-tui is served at {url}/?token={access}", highlight=False)
            self.console.print("Each browser tab unlocks on its own. Press Ctrl+C to stop.", highlight=False)

    if not is_loopback(host):
        echo(
            f"forge-tui: warning: listening on {host}, not only this machine; anyone who can reach it and has "
            "the token can use the app (prefer an SSH tunnel to 127.0.0.1).",
            err=True,
        )
    GuardedServer(command, host=host, port=port, title="forge-tui", public_url=url).serve()
