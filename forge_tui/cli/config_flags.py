"""`--config NAME` of the job commands: a saved configuration under the flags given beside it."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from forge_tui.cli.backend_options import BackendFlags
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.job_configs import AnyConfig
    from forge_tui.services.workspace import Workspace

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        metavar="NAME",
        help=_("Start from a saved configuration (`forge-tui configs`); flags given beside it override it."),
    ),
]
Config = TypeVar("Config", bound="AnyConfig")


def given(context: typer.Context, *names: str) -> set[str]:
    """Which of the command's parameters `names` were given (on the command line or by environment)."""
    found = set()
    for name in names:
        source = context.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            found.add(name)
    return found


def saved(workspace: Workspace, name: str, kind: type[Config]) -> Config:
    """The saved configuration `name`, which must be of `kind`."""
    from forge_tui.services.job_configs import JobConfigService

    config = JobConfigService(workspace.home, workspace.unlocked).get(name)
    if not isinstance(config, kind):
        wanted = kind.model_fields["kind"].default
        raise InvalidInput(
            _("Configuration '{name}' is a {kind} configuration, not a {wanted} one.").format(
                name=config.name, kind=config.kind, wanted=wanted
            )
        )
    return config


def flags_with(flags: BackendFlags, config: AnyConfig) -> BackendFlags:
    """The configuration's endpoint and key variable where no server flag was given."""
    if flags.endpoint is not None or flags.kind or flags.url or flags.api_key_env is not None:
        return flags
    if config.endpoint:
        return replace(flags, endpoint=config.endpoint)
    if config.api_key_env:
        return replace(flags, api_key_env=config.api_key_env)
    return flags
