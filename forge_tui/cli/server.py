"""`forge-tui doctor`: the model server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len

from forge_tui.cli.backend_options import ApiKeyEnvOpt, KindOpt, UrlOpt, account_backend
from forge_tui.cli.common import UserOpt, command_help, echo, errors, open_home, padded
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.chat import Health
    from forge_tui.services.backends import DoctorReport


@command_help(
    _(
        "Check the model server, the models it has, every endpoint of Settings, the data directory (and "
        "who else can read it) and the database schema.\n\n"
        "Exits 6 when the model server or an endpoint cannot be reached."
    )
)
def doctor(
    user: UserOpt = None,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print JSON."))] = False,
) -> None:
    import asyncio

    from forge_tui.services.backends import BackendService
    from forge_tui.services.db_info import schema_status
    from forge_tui.services.endpoints import servers_health

    with errors():
        home = open_home()
        settings = account_backend(home, user, kind, url, api_key_env)

        async def run() -> tuple[str, DoctorReport, list[tuple[str, Health]]]:
            async with BackendService(settings) as service:
                # --kind or --url name one server and leave the endpoints out (with_flags).
                asked = servers_health(settings) if settings.endpoints else asyncio.sleep(0, result=[])
                found, endpoints = await asyncio.gather(service.doctor(), asked)
                return service.label, found, endpoints

        label, report, endpoints = asyncio.run(run())
        current, head = schema_status(home)
        exposed = home.exposed_files()
    if as_json:
        echo(
            json.dumps(
                {
                    "backend": {
                        "kind": settings.kind,
                        "url": report.health.base_url,
                        "reachable": report.health.ok or report.health.busy,
                        "busy": report.health.busy,
                        "version": report.health.version,
                        "message": report.health.message,
                    },
                    "models": [m.name for m in report.models],
                    "endpoints": [
                        {
                            "name": name,
                            "url": health.base_url,
                            "reachable": health.ok or health.busy,
                            "busy": health.busy,
                            "version": health.version,
                            "message": health.message,
                        }
                        for name, health in endpoints
                    ],
                    "data_dir": str(home.path),
                    "exposed_files": exposed,
                    "schema": {"current": current, "head": head},
                },
                indent=2,
            )
        )
    else:
        words = {
            "backend": _("backend"),
            "version": _("version"),
            "models": _("models"),
            "data": _("data dir"),
            "permissions": _("permissions"),
            "schema": _("schema"),
            "generation": _("generation"),
            "paraphrase": _("paraphrase"),
            "endpoints": _("endpoints"),
        }
        width = max(12, *(cell_len(word) + 1 for word in words.values()))

        def line(key: str, text: str) -> None:
            echo(f"{padded(words[key], width)} {text}")

        indent = " " * (width + 1)
        line("backend", f"{label}: {_state(report.health)}")
        if report.health.version:
            line("version", report.health.version)
        if not report.health.ok:
            echo(f"{indent}{report.health.message}")
        elif report.models_error:
            line("models", _("could not list: {error}").format(error=report.models_error))
        else:
            names = ", ".join(m.name for m in report.models) or _("none — pull one first")
            line("models", f"{len(report.models)}: {names}")
        for i, (name, health) in enumerate(endpoints):
            shown = f"{name} ({health.base_url}): {_state(health)}"
            echo(f"{padded(words['endpoints'], width)} {shown}" if i == 0 else f"{indent}{shown}")
            if not health.ok:
                echo(f"{indent}  {health.message}")
        line("data", str(home.path))
        line("permissions", _("owner only") if not exposed else f"\n{indent}".join(exposed))
        if current == head:
            line("schema", _("{current} (head {head})").format(current=current, head=head))
        else:
            line("schema", _("{current} (head {head}) — out of date").format(current=current, head=head))
        for name, model in (("generation", settings.generation_model), ("paraphrase", settings.paraphrase_model)):
            if model:
                present = any(m.name == model for m in report.models)
                note = "" if present or not report.health.ok else _(" — not on the server")
                line(name, f"{model}{note}")
    if any(not h.ok and not h.busy for h in (report.health, *(health for _name, health in endpoints))):
        raise typer.Exit(6)


def _state(health: Health) -> str:
    return _("ok") if health.ok else _("BUSY") if health.busy else _("NOT REACHABLE")
