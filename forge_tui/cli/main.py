"""The `forge-tui` command: the TUI by default, and subcommands that share its services.

Its help strings call `_()` when this module is imported: `forge_tui.cli.main()` picks the language first.
"""

from __future__ import annotations

from typing import Annotated

import typer

from forge_tui import __version__, i18n
from forge_tui.cli import (
    audition,
    augment,
    backup,
    bundle,
    configs,
    dataset_ops,  # noqa: F401  (adds merge, sample, split, copy and move to `datasets`)
    datasets,
    deploy,
    docs,
    generate,
    judge,
    models_cmd,
    rubrics,
    serve,
    server,
    settings_cmd,
    templates,
    transfer,
    users,
)
from forge_tui.cli.common import EXIT_CODES_HELP, Terminated, echo, errors, handle_ending_signals, open_home, state
from forge_tui.cli.dedup import dedup
from forge_tui.cli.help_format import localize_help
from forge_tui.cli.jobs import jobs_app
from forge_tui.cli.train import train
from forge_tui.i18n import _

app = typer.Typer(
    name="forge-tui",
    help=_("Build LLM fine-tuning datasets with local models, from the terminal."),
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
# The command list shows each short_help whole (click would cut a longer help at 45 characters,
# counting a Chinese character as one of them although it takes two cells).
app.add_typer(users.user_app, name="user", short_help=_("Create accounts and manage passwords."))
app.add_typer(datasets.datasets_app, name="datasets", short_help=_("List and manage datasets."))
app.add_typer(templates.templates_app, name="templates", short_help=_("List, show, export and import templates."))
app.add_typer(transfer.formats_app, name="formats", short_help=_("Custom export formats (Jinja2)."))
app.add_typer(settings_cmd.settings_app, name="settings", short_help=_("Show and change the account's Settings."))
app.add_typer(jobs_app, name="jobs", short_help=_("Follow and steer jobs."))
app.add_typer(rubrics.rubrics_app, name="rubrics", short_help=_("Judge rubrics: built-in and your own."))
app.add_typer(configs.configs_app, name="configs", short_help=_("Saved configurations of jobs."))
app.add_typer(docs.docs_app, name="docs", short_help=_("Documents as passages for generation jobs."))
app.command("audition", short_help=_("Paraphrase a prompt and answer each variation."))(audition.audition)
app.command("generate", short_help=_("Make examples with a model, as a job."))(generate.generate)
app.command("judge", short_help=_("Judge a dataset's examples with a rubric."))(judge.judge)
app.command("augment", short_help=_("Rewrite one field of a dataset's examples."))(augment.augment)
app.command("import", short_help=_("Import examples from a file into a dataset."))(transfer.import_)
app.command("export", short_help=_("Export a dataset in a trainer's format."))(transfer.export)
app.command("bundle", short_help=_("Write a dataset as a folder a trainer runs."))(bundle.bundle)
app.command("serve", short_help=_("Serve the app to a browser, behind a token."))(serve.serve)
app.command("backup", short_help=_("Copy the database while forge-tui runs."))(backup.backup)
app.command("restore", short_help=_("Replace the database with a backup."))(backup.restore)
app.command("doctor", short_help=_("Check the model server, the models and the data."))(server.doctor)
app.add_typer(models_cmd.models_app, name="models", short_help=_("List, show, pull and delete models."))
app.command("dedup", short_help=_("Find exact and near-duplicate examples."))(dedup)
app.command("deploy", short_help=_("Make an Ollama model of a training run's adapter."))(deploy.deploy)
app.command(
    "train",
    short_help=_("Run a trainer bundle and watch its loss."),
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)(train)


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
            help=_("Data directory (default: $FORGE_TUI_HOME, else the user data dir)."),
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="en|zh_TW",
            show_default=False,
            help=_("Interface language (default: $FORGE_TUI_LANG, else the account's choice, else the locale)."),
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help=_("Print the version and exit."))
    ] = False,
) -> None:
    """Start the TUI when no command is given."""
    state.home_dir = home
    if lang is not None and lang != state.language_flag:
        # Called without forge_tui.cli.main() (tests): the help strings stay as imported.
        i18n.start(lang)
    if ctx.invoked_subcommand is not None:
        if ctx.invoked_subcommand != "serve":  # textual-serve handles SIGINT and SIGTERM on its loop
            ctx.call_on_close(handle_ending_signals())
        return
    with errors():
        home_obj = open_home()
    from forge_tui.ui.app import ForgeApp

    tui = ForgeApp(home_obj, notice=state.language_note)  # handles the ending signals itself
    tui.run()
    if tui.return_code:
        raise typer.Exit(tui.return_code)


def run(flag: str | None, note: str | None, tui: bool) -> None:
    """The command line, once forge_tui.cli.main() has set the language: `note` about it goes to the
    TUI as a toast, or to stderr before a command (never to stdout, which --json keeps)."""
    state.language_flag, state.language_note = flag, note if tui else None
    localize_help()
    if note and not tui:
        echo(f"forge-tui: {note}", err=True)
    try:
        app()
    except Terminated as exc:  # arrived outside a command's own error handling
        raise SystemExit(128 + exc.signum) from None
