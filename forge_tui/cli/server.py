"""`forge-tui doctor` and `forge-tui models`: the model server."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.backend_options import ApiKeyEnvOpt, KindOpt, UrlOpt, account_backend
from forge_tui.cli.common import UserOpt, echo, errors, open_home

if TYPE_CHECKING:
    from forge_tui.core.chat import ModelInfo
    from forge_tui.services.backends import DoctorReport


def doctor(
    user: UserOpt = None,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Check the model server, the models it has, the data directory (and who else can read it) and
    the database schema.

    Exits 6 when the model server cannot be reached."""
    import asyncio

    from forge_tui.services.backends import BackendService
    from forge_tui.services.db_info import schema_status

    with errors():
        home = open_home()
        settings = account_backend(home, user, kind, url, api_key_env)

        async def run() -> tuple[str, DoctorReport]:
            async with BackendService(settings) as service:
                return service.label, await service.doctor()

        label, report = asyncio.run(run())
        current, head = schema_status(home)
        exposed = home.exposed_files()
    if as_json:
        echo(
            json.dumps(
                {
                    "backend": {
                        "kind": settings.kind,
                        "url": report.health.base_url,
                        "reachable": report.health.ok,
                        "version": report.health.version,
                        "message": report.health.message,
                    },
                    "models": [m.name for m in report.models],
                    "data_dir": str(home.path),
                    "exposed_files": exposed,
                    "schema": {"current": current, "head": head},
                },
                indent=2,
            )
        )
    else:
        state = "ok" if report.health.ok else "NOT REACHABLE"
        echo(f"backend      {label}: {state}")
        if report.health.version:
            echo(f"version      {report.health.version}")
        if not report.health.ok:
            echo(f"             {report.health.message}")
        elif report.models_error:
            echo(f"models       could not list: {report.models_error}")
        else:
            names = ", ".join(m.name for m in report.models) or "none — pull one first"
            echo(f"models       {len(report.models)}: {names}")
        echo(f"data dir     {home.path}")
        echo("permissions  " + ("owner only" if not exposed else "\n             ".join(exposed)))
        echo(f"schema       {current} (head {head})" + ("" if current == head else " — out of date"))
        for name, model in (("generation", settings.generation_model), ("paraphrase", settings.paraphrase_model)):
            if model:
                present = any(m.name == model for m in report.models)
                note = "" if present or not report.health.ok else " — not on the server"
                echo(f"{name:<12} {model}{note}")
    if not report.health.ok:
        raise typer.Exit(6)


def models(
    user: UserOpt = None,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the models the server has, with size, parameter count and quantisation."""
    import asyncio

    from forge_tui.services.backends import BackendService

    with errors():
        settings = account_backend(open_home(), user, kind, url, api_key_env)

        async def run() -> list[ModelInfo]:
            async with BackendService(settings) as service:
                return await service.models()

        found = asyncio.run(run())
    if as_json:
        echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2))
        return
    if not found:
        echo("The server has no models. With Ollama: `ollama pull llama3.2`.")
        return
    rows = [("NAME", "SIZE", "PARAMS", "QUANT", "FAMILY")] + [
        (m.name, m.size_text, m.parameter_size or "—", m.quantization or "—", m.family or "—") for m in found
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())
