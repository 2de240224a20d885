"""`forge-tui import`, `forge-tui export` and `forge-tui formats`: dataset files in and out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    command_help,
    echo,
    errors,
    open_home,
    sub_app,
    unlock_workspace,
)
from forge_tui.core.custom_formats import CUSTOM_PREFIX
from forge_tui.core.errors import InvalidInput
from forge_tui.core.example_filter import ReviewFilter, parse_score
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.exporting import CustomFormats

MAP_HELP = _(
    "Map the fields of an unknown shape, e.g. user_prompt=question,output=answer "
    "(fields: system_prompt, user_prompt, output, rejected)."
)
formats_app = sub_app(_("Custom export formats (Jinja2 bodies that write one JSON object per example)."))


@command_help(
    _(
        "Import examples from a file into a dataset, all or nothing (shown at once when "
        "complete). Records that cannot be imported are skipped and listed with their line and "
        "reason; exit 1 when any was skipped and none imported."
    )
)
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            help=_("JSONL, JSON, CSV, TSV, Parquet, or plain text / Markdown; the type is read from the content.")
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", "-d", help=_("Dataset (default: the current one); made when there is none.")),
    ] = None,
    mapping: Annotated[
        str | None,
        typer.Option(
            "--map",
            metavar="FIELD=SOURCE,...",
            help=MAP_HELP,
        ),
    ] = None,
    split_text: Annotated[
        str | None,
        typer.Option(
            "--split-text",
            metavar="line|paragraph|file",
            help=_(
                "Plain text and Markdown: one document per line, per blank-line-separated paragraph, or per "
                "file (default: line; file for Markdown)."
            ),
        ),
    ] = None,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.import_shapes import Mapping
    from forge_tui.services.importing import import_into

    with errors():
        parsed = Mapping.parse(mapping) if mapping else None
        workspace = unlock_workspace(open_home(), user, password_stdin)
        summary = import_into(workspace.datasets, workspace.examples, dataset, file, parsed, split_text)
    if as_json:
        echo(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        for error in summary.errors[:20]:
            echo(f"{file}: {error.where}: {error.reason}", err=True)
        if len(summary.errors) > 20:
            echo(_("… and {count} more (--json lists them)").format(count=summary.skipped - 20), err=True)
        echo(summary.line())
    if summary.skipped and not summary.imported:
        raise typer.Exit(1)


@command_help(_("Export a dataset in a trainer's format. The file appears only once it is complete."))
def export(
    dataset: Annotated[str | None, typer.Argument(help=_("Dataset name (default: the current one)."))] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help=_("A built-in format or custom:NAME."))] = "openai-chat",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help=_("File to write (its suffix gives the type)."))
    ] = None,
    file_type: Annotated[
        str | None, typer.Option("--file-type", "-t", help=_("jsonl, json, csv, tsv or parquet."))
    ] = None,
    split: Annotated[
        float | None,
        typer.Option("--split", help=_("Train share, e.g. 0.9: writes NAME.train.EXT and NAME.valid.EXT.")),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help=_("Seed of the train/valid shuffle."))] = 0,
    spreadsheet_safe: Annotated[
        bool,
        typer.Option(
            "--spreadsheet-safe",
            help=_("CSV/TSV: prefix cells starting with = + - @ with a quote, for opening in a spreadsheet."),
        ),
    ] = False,
    reasoning: Annotated[
        str | None,
        typer.Option(
            "--reasoning",
            metavar="drop|field|think-tags",
            help=_(
                "How the model's reasoning is written: dropped, in the format's own field, or as <think> "
                "text before the answer (default: the format's; --list-formats shows it)."
            ),
        ),
    ] = None,
    review: Annotated[
        str | None,
        typer.Option(
            "--review",
            metavar="accepted|unreviewed|all",
            help=_(
                "Which examples by review state: only accepted, only unreviewed, or all, rejected too "
                "(default: every example not rejected)."
            ),
        ),
    ] = None,
    min_score: Annotated[
        str | None,
        typer.Option(
            "--min-score",
            metavar="T",
            help=_("Only examples a judge scored at or above T (1-10); the unjudged are left out too."),
        ),
    ] = None,
    list_formats: Annotated[bool, typer.Option("--list-formats", help=_("List the formats and exit."))] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.export_formats import FORMATS, REASONING_MODES
    from forge_tui.services.exporting import CustomFormats
    from forge_tui.services.exporting import export as run_export

    if list_formats:
        rows = [(f.name, f.description, f.reasoning, f.reasoning_modes) for f in FORMATS.values()]
        if password_stdin or sys.stdin.isatty():
            with errors():
                custom = _formats_for(user, password_stdin).list()
            rows += [(f"{CUSTOM_PREFIX}{c.name}", _("custom (Jinja2)"), "field", REASONING_MODES) for c in custom]
        else:
            typer.echo(_("Custom formats are encrypted: add --password-stdin to list them too."), err=True)
        if as_json:
            listed = [
                {"name": name, "description": about, "reasoning": default, "reasoning_modes": list(modes)}
                for name, about, default, modes in rows
            ]
            echo(json.dumps(listed, ensure_ascii=False))
        else:
            for name, about, default, _modes in rows:
                reasoning_line = _("{description} (reasoning: {default})").format(description=about, default=default)
                echo(f"{name:<20} {reasoning_line}")
        return
    with errors():
        if out is None:
            raise InvalidInput(_("Give the file to write with --out."))
        if fmt in FORMATS:  # checked before the password is asked for; a custom format's after
            FORMATS[fmt].reasoning_mode(reasoning)
        wanted = review_filter(review)
        threshold = score_threshold(min_score)
        workspace = unlock_workspace(open_home(), user, password_stdin)
        chosen = CustomFormats(workspace.home, workspace.unlocked).resolve(fmt)
        source = workspace.datasets.get(dataset) if dataset else workspace.datasets.current()
        if source is None:
            raise InvalidInput(_("There is no current dataset: name one."))

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() and not as_json:
                typer.echo("\r" + _("{done}/{total} examples").format(done=done, total=total), err=True, nl=False)

        summary = run_export(
            workspace.examples, source.id, chosen, out, file_type, split, seed, progress,
            spreadsheet_safe=spreadsheet_safe, reasoning=reasoning, review=wanted, min_score=threshold,
        )  # fmt: skip
        if sys.stderr.isatty() and not as_json:
            echo("", err=True)
    for reason in [] if as_json else summary.broken:
        echo(_("forge-tui: left out {reason}").format(reason=reason), err=True)
    echo(json.dumps(summary.to_json(), ensure_ascii=False) if as_json else summary.line())


def review_filter(value: str | None) -> ReviewFilter:
    """--review's value (None: the default, every example not rejected)."""
    if value is None:
        return ReviewFilter.NOT_REJECTED
    try:
        return ReviewFilter(value.strip().lower())
    except ValueError:
        choices = ", ".join(f.value for f in ReviewFilter)
        raise InvalidInput(
            _("--review takes one of {choices}, not '{value}'.").format(choices=choices, value=value[:40])
        ) from None


