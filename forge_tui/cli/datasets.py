"""`forge-tui datasets …`: list and manage datasets."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.common import (
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

if TYPE_CHECKING:
    from forge_tui.services.datasets import DatasetService

datasets_app = sub_app("List and manage datasets.")


def _datasets_for(user: str | None) -> DatasetService:
    from forge_tui.services.datasets import DatasetService

    home = open_home()
    return DatasetService(home, account(home, user))


@datasets_app.command("list")
def datasets_list(
    user: UserOpt = None,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived datasets.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List datasets with their example counts."""
    found = run(lambda: _datasets_for(user).list(include_archived=archived))
    if as_json:
        echo(json.dumps([d.model_dump(mode="json") for d in found], indent=2))
        return
    if not found:
        echo("No datasets.")
        return
    current = run(lambda: _datasets_for(user).current())
    width = max(len(d.name) for d in found)
    for d in found:
        flags = [f for f, on in (("archived", d.archived), ("sealed with an old key", not d.readable)) if on]
        extra = f"  ({', '.join(flags)})" if flags else ""
        mark = "*" if current is not None and d.id == current.id else " "
        echo(f"{mark} {d.name:<{width}}  {d.example_count:>7} examples{extra}")


@datasets_app.command("create")
def datasets_create(
    name: str,
    user: UserOpt = None,
    description: Annotated[str, typer.Option("--description", "-d")] = "",
) -> None:
    """Create a dataset."""
    created = run(lambda: _datasets_for(user).create(name, description))
    echo(f"Created dataset '{created.name}'.")


@datasets_app.command("rename")
def datasets_rename(name: str, new_name: str, user: UserOpt = None) -> None:
    """Rename a dataset."""
    renamed = run(lambda: _datasets_for(user).rename(name, new_name))
    echo(f"Renamed '{name}' to '{renamed.name}'.")


@datasets_app.command("archive")
def datasets_archive(
    name: str,
    user: UserOpt = None,
    undo: Annotated[bool, typer.Option("--undo", help="Unarchive instead.")] = False,
) -> None:
    """Archive a dataset (hidden from lists, nothing deleted); --undo brings it back."""
    ds = run(lambda: _datasets_for(user).set_archived(name, not undo))
    echo(f"{'Unarchived' if undo else 'Archived'} '{ds.name}'.")


@datasets_app.command("unarchive")
def datasets_unarchive(name: str, user: UserOpt = None) -> None:
    """Bring an archived dataset back."""
    ds = run(lambda: _datasets_for(user).set_archived(name, False))
    echo(f"Unarchived '{ds.name}'.")


@datasets_app.command("verify")
def datasets_verify(name: str, user: UserOpt = None, password_stdin: PasswordStdin = False) -> None:
    """Open every sealed field of a dataset and report rows that fail (exit 1 when any does). Rows
    from versions that did not seal which optional fields a row has are re-sealed to bind them."""
    with errors():
        workspace = unlock_workspace(open_home(), user, password_stdin)
        report = workspace.verify(workspace.datasets.get(name))
    for item in report.broken:
        echo(item.reason, err=True)
    broken = report.broken
    resealed = f", {report.resealed} re-sealed to bind their optional fields" if report.resealed else ""
    echo(
        f"{report.dataset}: {report.total} examples, {report.total - len(broken)} open, {len(broken)} broken{resealed}."
    )
    if broken:
        raise typer.Exit(1)


@datasets_app.command("filter")
def datasets_filter(
    name: str,
    where: Annotated[str, typer.Option("--where", help="A filter expression, e.g. \"score>=7 and model=~'qwen'\".")],
    into: Annotated[str, typer.Option("--into", help="The new dataset that gets the examples taken.")],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Copy the examples a filter expression takes into a new dataset, in one transaction. Columns: score,
    review, source, model, kto, flag, tokens, prompt_tokens, rejected, created, prompt, answer, system,
    slot:NAME; operators = != < <= > >= ~ (contains) =~ (regex); and, or, not, parentheses; none."""
    from forge_tui.services.dataset_filter import DatasetFilterService, parse_filter

    with errors():
        parse_filter(where)  # a bad expression is reported before the password is asked for
        workspace = unlock_workspace(open_home(), user, password_stdin)
        result = DatasetFilterService(workspace.examples).filter_into(name, where, into)
    if as_json:
        echo(json.dumps({"source": result.source, "into": result.into, "taken": result.taken,
                         "total": result.total, "broken": result.broken}))  # fmt: skip
        return
    broken = f" ({result.broken} rows that failed to open left out)" if result.broken else ""
    echo(f"Copied {result.taken} of {result.total} examples from '{result.source}' into '{result.into}'{broken}.")


@datasets_app.command("stats")
def datasets_stats(
    name: str,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts by source, review state, model, slot value and language flag; token and length histograms."""
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
