"""`forge-tui models list|show|pull|rm|cp|ps`: the models of the configured endpoints (`forge-tui models`
alone lists them, as it always did)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.cells import cell_len

from forge_tui.cli.backend_options import BackendFlags, account_backend, backend_options
from forge_tui.cli.common import (
    EXIT_CODES_HELP,
    JsonOpt,
    UserOpt,
    _CommandGroup,
    command_help,
    echo,
    errors,
    fail,
    open_home,
)
from forge_tui.cli.common import padded as pad
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.model_catalog import ModelEntry
    from forge_tui.services.models import ModelService

T = TypeVar("T")

models_app = typer.Typer(
    help=_("The models of the configured endpoints: list, show, pull, delete, copy, and what is loaded."),
    epilog=EXIT_CODES_HELP,
    rich_markup_mode=None,
    invoke_without_command=True,
    no_args_is_help=False,
    cls=_CommandGroup,  # each command's first sentence in the list, cut to the terminal (see sub_app)
)

NameArg = Annotated[str, typer.Argument(metavar="MODEL", help=_("The model's name, like llama3.2 or qwen3:0.6b."))]


def _service(user: str | None, flags: BackendFlags) -> ModelService:
    from forge_tui.services.models import ModelService

    return ModelService(flags.over(account_backend(open_home(), user, None, None, None)))


def _run(call: Callable[[ModelService], T], user: str | None, flags: BackendFlags) -> T:
    """`call` on the service, in the CLI's error handling (an error exits with its code)."""
    with errors():
        return call(_service(user, flags))
    raise AssertionError("unreachable")  # pragma: no cover


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(cell_len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  ".join(pad(cell, widths[i]) for i, cell in enumerate(r)).rstrip())


def _loaded_text(entry: ModelEntry) -> str:
    from forge_tui.core.model_catalog import size_text

    if not entry.loaded:
        return "—"
    return _("yes, {size} in VRAM").format(size=size_text(entry.size_vram)) if entry.size_vram else _("yes")


@models_app.callback(invoke_without_command=True)
@backend_options
def models_root(ctx: typer.Context, user: UserOpt = None, as_json: JsonOpt = False, *, flags: BackendFlags) -> None:
    if ctx.invoked_subcommand is None:
        _list(user, as_json, flags)


@models_app.command("list")
@command_help(
    _(
        "List the models of every configured endpoint (or of --endpoint), with size, parameter count, "
        "quantisation, family, context length and whether each is loaded now.\n\n"
        "Exits 6 when an endpoint could not be read (the models of the others are still listed)."
    )
)
@backend_options
def models_list(user: UserOpt = None, as_json: JsonOpt = False, *, flags: BackendFlags) -> None:
    _list(user, as_json, flags)


def _list(user: str | None, as_json: bool, flags: BackendFlags) -> None:
    with errors():
        service = _service(user, flags)
        if flags.endpoint is not None and service.settings.endpoint is not None:
            chosen = service.endpoint()
            service.settings = service.settings.model_copy(update={"endpoints": [chosen]})
        catalog = asyncio.run(service.catalog())
    found = catalog.entries
    for name, problem in catalog.problems:
        echo(_("forge-tui: endpoint '{name}': {problem}").format(name=name, problem=problem), err=True)
    if as_json:
        echo(json.dumps([m.model_dump(mode="json") for m in found], indent=2, ensure_ascii=False))
    elif found:
        many = len({m.endpoint for m in found}) > 1 or len(service.endpoints()) > 1
        head = (_("NAME"), _("SIZE"), _("PARAMS"), _("QUANT"), _("FAMILY"), _("CONTEXT"), _("LOADED"))
        rows = [head + ((_("ENDPOINT"),) if many else ())]
        for m in found:
            context = str(m.context_length) if m.context_length else "—"
            cells = (m.name, _size(m.size), m.parameter_size or "—", m.quantization or "—", m.family or "—", context)
            rows.append((*cells, _loaded_text(m), *((m.endpoint,) if many else ())))
        _table(rows)
    elif not catalog.problems:
        echo(_("The server has no models. With Ollama: `ollama pull llama3.2`."))
    if catalog.problems:
        raise typer.Exit(6)


def _size(size: int | None) -> str:
    from forge_tui.core.model_catalog import size_text

    return size_text(size)


@models_app.command("show")
@command_help(_("Show a model's details: template, parameters, license, capabilities and context length."))
@backend_options
def models_show(model: NameArg, user: UserOpt = None, as_json: JsonOpt = False, *, flags: BackendFlags) -> None:
    details = _run(lambda s: asyncio.run(s.details(model)), user, flags)
    if as_json:
        echo(json.dumps(details.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return
    lines = [
        (_("name"), details.name),
        (_("endpoint"), details.endpoint),
        (_("family"), details.family or "—"),
        (_("parameters"), details.parameter_size or "—"),
        (_("quantisation"), details.quantization or "—"),
        (_("context"), str(details.context_length or "—")),
        (_("capabilities"), ", ".join(details.capabilities) or "—"),
        (_("license"), details.license.strip().splitlines()[0] if details.license.strip() else "—"),
    ]
    width = max(cell_len(key) for key, _value in lines) + 1
    for key, value in lines:
        echo(f"{pad(key, width)} {value}")
    for title, text in ((_("Parameters:"), details.parameters), (_("Template:"), details.template)):
        if text.strip():
            echo()
            echo(title)
            echo(text.rstrip())


@models_app.command("ps")
@command_help(_("List the models loaded now, with their memory use and when they will be unloaded."))
@backend_options
def models_ps(user: UserOpt = None, as_json: JsonOpt = False, *, flags: BackendFlags) -> None:
    loaded = _run(lambda s: asyncio.run(s.running()), user, flags)
    if as_json:
        echo(json.dumps([m.model_dump(mode="json") for m in loaded], indent=2, ensure_ascii=False))
        return
    if not loaded:
        echo(_("No model is loaded now."))
        return
    rows = [(_("NAME"), _("SIZE"), _("VRAM"), _("CONTEXT"), _("UNTIL"))]
    rows += [
        (m.name, _size(m.size), _size(m.size_vram), str(m.context_length or "—"), m.expires_at or "—") for m in loaded
    ]
    _table(rows)


@models_app.command("pull")
@command_help(
    _(
        "Pull a model onto an Ollama endpoint: a progress bar per layer on a terminal, one JSON object per "
        "progress line with --json.\n\n"
        "Exits 6 when the registry has no such model or the server failed (a full disk, say)."
    )
)
@backend_options
def models_pull(model: NameArg, user: UserOpt = None, as_json: JsonOpt = False, *, flags: BackendFlags) -> None:
    from forge_tui.cli.pull_progress import PullDisplay

    display = PullDisplay(as_json=as_json, terminal=sys.stdout.isatty())

    async def follow(service: ModelService) -> None:
        with display:
            async for line in service.pull(model):
                display.show(line)

    _run(lambda s: asyncio.run(follow(s)), user, flags)
    if not as_json:
        echo(_("Pulled '{model}'.").format(model=model))


@models_app.command("rm")
@command_help(_("Delete a model from an Ollama endpoint (asks first, unless --yes)."))
@backend_options
def models_rm(
    model: NameArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before deleting it."))] = False,
    user: UserOpt = None,
    as_json: JsonOpt = False,
    *,
    flags: BackendFlags,
) -> None:
    with errors():
        service = _service(user, flags)
        endpoint = service.endpoint().name
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput(_("Refusing to delete the model without --yes when nobody can answer."))
            question = _("Delete model '{model}' from endpoint '{endpoint}'?").format(model=model, endpoint=endpoint)
            if not typer.confirm(question, default=False):
                fail(_("Nothing was deleted."), 2)
        asyncio.run(service.delete(model))
    if as_json:
        echo(json.dumps({"deleted": model, "endpoint": endpoint}, ensure_ascii=False))
        return
    echo(_("Deleted model '{model}' from endpoint '{endpoint}'.").format(model=model, endpoint=endpoint))


@models_app.command("cp")
@command_help(_("Copy a model under a second name on an Ollama endpoint."))
@backend_options
def models_cp(
    source: NameArg,
    destination: Annotated[str, typer.Argument(metavar="NEW_NAME", help=_("The copy's name."))],
    user: UserOpt = None,
    as_json: JsonOpt = False,
    *,
    flags: BackendFlags,
) -> None:
    _run(lambda s: asyncio.run(s.copy(source, destination)), user, flags)
    if as_json:
        echo(json.dumps({"copied": source, "to": destination}, ensure_ascii=False))
        return
    echo(_("Copied '{source}' to '{destination}'.").format(source=source, destination=destination))
