"""`forge-tui bundle DATASET --for TRAINER --out DIR`: a folder a trainer runs as it is."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    command_help,
    echo,
    errors,
    open_home,
    unlock_workspace,
)
from forge_tui.core.bundle_trainers import TRAINERS
from forge_tui.core.bundle_trainers import trainer as find_trainer
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _


@command_help(
    _(
        "Write a dataset as a bundle a trainer runs as it is: the data in the trainer's format, its config "
        "and a README with the exact command. The stage (sft, dpo or kto) follows the data unless --stage "
        "says. The folder appears only once it is complete."
    )
)
def bundle(
    dataset: Annotated[str | None, typer.Argument(help=_("Dataset name (default: the current one)."))] = None,
    trainer: Annotated[
        str, typer.Option("--for", metavar="|".join(TRAINERS), help=_("The trainer that will read the bundle."))
    ] = "trl",
    out: Annotated[Path | None, typer.Option("--out", "-o", help=_("The folder to write."))] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            metavar="sft|dpo|kto",
            help=_(
                "Training stage (default: dpo when most examples have a rejected answer, kto when most have "
                "a desirability label, else sft)."
            ),
        ),
    ] = None,
    base: Annotated[
        str | None, typer.Option("--base", help=_("Base model to fine-tune (default: the trainer's, in the README)."))
    ] = None,
    shape: Annotated[
        str | None,
        typer.Option(
            "--shape", metavar="sharegpt|alpaca", help=_("LLaMA-Factory: the data's shape (default: sharegpt).")
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Replace the folder if it is not empty."))] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.bundles import check_target, write_bundle

    with errors():
        if out is None:
            raise InvalidInput(_("Give the folder to write with --out."))
        find_trainer(trainer)  # checked before the password is asked for
        check_target(out, yes)
        workspace = unlock_workspace(open_home(), user, password_stdin)
        source = workspace.datasets.get(dataset) if dataset else workspace.datasets.current()
        if source is None:
            raise InvalidInput(_("There is no current dataset: name one."))
        summary = write_bundle(
            workspace.examples, source, trainer, out, stage=stage, base_model=base, shape=shape, overwrite=yes
        )
    for reason in [] if as_json else summary.broken:
        echo(_("forge-tui: left out {reason}").format(reason=reason), err=True)
    echo(json.dumps(summary.to_json(), ensure_ascii=False) if as_json else summary.line())
