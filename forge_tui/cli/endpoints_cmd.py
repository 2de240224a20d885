"""`forge-tui settings endpoints list|add|set|remove|refresh|use`: the model servers a job or an audition
may run on (one of them, or the pool of all that serve the model). No password is asked: Settings are
plain columns."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len

from forge_tui.cli.common import JsonOpt, UserOpt, account, command_help, echo, errors, fail, open_home, padded, sub_app
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from forge_tui.core.endpoints import Endpoint
    from forge_tui.services.endpoints import EndpointService, Listed

endpoints_app = sub_app(
    _("The model servers jobs and Audition use: one by name (--endpoint NAME) or all that serve the model (pool).")
)

EXIT_SERVER = 6
NameArg = Annotated[str, typer.Argument(metavar="NAME", help=_("The endpoint's name."))]
KindOpt = Annotated[str | None, typer.Option("--kind", metavar="ollama|openai|anthropic", help=_("The server's kind."))]
UrlOpt = Annotated[str | None, typer.Option("--url", metavar="URL", help=_("The server's base URL."))]
ApiKeyEnvOpt = Annotated[
    str | None,
    typer.Option("--api-key-env", metavar="VAR", help=_("Environment variable that holds its API key ('' for none).")),
]
MaxOpt = Annotated[
    int | None, typer.Option("--max-concurrency", metavar="N", help=_("Requests in flight at most (1-1024)."))
]


def _service(user: str | None) -> EndpointService:
    from forge_tui.services.endpoints import EndpointService
    from forge_tui.services.settings import SettingsService

    home = open_home()
    return EndpointService(SettingsService(home, account(home, user)))


def endpoint_json(endpoint: Endpoint) -> dict[str, Any]:
    return endpoint.model_dump(mode="json")


def _models_text(models: list[str]) -> str:
    return ", ".join(models) if models else "—"


def _said(listed: Listed, as_json: bool, added: bool) -> None:
    if listed.problem:
        warning = _("warning: its models could not be read: {problem}").format(problem=listed.problem)
        echo(f"forge-tui: {warning}", err=True)
    if as_json:
        echo(json.dumps({**endpoint_json(listed.endpoint), "problem": listed.problem}, indent=2))
        return
    found = len(listed.endpoint.models)
    if added:
        said = ngettext(
            "Endpoint '{name}' added: {url}, {count} model.", "Endpoint '{name}' added: {url}, {count} models.", found
        )
    else:
        said = ngettext(
            "Endpoint '{name}' changed: {url}, {count} model.",
            "Endpoint '{name}' changed: {url}, {count} models.",
            found,
        )
    echo(said.format(name=listed.endpoint.name, url=listed.endpoint.url, count=found))


@endpoints_app.command("list")
@command_help(_("List the endpoints with their kind, URL, max concurrency and models (as last read)."))
def endpoints_list(user: UserOpt = None, as_json: JsonOpt = False) -> None:
    from forge_tui.core.endpoints import POOL

    with errors():
        service = _service(user)
        settings = service.settings.backend()
    if as_json:
        echo(json.dumps([endpoint_json(e) for e in settings.endpoints], indent=2))
        return
    if not settings.endpoints:
        echo(_("No endpoints: jobs and Audition use the server in Settings (`forge-tui settings show`)."))
        return
    rows = [(_("NAME"), _("KIND"), "URL", _("MAX"), _("MODELS"))] + [
        (e.name, e.kind, e.url or "—", str(e.max_concurrency), _models_text(e.models)) for e in settings.endpoints
    ]
    widths = [max(cell_len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        echo("  ".join([*(padded(cell, widths[i]) for i, cell in enumerate(r[:4])), r[4]]))
    echo(_("Audition and new jobs use: {choice}").format(choice=settings.endpoint or POOL))


@endpoints_app.command("add")
@command_help(_("Add a model server and read its models; one that does not answer is still added, with a warning."))
def endpoints_add(
    name: NameArg,
    url: Annotated[str, typer.Option("--url", metavar="URL", help=_("The server's base URL."))],
    kind: Annotated[
        str, typer.Option("--kind", metavar="ollama|openai|anthropic", help=_("The server's kind."))
    ] = "ollama",
    api_key_env: ApiKeyEnvOpt = None,
    max_concurrency: MaxOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.endpoints import new_endpoint

    with errors():
        endpoint = new_endpoint(name, kind, url, api_key_env, max_concurrency)
        listed = asyncio.run(_service(user).add(endpoint))
    _said(listed, as_json, added=True)


@endpoints_app.command("set")
@command_help(
    _("Change an endpoint's kind, URL, key variable or max concurrency; a new kind or URL reads its models again.")
)
def endpoints_set(
    name: NameArg,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    max_concurrency: MaxOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    if kind is None and url is None and api_key_env is None and max_concurrency is None:
        fail(_("Nothing to change: give --kind, --url, --api-key-env or --max-concurrency."), 2)
    with errors():
        changes = {"kind": kind, "url": url, "api_key_env": api_key_env, "max_concurrency": max_concurrency}
        listed = asyncio.run(_service(user).update(name, **changes))
    _said(listed, as_json, added=False)


@endpoints_app.command("remove")
@command_help(_("Remove an endpoint; if Audition used it, it uses the pool from now on."))
def endpoints_remove(
    name: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before removing it."))] = False,
    user: UserOpt = None,
) -> None:
    with errors():
        service = _service(user)
        endpoint = service.get(name)
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput(
                    _("Refusing to remove the endpoint without --yes when nobody can answer the question.")
                )
            asked = _("Remove endpoint '{name}' ({url})?").format(name=endpoint.name, url=endpoint.url)
            if not typer.confirm(asked, default=False):
                fail(_("Nothing was removed."), 2)
        service.remove(endpoint.name)
    echo(_("Endpoint '{name}' removed.").format(name=endpoint.name))


@endpoints_app.command("refresh")
@command_help(
    _(
        "Read the models of one endpoint, or of every one, from their servers again.\n\n"
        "Exit 6 when a server did not answer (it keeps the models read before)."
    )
)
def endpoints_refresh(
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help=_("One endpoint (default: every one)."))] = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        found = asyncio.run(_service(user).refresh(name))
    if as_json:
        echo(json.dumps([{**endpoint_json(r.endpoint), "problem": r.problem} for r in found], indent=2))
    for listed in found:
        if listed.problem:
            echo(f"forge-tui: {listed.endpoint.name}: {listed.problem}", err=True)
        elif not as_json:
            echo(f"{listed.endpoint.name}: {_models_text(listed.endpoint.models)}")
    if not found and not as_json:
        echo(_("No endpoints to refresh: `forge-tui settings endpoints add` adds one."))
    if any(r.problem for r in found):
        raise typer.Exit(EXIT_SERVER)


@endpoints_app.command("use")
@command_help(
    _("Choose where Audition runs and new jobs start: one endpoint, or the pool of all that serve the model.")
)
def endpoints_use(
    name: Annotated[str, typer.Argument(metavar="NAME|pool", help=_("An endpoint's name, or pool."))],
    user: UserOpt = None,
) -> None:
    from forge_tui.services.endpoints import choice_text

    with errors():
        choice = _service(user).choose(name)
    echo(_("Audition and new jobs use: {choice}").format(choice=choice_text(choice)))
