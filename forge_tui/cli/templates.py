"""`forge-tui templates …`: prompt templates as files, to share and keep in git."""

from __future__ import annotations

import json
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
    open_home,
    run,
    sub_app,
    unlock_workspace,
)
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.templates import TemplateService

templates_app = sub_app(_("List, show, export and import prompt templates (TOML or JSON files)."))


def _templates_for(user: str | None, password_stdin: bool) -> TemplateService:
    """Templates are sealed: the account is unlocked first."""
    return unlock_workspace(open_home(), user, password_stdin).templates


@templates_app.command("list")
@command_help(_("List templates with their slots."))
def templates_list(
    user: UserOpt = None,
    archived: Annotated[bool, typer.Option("--archived", help=_("Include archived templates."))] = False,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    found = run(lambda: _templates_for(user, password_stdin).list(include_archived=archived))
    if as_json:
        listing = [
            {
                "name": t.name,
                "slots": [s.name for s in t.slots],
                "tool_calling": t.is_tool_calling,
                "archived": t.archived,
            }
            for t in found
        ]
        echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    if not found:
        echo(_("No templates."))
        return
    width = max(cell_len(t.name) for t in found)
    for t in found:
        flags = [f for f, on in ((_("tool calling"), t.is_tool_calling), (_("archived"), t.archived)) if on]
        slots = ", ".join(s.name for s in t.slots) or _("no slots")
        padded = t.name + " " * (width - cell_len(t.name))
        echo(f"{padded}  {slots}{'  (' + ', '.join(flags) + ')' if flags else ''}")


@templates_app.command("show")
@command_help(_("Print a template in its file form."))
def templates_show(
    name: str,
    user: UserOpt = None,
    file_type: Annotated[str, typer.Option("--as", help=_("toml or json."))] = "toml",
    password_stdin: PasswordStdin = False,
) -> None:
    echo(run(lambda: _templates_for(user, password_stdin).export_text(name, file_type)), nl=False)


@templates_app.command("export")
@command_help(_("Write a template to a .toml or .json file."))
def templates_export(
    name: str,
    out: Annotated[Path, typer.Option("--out", "-o", help=_("File to write: .toml or .json."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    written = run(lambda: _templates_for(user, password_stdin).export_file(name, out))
    echo(_("Wrote '{name}' to {path}.").format(name=name, path=written))


@templates_app.command("import")
@command_help(_("Add the template in a .toml or .json file."))
def templates_import(
    file: Path,
    user: UserOpt = None,
    name: Annotated[str | None, typer.Option("--name", help=_("Store it under this name instead."))] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    imported = run(lambda: _templates_for(user, password_stdin).import_file(file, name))
    slots = ", ".join(s.name for s in imported.slots) or _("no slots")
    echo(_("Imported '{name}' ({slots}).").format(name=imported.name, slots=slots))
