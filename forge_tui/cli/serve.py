"""`forge-tui serve`: the app in a browser through textual-serve, behind an access token.

Every route wants the random token printed at start (in the URL's query the first time, then from an
HttpOnly cookie); a request naming another host, or a websocket from a page of another origin, is
refused; and at most `--max-sessions` browser tabs run an app process at once (each tab is its own
process, which unlocks on its own). The web side is in `serve_web`, the addresses in `serve_addresses`.
"""

from __future__ import annotations

import secrets
import shlex
import sys
from typing import Annotated

import typer

from forge_tui.cli.common import command_help, echo, errors, open_home
from forge_tui.cli.serve_addresses import Addresses, is_loopback
from forge_tui.i18n import _


@command_help(_("Serve the app to a browser (textual-serve), protected by an access token."))
def serve(
    host: Annotated[str, typer.Option("--host", help=_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=_("Port to listen on."))] = 8000,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help=_("The address browsers use (an SSH tunnel or a reverse proxy).")),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", envvar="FORGE_TUI_SERVE_TOKEN", help=_("Access token (default: random)."))
    ] = None,
    max_sessions: Annotated[
        int, typer.Option("--max-sessions", min=1, help=_("Browser tabs that may run the app at once."))
    ] = 4,
) -> None:
    from forge_tui.cli.serve_web import GuardedServer

    with errors():
        home = open_home()
    access = token or secrets.token_urlsafe(24)
    command = shlex.join([sys.executable, "-m", "forge_tui", "--home", str(home.path)])
    home.close()
    addresses = Addresses(host, port, public_url.rstrip("/") if public_url else None)
    if not is_loopback(host):
        warning = _(
            "warning: listening on {host}, not only this machine; anyone who can reach it and has "
            "the token can use the app (prefer an SSH tunnel to 127.0.0.1)."
        )
        echo("forge-tui: " + warning.format(host=host), err=True)
    GuardedServer(command, addresses, access, max_sessions).serve()
