"""The `forge-tui` command: the TUI by default, and subcommands that share its services."""

from __future__ import annotations

from typing import Annotated

import typer

from forge_tui import __version__
from forge_tui.cli import (
    audition,
    augment,
    backup,
    configs,
    dataset_ops,  # noqa: F401  (adds merge, sample, split, copy and move to `datasets`)
    datasets,
    generate,
    judge,
    rubrics,
    serve,
    server,
    settings_cmd,
    templates,
    transfer,
    users,
)
from forge_tui.cli.common import EXIT_CODES_HELP, Terminated, errors, handle_ending_signals, open_home, state
from forge_tui.cli.dedup import dedup
from forge_tui.cli.jobs import jobs_app

app = typer.Typer(
    name="forge-tui",
    help="Build LLM fine-tuning datasets with local models, from the terminal.",
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(users.user_app, name="user")
app.add_typer(datasets.datasets_app, name="datasets")
app.add_typer(templates.templates_app, name="templates")
app.add_typer(transfer.formats_app, name="formats")
app.add_typer(settings_cmd.settings_app, name="settings")
app.add_typer(jobs_app, name="jobs")
app.add_typer(rubrics.rubrics_app, name="rubrics")
app.add_typer(configs.configs_app, name="configs")
app.command("audition")(audition.audition)
app.command("generate")(generate.generate)
app.command("judge")(judge.judge)
app.command("augment")(augment.augment)
app.command("import")(transfer.import_)
app.command("export")(transfer.export)
app.command("serve")(serve.serve)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("doctor")(server.doctor)
app.command("models")(server.models)
app.command("dedup")(dedup)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forge-tui {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[
        str | None,
        typer.Option(
            "--home",
            metavar="DIR",
            show_default=False,
            help="Data directory (default: $FORGE_TUI_HOME, else the user data dir).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Start the TUI when no command is given."""
    state.home_dir = home
    if ctx.invoked_subcommand is not None:
        if ctx.invoked_subcommand != "serve":  # textual-serve handles SIGINT and SIGTERM on its loop
            ctx.call_on_close(handle_ending_signals())
        return
    with errors():
        home_obj = open_home()
    from forge_tui.ui.app import ForgeApp

    tui = ForgeApp(home_obj)  # handles the ending signals itself
    tui.run()
    if tui.return_code:
        raise typer.Exit(tui.return_code)


def main() -> None:
    try:
        app()
    except Terminated as exc:  # arrived outside a command's own error handling
        raise SystemExit(128 + exc.signum) from None
