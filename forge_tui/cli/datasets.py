"""`forge-tui datasets …`: list and manage datasets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.cells import cell_len

from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    account,
    echo,
    errors,
    open_home,
    run,
    sub_app,
    unlock_workspace,
)
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.datasets import DatasetService

datasets_app = sub_app(_("List and manage datasets."))


def _datasets_for(user: str | None) -> DatasetService:
    from forge_tui.services.datasets import DatasetService

    home = open_home()
    return DatasetService(home, account(home, user))


@datasets_app.command("list", help=_("List datasets with their example counts."))
def datasets_list(
    user: UserOpt = None,
    archived: Annotated[bool, typer.Option("--archived", help=_("Include archived datasets."))] = False,
    as_json: JsonOpt = False,
) -> None:
    found = run(lambda: _datasets_for(user).list(include_archived=archived))
    if as_json:
        echo(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        echo(_("No datasets."))
        return
    current = run(lambda: _datasets_for(user).current())
    width = max(cell_len(d.name) for d in found)
    for d in found:
        flags = [f for f, on in ((_("archived"), d.archived), (_("sealed with an old key"), not d.readable)) if on]
        extra = f"  ({', '.join(flags)})" if flags else ""
        mark = "*" if current is not None and d.id == current.id else " "
        padded = d.name + " " * (width - cell_len(d.name))
        count = _("{count} examples").format(count=f"{d.example_count:>7}")
        echo(f"{mark} {padded}  {count}{extra}")


@datasets_app.command("create", help=_("Create a dataset."))
def datasets_create(
    name: str,
    user: UserOpt = None,
    description: Annotated[str, typer.Option("--description", "-d", help=_("What the dataset holds."))] = "",
) -> None:
    created = run(lambda: _datasets_for(user).create(name, description))
    echo(_("Created dataset '{name}'.").format(name=created.name))


@datasets_app.command("rename", help=_("Rename a dataset."))
def datasets_rename(name: str, new_name: str, user: UserOpt = None) -> None:
    renamed = run(lambda: _datasets_for(user).rename(name, new_name))
    echo(_("Renamed '{old}' to '{new}'.").format(old=name, new=renamed.name))


@datasets_app.command(
    "archive", help=_("Archive a dataset (hidden from lists, nothing deleted); --undo brings it back.")
)
def datasets_archive(
    name: str,
    user: UserOpt = None,
    undo: Annotated[bool, typer.Option("--undo", help=_("Unarchive instead."))] = False,
) -> None:
    ds = run(lambda: _datasets_for(user).set_archived(name, not undo))
    echo((_("Unarchived '{name}'.") if undo else _("Archived '{name}'.")).format(name=ds.name))


@datasets_app.command("unarchive", help=_("Bring an archived dataset back."))
def datasets_unarchive(name: str, user: UserOpt = None) -> None:
    ds = run(lambda: _datasets_for(user).set_archived(name, False))
    echo(_("Unarchived '{name}'.").format(name=ds.name))


@datasets_app.command(
    "verify",
    help=_(
        "Open every sealed field of a dataset and report rows that fail (exit 1 when any does). Rows "
        "from versions that did not seal which optional fields a row has are re-sealed to bind them."
    ),
)
def datasets_verify(name: str, user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    with errors():
        workspace = unlock_workspace(open_home(), user, password_stdin)
        report = workspace.verify(workspace.datasets.get(name))
    for item in report.broken:
        echo(item.reason, err=True)
    broken = report.broken
    counts = dict(dataset=report.dataset, total=report.total, open=report.total - len(broken), broken=len(broken))
    if report.resealed:
        echo(
            _(
                "{dataset}: {total} examples, {open} open, {broken} broken, {resealed} re-sealed to bind their "
                "optional fields."
            ).format(resealed=report.resealed, **counts)
        )
    else:
        echo(_("{dataset}: {total} examples, {open} open, {broken} broken.").format(**counts))
    if broken:
        raise typer.Exit(1)


@datasets_app.command(
    "filter",
    help=_(
        "Copy the examples a filter expression takes into a new dataset, in one transaction. Columns: score, "
        "review, source, model, kto, flag, tokens, prompt_tokens, rejected, created, prompt, answer, system, "
        "slot:NAME; operators = != < <= > >= ~ (contains) =~ (regex); and, or, not, parentheses; none."
    ),
)
def datasets_filter(
    name: str,
    where: Annotated[str, typer.Option("--where", help=_("A filter expression, e.g. \"score>=7 and model=~'qwen'\"."))],
    into: Annotated[str, typer.Option("--into", help=_("The new dataset that gets the examples taken."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.dataset_filter import DatasetFilterService, parse_filter

    with errors():
        parse_filter(where)  # a bad expression is reported before the password is asked for
        workspace = unlock_workspace(open_home(), user, password_stdin)
        result = DatasetFilterService(workspace.examples).filter_into(name, where, into)
    if as_json:
        echo(json.dumps({"source": result.source, "into": result.into, "taken": result.taken,
                         "total": result.total, "broken": result.broken}))  # fmt: skip
        return
    copied = dict(taken=result.taken, total=result.total, source=result.source, into=result.into)
    if result.broken:
        echo(
            _(
                "Copied {taken} of {total} examples from '{source}' into '{into}' ({broken} rows that failed to "
                "open left out)."
            ).format(broken=result.broken, **copied)
        )
    else:
        echo(_("Copied {taken} of {total} examples from '{source}' into '{into}'.").format(**copied))


@datasets_app.command(
    "stats",
    help=_("Counts by source, review state, model, slot value and language flag; token and length histograms."),
)
def datasets_stats(
    name: str,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.dataset_stats import stats_lines
    from forge_tui.services.dataset_filter import DatasetFilterService

    with errors():
        workspace = unlock_workspace(open_home(), user, password_stdin)
        stats = DatasetFilterService(workspace.examples).stats(name)
    if as_json:
        echo(json.dumps(stats.as_json(), ensure_ascii=False))
        return
    for line in stats_lines(stats):
        echo(line)
