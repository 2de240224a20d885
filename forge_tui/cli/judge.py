"""`forge-tui judge`: score a dataset's examples with an LLM judge as a job, act on those below a
threshold (nothing, reject, or auto-fix), and print the counts; `--calibrate` prints how often the
judge's scores agree with the person's decisions instead."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.backend_options import NO_FLAGS, BackendFlags, backend_options
from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, command_help, echo, errors, fail
from forge_tui.cli.config_flags import ConfigOpt, flags_with, given, saved
from forge_tui.cli.jobs import DetachOpt, finish, open_jobs, run_in_foreground, start_detached
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import InvalidInput
from forge_tui.core.judge_counts import Action
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.rubrics import Rubric
    from forge_tui.services.workspace import Workspace

EXIT_USAGE = 2
ONLY = ("unreviewed", "all")


@backend_options
@command_help(
    _(
        "Judge a dataset's examples with a rubric, as a job: shows what will be judged and asks "
        "before anything is sent, then runs in the foreground (or --detach) and prints processed, "
        "kept, fixed, removed and the mean score.\n\n"
        "Exit 0 when every example was judged; 1 when some failed or the job was paused or "
        "cancelled; 2 for bad input or when not confirmed; 6 when the model server was gone or "
        "the model missing; 130 on Ctrl-C (the job is left paused: `forge-tui jobs resume ID`)."
    )
)
def judge(
    context: typer.Context,
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help=_("The dataset whose examples are judged."))],
    rubric: Annotated[
        str | None,
        typer.Option(
            "--rubric", "-r", help=_("Rubric: overall, pairwise, tool_call or a saved one (or from --config).")
        ),
    ] = None,
    only: Annotated[
        str, typer.Option("--only", metavar="unreviewed|all", help=_("Which examples: unreviewed ones, or all."))
    ] = "unreviewed",
    threshold: Annotated[float, typer.Option("--threshold", help=_("Scores below this (1-10) are acted on."))] = 7.0,
    action: Annotated[
        Action, typer.Option("--action", help=_("Below the threshold: none, reject (reversible), or fix (rewrite)."))
    ] = Action.NONE,
    model: Annotated[str | None, typer.Option("--model", "-m", help=_("Judge model (default: Settings)."))] = None,
    fix_model: Annotated[
        str | None,
        typer.Option("--fix-model", help=_("Model that rewrites answers with --action fix (default: --model).")),
    ] = None,
    few_shots: Annotated[
        int | None,
        typer.Option(
            "--few-shots",
            min=0,
            max=20,
            help=_("Examples you accepted and rejected shown to the judge as good and poor (default: the rubric's)."),
        ),
    ] = None,
    calibrate: Annotated[
        bool,
        typer.Option("--calibrate", help=_("Print how often stored scores agree with your decisions; judge nothing.")),
    ] = False,
    config: ConfigOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Start without asking."))] = False,
    detached: DetachOpt = False,
    flags: BackendFlags = NO_FLAGS,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.job_configs import JudgeConfig
    from forge_tui.services.endpoints import with_endpoint
    from forge_tui.services.judge_jobs import JudgeChoice, judge_plan
    from forge_tui.services.judging import few_shot_examples

    asking = not yes and sys.stdin.isatty()
    with errors():
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        if config is not None:
            start = saved(workspace, config, JudgeConfig)
            flags = flags_with(flags, start)
            typed = given(context, "rubric", "only", "threshold", "action", "model", "fix_model")
            rubric = rubric if "rubric" in typed else start.rubric
            only = only if "only" in typed else start.only
            threshold = threshold if "threshold" in typed else _number(start.threshold, "threshold")
            action = action if "action" in typed else _action(start.action)
            model = model if "model" in typed else start.model or None
            fix_model = fix_model if "fix_model" in typed else start.fix_model or None
        if rubric is None:
            raise InvalidInput(_("Give the rubric: --rubric NAME (or --config NAME)."))
        if only not in ONLY:
            raise InvalidInput(_("--only takes unreviewed or all."))
        target = workspace.datasets.get(dataset)
        chosen = _rubric(workspace, rubric)
        if calibrate:
            _print_calibration(workspace, target.id, chosen, threshold, as_json)
            return
        backend = flags.over(workspace.settings.backend())
        judge_model = model or backend.judge_model or backend.generation_model or ""
        choice = JudgeChoice(
            dataset_id=target.id,
            rubric=chosen,
            model=judge_model,
            only_unreviewed=only == "unreviewed",
            threshold=threshold,
            action=action,
            fix_model=fix_model or "",
            max_tokens=backend.max_tokens,
            few_shots=few_shot_examples(
                workspace.examples, target.id, chosen.few_shots if few_shots is None else few_shots
            ),
        )
        plan = with_endpoint(judge_plan(workspace.examples, choice), backend.endpoint)
        if not plan.items:
            echo(_("Dataset '{name}' has no {only} examples to judge.").format(name=clip(target.name), only=only))
            return
        shown = {"examples": len(plan.items), "rubric": chosen.name, "model": judge_model, **plan.params}
        if as_json:
            echo(json.dumps({"event": "plan", **shown}))
        else:
            planned = _(
                "Judge {count} {only} examples of '{dataset}' with {rubric} on {model}; below {threshold}: {action}."
            )
            echo(
                planned.format(
                    count=len(plan.items),
                    only=only,
                    dataset=clip(target.name),
                    rubric=clip(chosen.name),
                    model=judge_model,
                    threshold=f"{threshold:g}",
                    action=action.value,
                )
            )
        if not yes:
            if not asking:
                fail(_("Nothing was sent: pass --yes to start the job without a terminal."), EXIT_USAGE)
            if not typer.confirm(_("Start the job?"), default=True):
                fail(_("Nothing was sent."), EXIT_USAGE)
        job = jobs.create(plan)
        if detached:
            start_detached(home, workspace, password, job.id, flags.argv(), as_json)
            return
        final = run_in_foreground(jobs, job, backend, as_json, workspace)
    finish(final, as_json, event="done")


def _number(text: str, name: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(
            _("The configuration's {name} is not a number: '{text}'.").format(name=name, text=clip(text))
        ) from None


def _action(text: str) -> Action:
    try:
        return Action(text)
    except ValueError:
        raise InvalidInput(
            _("The configuration's action is none, reject or fix, not '{text}'.").format(text=clip(text))
        ) from None


def _rubric(workspace: Workspace, name: str) -> Rubric:
    """A built-in rubric or one saved with `forge-tui rubrics save` (NotFound names the known ones)."""
    from forge_tui.services.rubrics import RubricService

    return RubricService(workspace.home, workspace.unlocked).get(name)


def _print_calibration(workspace: Workspace, dataset_id: int, rubric: Rubric, threshold: float, as_json: bool) -> None:
    from forge_tui.services.judging import calibration_report

    report = calibration_report(workspace, dataset_id, rubric.name, threshold, for_machine=as_json)
    if as_json:
        echo(json.dumps({"event": "calibration", **report}, default=str))
        return
    echo(report["summary"])
