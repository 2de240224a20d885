"""`forge-tui configs …`: saved job configurations (sealed), and their TOML files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len

from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    command_help,
    echo,
    errors,
    fail,
    open_home,
    sub_app,
    unlock_workspace,
)
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.job_configs import AnyConfig
    from forge_tui.services.job_configs import JobConfigService

configs_app = sub_app(
    _(
        "Saved configurations of generation, augmentation and judge jobs: list, show, save, delete, and TOML files "
        "(an API key is never kept in one, the name of its environment variable is)."
    )
)


def configs_for(user: str | None, password_stdin: bool) -> JobConfigService:
    """Configurations are sealed: the account is unlocked first."""
    from forge_tui.services.job_configs import JobConfigService

    workspace = unlock_workspace(open_home(), user, password_stdin)
    return JobConfigService(workspace.home, workspace.unlocked)


def _of_job(configs: JobConfigService, job_id: int, name: str) -> AnyConfig:
    from forge_tui.services.job_configs import config_of_job
    from forge_tui.services.jobs import JobService

    return config_of_job(JobService(configs.home, configs.unlocked), job_id, name)


@configs_app.command("list")
@command_help(_("List the saved configurations by name."))
def configs_list(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    with errors():
        found = configs_for(user, password_stdin).list()
    if as_json:
        echo(json.dumps([{"name": c.name, "kind": c.kind} for c in found], ensure_ascii=False))
        return
    if not found:
        echo(_("No saved configurations."))
    width = max((cell_len(c.name) for c in found), default=0)
    for config in found:
        echo(f"{config.name}{' ' * (width - cell_len(config.name))}  {config.kind}")


@configs_app.command("show")
@command_help(_("Print a configuration as TOML (as `configs export` writes it)."))
def configs_show(
    name: str, user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False
) -> None:
    from forge_tui.core.job_configs import dumps, to_document

    with errors():
        config = configs_for(user, password_stdin).get(name)
    if as_json:
        echo(json.dumps(to_document(config), ensure_ascii=False))
        return
    echo(dumps(config), nl=False)


@configs_app.command("save")
@command_help(_("Save a configuration under NAME (replacing one of that name) from a job's settings or a TOML file."))
def configs_save(
    name: str,
    from_job: Annotated[
        int | None,
        typer.Option("--from-job", metavar="ID", help=_("The settings of generation, judge or augment job ID.")),
    ] = None,
    from_file: Annotated[
        Path | None, typer.Option("--file", help=_("A configuration's TOML file, saved under NAME."))
    ] = None,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        if (from_file is None) == (from_job is None):
            raise InvalidInput(_("Give the configuration to save: --from-job ID or --file F."))
        configs = configs_for(user, password_stdin)
        config = configs.read_file(from_file, name) if from_file else _of_job(configs, from_job or 0, name)
        saved = configs.save(config)
    _said(_("Saved {kind} configuration '{name}'."), saved, as_json)


@configs_app.command("delete")
@command_help(_("Delete a saved configuration."))
def configs_delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before deleting it."))] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        configs = configs_for(user, password_stdin)
        config = configs.get(name)
        if not yes:
            if password_stdin or not sys.stdin.isatty():
                raise InvalidInput(_("Refusing to delete the configuration without --yes when nobody can answer."))
            if not typer.confirm(_("Delete configuration '{name}'?").format(name=config.name), default=False):
                fail(_("Nothing was deleted."), 2)
        configs.delete(config.name)
    if as_json:
        echo(json.dumps({"deleted": config.name}, ensure_ascii=False))
        return
    echo(_("Deleted configuration '{name}'.").format(name=config.name))


@configs_app.command("export")
@command_help(_("Write a configuration to a TOML file."))
def configs_export(
    name: str,
    out: Annotated[Path, typer.Option("--out", "-o", help=_("The TOML file to write."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        written = configs_for(user, password_stdin).export_file(name, out)
    if as_json:
        echo(json.dumps({"name": name, "path": str(written)}, ensure_ascii=False))
        return
    echo(_("Wrote configuration '{name}' to {path}.").format(name=name, path=written))


@configs_app.command("import")
@command_help(_("Read a configuration from a TOML file and save it (replacing one of that name)."))
def configs_import(
    file: Path,
    name: Annotated[str | None, typer.Option("--name", help=_("Save it under this name (default: its own)."))] = None,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        saved = configs_for(user, password_stdin).import_file(file, name)
    _said(_("Imported {kind} configuration '{name}'."), saved, as_json)


def _said(message: str, config: AnyConfig, as_json: bool) -> None:
    """`message` (translated, with {kind} and {name}) or the JSON of the configuration saved."""
    if as_json:
        echo(json.dumps({"name": config.name, "kind": config.kind}, ensure_ascii=False))
        return
    echo(message.format(kind=config.kind, name=config.name))
