"""`forge-tui deploy RUN --name NAME`: a training run's adapter as an Ollama model (Modelfile written beside
it, blobs uploaded by digest, /api/create), with a line per step, or a JSON object per step with --json."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.backend_options import BackendFlags, account_backend, backend_options
from forge_tui.cli.common import JsonOpt, UserOpt, account, command_help, echo, errors, fail, open_home
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.deploy import DeployPlan, DeployProgress, DeployService

EXIT_USAGE = 2


class _Lines:
    """A line per step on a terminal; the server's repeated statuses (copy progress) once each."""

    def __init__(self) -> None:
        self._last = ""

    def show(self, step: DeployProgress) -> None:
        line = step.text()
        if line is None or (step.stage == "create" and line == self._last):
            return
        if step.stage == "create":
            self._last = line
        echo(line)


@command_help(
    _(
        "Make an Ollama model of a training run's adapter: RUN is a training job's id or its output folder "
        "(or a .gguf adapter). Writes a Modelfile beside the adapter (FROM the base, ADAPTER, the template and "
        "stop tokens of the chat format trained on), uploads the adapter's files by their sha256 (skipping "
        "what the server has), and creates the model, which then shows on the Models screen.\n\n"
        "Exit 0 when the model was created; 2 for bad input or when not confirmed; 5 when there is no such "
        "run or no adapter in it; 6 when the server refused the upload or the create, or does not have the base."
    )
)
@backend_options
def deploy(
    run: Annotated[str, typer.Argument(metavar="RUN", help=_("A training job's id, or a run's output folder."))],
    name: Annotated[str, typer.Option("--name", "-n", help=_("The new model's name, like my-model:v1."))],
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="OLLAMA_MODEL",
            help=_("The Ollama model for FROM (default: Ollama's name of the model trained on)."),
        ),
    ] = None,
    chat_format: Annotated[
        str | None,
        typer.Option(
            "--chat-format", help=_("The chat format trained on, like gemma, llama3, qwen2, chatml, mistral.")
        ),
    ] = None,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", metavar="NAME=VALUE", help=_("A Modelfile PARAMETER, like temperature=0.7.")),
    ] = None,
    system: Annotated[str | None, typer.Option("--system", help=_("A system prompt for the model."))] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Replace a model of that name without asking."))] = False,
    user: UserOpt = None,
    as_json: JsonOpt = False,
    *,
    flags: BackendFlags,
) -> None:
    from forge_tui.core.modelfile import user_parameters
    from forge_tui.services.deploy import DeployService, find_run

    with errors():
        home = open_home()
        service = DeployService(flags.over(account_backend(home, user, None, None, None)))
        owner = account(home, user).id if run.strip().isdigit() else None
        found = find_run(home, owner, run)
        plan = service.plan(
            found,
            name,
            base=base,
            chat_format=chat_format,
            parameters=user_parameters(parameter or []),
            system=system,
        )
        if not yes and asyncio.run(service.exists(plan.name, plan.endpoint)):
            _confirm_replace(plan)
        asyncio.run(_follow(service, plan, as_json))
    if not as_json:
        echo(
            _("Deployed '{name}' on endpoint '{endpoint}' (FROM {base}).").format(
                name=plan.name, endpoint=plan.endpoint, base=plan.spec.base
            )
        )


def _confirm_replace(plan: DeployPlan) -> None:
    if not sys.stdin.isatty():
        raise InvalidInput(
            _("Endpoint '{endpoint}' has a model '{name}' already: give --yes to replace it.").format(
                endpoint=plan.endpoint, name=plan.name
            )
        )
    question = _("Replace the model '{name}' on endpoint '{endpoint}'?").format(name=plan.name, endpoint=plan.endpoint)
    if not typer.confirm(question, default=False):
        fail(_("Nothing was deployed."), EXIT_USAGE)


async def _follow(service: DeployService, plan: DeployPlan, as_json: bool) -> None:
    lines = _Lines()
    async for step in service.deploy(plan):
        if as_json:
            echo(json.dumps(step.as_json(), ensure_ascii=False))
        else:
            lines.show(step)
