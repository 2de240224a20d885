"""`forge-tui datasets merge|sample|split|copy|move`: new datasets made from existing ones."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.common import PasswordStdin, UserOpt, command_help, echo, errors, open_home, unlock_workspace
from forge_tui.cli.datasets import datasets_app
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.dataset_ops import DatasetOps, Written

Yes = Annotated[bool, typer.Option("--yes", "-y", help=_("Replace the examples of a target that exists."))]
AsJson = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
Seed = Annotated[int, typer.Option("--seed", help=_("The same seed chooses the same examples."))]


def _run(
    user: str | None,
    password_stdin: bool,
    yes: bool,
    as_json: bool,
    action: Callable[[DatasetOps, bool], list[Written]],
) -> None:
    """Unlocks, runs `action(ops, replace)`; a target that exists is replaced with --yes, or after
    asking at a terminal."""
    from forge_tui.services.dataset_ops import DatasetOps, TargetExists

    with errors():
        workspace = unlock_workspace(open_home(), user, password_stdin)
        ops = DatasetOps(workspace.home, workspace.unlocked)
        try:
            written = action(ops, yes)
        except TargetExists as exc:
            if yes or password_stdin or not sys.stdin.isatty():
                raise
            if not typer.confirm(_("Replace the examples of dataset '{name}'?").format(name=exc.name), default=False):
                echo(_("Nothing was changed."))
                raise typer.Exit(1) from None
            written = action(ops, True)
    _report(written, as_json)


def _report(written: Sequence[Written], as_json: bool) -> None:
    if as_json:
        echo(json.dumps([vars(w) for w in written] if len(written) > 1 else vars(written[0]), indent=2))
        return
    for w in written:
        notes = [
            note
            for note, on in (
                (_("created"), w.created),
                (_("{count} replaced").format(count=w.replaced), w.replaced),
                (_("{count} duplicates left out").format(count=w.duplicates), w.duplicates),
                (_("{count} unreadable rows left out").format(count=w.damaged), w.damaged),
            )
            if on
        ]
        if notes:
            echo(
                _("{dataset}: {count} examples ({notes}).").format(
                    dataset=w.dataset, count=w.examples, notes=", ".join(notes)
                )
            )
        else:
            echo(_("{dataset}: {count} examples.").format(dataset=w.dataset, count=w.examples))


@datasets_app.command("merge")
@command_help(_("Merge datasets into one, every field kept (reasoning, kept-aside fields, scores)."))
def datasets_merge(
    sources: Annotated[list[str], typer.Argument(help=_("The datasets to merge, in order."))],
    into: Annotated[str, typer.Option("--into", help=_("The dataset to write (created when missing)."))],
    dedup: Annotated[
        bool, typer.Option("--dedup", help=_("Leave out exact duplicates (after normalisation)."))
    ] = False,
    yes: Yes = False,
    as_json: AsJson = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    _run(user, password_stdin, yes, as_json, lambda ops, replace: [ops.merge(sources, into, dedup, replace)])


@datasets_app.command("sample")
@command_help(_("A seeded random sample of a dataset; stratified counts are exact (largest remainder)."))
def datasets_sample(
    source: str,
    n: Annotated[int, typer.Option("--n", min=0, help=_("How many examples to take."))],
    into: Annotated[str, typer.Option("--into", help=_("The dataset to write (created when missing)."))],
    stratify: Annotated[
        str | None, typer.Option("--stratify", help=_("Keep the shares of: model, source or slot:NAME."))
    ] = None,
    seed: Seed = 0,
    yes: Yes = False,
    as_json: AsJson = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    _run(
        user, password_stdin, yes, as_json, lambda ops, replace: [ops.sample(source, into, n, seed, stratify, replace)]
    )


@datasets_app.command("split")
@command_help(_("Split a dataset into NAME-train, NAME-valid and NAME-test: exact sizes, seeded, disjoint."))
def datasets_split(
    source: str,
    valid: Annotated[float, typer.Option("--valid", help=_("Share for NAME-valid."))] = 0.1,
    test: Annotated[float, typer.Option("--test", help=_("Share for NAME-test."))] = 0.0,
    seed: Seed = 0,
    yes: Yes = False,
    as_json: AsJson = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
) -> None:
    _run(user, password_stdin, yes, as_json, lambda ops, replace: ops.split(source, valid, test, seed, replace))


def _ids(ids: str) -> list[str]:
    return [i for i in ids.replace(",", " ").split() if i]


IdsOpt = Annotated[str, typer.Option("--ids", help=_("Example ids, separated by commas or spaces."))]
ToOpt = Annotated[str, typer.Option("--to", help=_("The dataset to add them to (created when missing)."))]


@datasets_app.command("copy")
@command_help(_("Copy examples to another dataset."))
def datasets_copy(
    ids: IdsOpt, to: ToOpt, as_json: AsJson = False, user: UserOpt = None, password_stdin: PasswordStdin = False
) -> None:
    _run(user, password_stdin, False, as_json, lambda ops, _replace: [ops.copy(_ids(ids), to)])


@datasets_app.command("move")
@command_help(_("Move examples to another dataset (they keep their ids)."))
def datasets_move(
    ids: IdsOpt, to: ToOpt, as_json: AsJson = False, user: UserOpt = None, password_stdin: PasswordStdin = False
) -> None:
    _run(user, password_stdin, False, as_json, lambda ops, _replace: [ops.copy(_ids(ids), to, move=True)])