def score_threshold(value: str | None) -> float | None:
    """--min-score's value (None: every score, and the unjudged)."""
    if value is None:
        return None
    try:
        threshold = parse_score(value)
    except ValueError as exc:
        raise InvalidInput(_("--min-score: {problem}").format(problem=exc)) from None
    if threshold is None:
        raise InvalidInput(_("--min-score takes a score from 1 to 10."))
    return threshold


def _formats_for(user: str | None, password_stdin: bool) -> CustomFormats:
    """Custom formats are sealed: the account is unlocked first."""
    from forge_tui.services.exporting import CustomFormats

    workspace = unlock_workspace(open_home(), user, password_stdin)
    return CustomFormats(workspace.home, workspace.unlocked)


@formats_app.command("list")
@command_help(_("List the custom formats."))
def formats_list(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    with errors():
        found = _formats_for(user, password_stdin).list()
    if as_json:
        echo(json.dumps([{"name": f.name, "body": f.body} for f in found], ensure_ascii=False))
    for f in [] if as_json else found:
        echo(f"{CUSTOM_PREFIX}{f.name}")


@formats_app.command("show")
@command_help(_("Print a custom format's Jinja2 body."))
def formats_show(name: str, user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    with errors():
        echo(_formats_for(user, password_stdin).get(name.removeprefix(CUSTOM_PREFIX)).body, nl=False)


@formats_app.command("save")
@command_help(_("Create or replace a custom format from a Jinja2 body (checked before it is saved)."))
def formats_save(
    name: str,
    body_file: Annotated[
        Path,
        typer.Option("--body", help=_("File holding the Jinja2 body ('-': standard input, after the password).")),
    ],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    from forge_tui.services import readable_files

    with errors():
        formats = _formats_for(user, password_stdin)
        body = sys.stdin.read() if str(body_file) == "-" else readable_files.read_text(body_file)
        bare = name.removeprefix(CUSTOM_PREFIX)
        existing = {f.name: f.id for f in formats.list()}
        saved = formats.save(bare, body, existing.get(bare))
    echo(_("Saved {name}.").format(name=f"{CUSTOM_PREFIX}{saved.name}"))


@formats_app.command("delete")
@command_help(_("Delete a custom format."))
def formats_delete(name: str, user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    with errors():
        _formats_for(user, password_stdin).delete(name.removeprefix(CUSTOM_PREFIX))
    echo(_("Deleted {name}.").format(name=f"{CUSTOM_PREFIX}{name.removeprefix(CUSTOM_PREFIX)}"))
