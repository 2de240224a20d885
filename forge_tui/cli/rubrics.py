"""`forge-tui rubrics …`: the judge's rubrics, built in and custom (Jinja2 templates, sealed)."""

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
    from forge_tui.core.rubrics import Rubric
    from forge_tui.services.rubrics import RubricService

rubrics_app = sub_app(
    _(
        "Judge rubrics: the built-in overall, pairwise and tool_call, and custom ones (Jinja2 templates that ask "
        "for a score from 1 to 10)."
    )
)


def _rubrics_for(user: str | None, password_stdin: bool) -> RubricService:
    """Custom rubrics are sealed: the account is unlocked first."""
    from forge_tui.services.rubrics import RubricService

    workspace = unlock_workspace(open_home(), user, password_stdin)
    return RubricService(workspace.home, workspace.unlocked)


def _as_json(rubric: Rubric, body: bool) -> dict[str, object]:
    listed: dict[str, object] = {
        "name": rubric.name,
        "kind": rubric.kind,
        "builtin": rubric.builtin,
        "few_shots": rubric.few_shots,
    }
    if body:
        listed |= {"template": rubric.template, "schema": rubric.schema}
    return listed


@rubrics_app.command("list")
@command_help(_("List the rubrics, built in first."))
def rubrics_list(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    with errors():
        found = _rubrics_for(user, password_stdin).list()
    if as_json:
        echo(json.dumps([_as_json(r, body=False) for r in found], ensure_ascii=False))
        return
    width = max(cell_len(r.name) for r in found)
    for r in found:
        origin = _("built in") if r.builtin else _("custom")
        if r.few_shots:
            about = _("{origin} ({kind}, {count} few-shot examples)").format(
                origin=origin, kind=r.kind, count=r.few_shots
            )
        else:
            about = _("{origin} ({kind})").format(origin=origin, kind=r.kind)
        echo(f"{r.name}{' ' * (width - cell_len(r.name))}  {about}")


@rubrics_app.command("show")
@command_help(_("Print a rubric's Jinja2 template."))
def rubrics_show(
    name: str, user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False
) -> None:
    with errors():
        rubric = _rubrics_for(user, password_stdin).get(name)
    if as_json:
        echo(json.dumps(_as_json(rubric, body=True), ensure_ascii=False))
        return
    echo(rubric.template, nl=not rubric.template.endswith("\n"))


@rubrics_app.command("save")
@command_help(_("Create or replace a custom rubric (it must render for a sample example and ask for a score)."))
def rubrics_save(
    name: str,
    body_file: Annotated[
        Path,
        typer.Option("--body", help=_("File holding the Jinja2 template ('-': standard input, after the password).")),
    ],
    few_shots: Annotated[
        int,
        typer.Option("--few-shots", min=0, help=_("How many accepted and rejected examples the judge is shown first.")),
    ] = 0,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services import readable_files

    with errors():
        rubrics = _rubrics_for(user, password_stdin)
        body = sys.stdin.read() if str(body_file) == "-" else readable_files.read_text(body_file)
        saved = rubrics.save(name, body, few_shots)
    if as_json:
        echo(json.dumps(_as_json(saved, body=False), ensure_ascii=False))
        return
    echo(_("Saved rubric '{name}'.").format(name=saved.name))


@rubrics_app.command("delete")
@command_help(_("Delete a custom rubric."))
def rubrics_delete(
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Do not ask before deleting it."))] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        rubrics = _rubrics_for(user, password_stdin)
        rubric = rubrics.get(name)
        if rubric.builtin:
            raise InvalidInput(_("'{name}' is a built-in rubric and cannot be deleted.").format(name=rubric.name))
        if not yes:
            if password_stdin or not sys.stdin.isatty():
                raise InvalidInput(
                    _("Refusing to delete the rubric without --yes when nobody can answer the question.")
                )
            if not typer.confirm(_("Delete rubric '{name}'?").format(name=rubric.name), default=False):
                fail(_("Nothing was deleted."), 2)
        rubrics.delete(rubric.name)
    if as_json:
        echo(json.dumps({"deleted": rubric.name}, ensure_ascii=False))
        return
    echo(_("Deleted rubric '{name}'.").format(name=rubric.name))
