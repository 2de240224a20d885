"""`forge-tui augment DATASET`: rewrite one field of a dataset's examples with an instruction, as a job,
into a new dataset (NAME-augmented) or in place; `--preview` shows three examples before and after
first. `forge-tui augment undo JOB` puts back every value an augment job changed (once per job)."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forge_tui.cli.backend_options import NO_FLAGS, BackendFlags, backend_options
from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, command_help, echo, errors, fail
from forge_tui.cli.config_flags import ConfigOpt, flags_with, given, saved
from forge_tui.cli.jobs import DetachOpt, finish, open_jobs, run_in_foreground, start_detached
from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.augment_jobs import AugmentChoice, PreviewRow
    from forge_tui.services.workspace import Workspace

EXIT_USAGE = 2
UNDO = "undo"


@backend_options
@command_help(
    _(
        "Rewrite one field of a dataset's examples with an instruction, as a job, and print "
        "processed, changed, unchanged and failed. An item that fails keeps its original value.\n\n"
        "Exit 0 when every example was done; 1 when some failed or the job was paused or "
        "cancelled; 2 for bad input or when not confirmed; 6 when the model server was gone or "
        "the model missing."
    )
)
def augment(
    context_: typer.Context,
    dataset: Annotated[str, typer.Argument(metavar="DATASET", help=_("The dataset to augment (or `undo`)."))],
    job: Annotated[int | None, typer.Argument(metavar="[JOB]", help=_("With `undo`: the augment job to undo."))] = None,
    field: Annotated[
        str,
        typer.Option(
            "--field", metavar="FIELD", help=_("answer, user_prompt, system_prompt, slot:NAME, extra:NAME or new:NAME.")
        ),
    ] = "answer",
    instruction: Annotated[
        str | None, typer.Option("--instruction", "-i", help=_("The instruction (Jinja2 over the example's fields)."))
    ] = None,
    instruction_file: Annotated[
        Path | None, typer.Option("--instruction-file", help=_("Read the instruction from this file."))
    ] = None,
    context: Annotated[
        list[str] | None, typer.Option("--context", help=_("A field the model sees besides the target (repeat)."))
    ] = None,
    only_ids: Annotated[
        str | None, typer.Option("--only-ids", help=_("Only these example ids (comma-separated)."))
    ] = None,
    where: Annotated[
        str | None,
        typer.Option("--where", metavar="EXPR", help=_("Only the examples this filter takes (as `datasets filter`).")),
    ] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help=_("Model (default: Settings)."))] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", min=0.0, max=2.0, help=_("Sampling temperature."))
    ] = None,
    language: Annotated[str, typer.Option("--language", help=_("Language of the new values, e.g. zh-TW."))] = "",
    concurrency: Annotated[
        int | None, typer.Option("--concurrency", min=1, max=1024, help=_("Requests at once (default: Settings)."))
    ] = None,
    into: Annotated[str | None, typer.Option("--into", help=_("The new dataset (default: DATASET-augmented)."))] = None,
    in_place: Annotated[
        bool, typer.Option("--in-place", help=_("Change the examples themselves (undo-able)."))
    ] = False,
    keep_as_rejected: Annotated[
        bool, typer.Option("--keep-as-rejected", help=_("With --field answer: keep the old answer as a rejected one."))
    ] = False,
    show_preview: Annotated[
        bool, typer.Option("--preview", help=_("Show three examples before and after, then ask."))
    ] = False,
    config: ConfigOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Start without asking."))] = False,
    detached: DetachOpt = False,
    flags: BackendFlags = NO_FLAGS,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.core.augment_form import AugmentForm
    from forge_tui.core.job_configs import AugmentConfig
    from forge_tui.services.augment_jobs import augment_plan, check, choice_of_form, chosen_ids, default_into
    from forge_tui.services.endpoints import with_endpoint
    from forge_tui.services.job_configs import augment_form_of_config

    if dataset == UNDO and job is not None:
        _undo(job, user, password_stdin, as_json)
        return
    asking = not yes and sys.stdin.isatty()
    with errors():
        if job is not None:
            raise InvalidInput(_("Only `forge-tui augment undo JOB` takes a second argument."))
        if in_place and into:
            raise InvalidInput(_("Choose --into NAME or --in-place, not both."))
        if where is not None and only_ids is not None:
            raise InvalidInput(_("Choose the examples by --where or by --only-ids, not both."))
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        form = AugmentForm()
        typed = {"field", "instruction", "context", "model", "temperature", "language", "concurrency", "where"}
        typed |= {"into", "in_place", "keep_as_rejected"}
        if config is not None:
            start = saved(workspace, config, AugmentConfig)
            flags = flags_with(flags, start)
            form = augment_form_of_config(start)
            typed = given(context_, *typed, "instruction_file", "only_ids")
            if "only_ids" in typed:  # the ids given win over the configuration's filter
                typed.add("where")
            if "instruction_file" in typed:
                typed.add("instruction")
        if "instruction" in typed or config is None:
            form.instruction = _instruction(instruction, instruction_file)
        if "into" in typed or "in_place" in typed:
            form.into, form.in_place = into or "", in_place
        chosen: dict[str, Any] = {
            "field": field,
            "context": ", ".join(context or ()),
            "model": model or "",
            "temperature": "" if temperature is None else str(temperature),
            "language": language,
            "concurrency": "" if concurrency is None else str(concurrency),
            "where": where or "",
            "keep_as_rejected": keep_as_rejected,
        }
        form = replace(form, **{name: value for name, value in chosen.items() if name in typed})
        source = workspace.datasets.get(dataset)
        backend = flags.over(workspace.settings.backend())
        if not form.in_place and not form.into:
            form.into = default_into(source.name)
        form.model = form.model or backend.generation_model or ""
        ids = tuple(i.strip() for i in (only_ids or "").split(",") if i.strip())
        choice = choice_of_form(form, source.id, ids, backend.max_tokens)
        target = check(choice)
        count = len(chosen_ids(workspace, choice))
        if not count:
            if choice.where:
                none = _("Dataset '{name}' has no examples matching the filter to augment.")
            else:
                none = _("Dataset '{name}' has no examples to augment.")
            echo(none.format(name=clip(source.name)))
            return
        if as_json:
            echo(
                json.dumps(
                    {
                        "event": "plan",
                        "examples": count,
                        "field": target.label,
                        "model": choice.model,
                        "into": choice.into or None,
                        "in_place": not choice.into,
                        "concurrency": choice.concurrency,
                    }
                )
            )
        else:
            planned = dict(field=target.label, count=count, dataset=clip(source.name), model=choice.model)
            if choice.into:
                plan_line = _("Augment {field} of {count} examples of '{dataset}' into '{into}' with {model}.")
                echo(plan_line.format(into=clip(choice.into), **planned))
            else:
                echo(_("Augment {field} of {count} examples of '{dataset}' in place with {model}.").format(**planned))
        if show_preview:
            _print_preview(workspace, choice, backend, as_json)
        if not yes:
            if not asking:
                fail(_("The job was not started: pass --yes to start it without a terminal."), EXIT_USAGE)
            if not typer.confirm(_("Start the job?"), default=True):
                fail(_("The job was not started."), EXIT_USAGE)
        plan = with_endpoint(augment_plan(workspace, choice), backend.endpoint)
        created = jobs.create(plan)
        if detached:
            start_detached(home, workspace, password, created.id, flags.argv(), as_json)
            return
        final = run_in_foreground(jobs, created, backend, as_json, workspace)
    finish(jobs.get(final.id), as_json, event="done")


def _instruction(text: str | None, path: Path | None) -> str:
    if (text is None) == (path is None):
        raise InvalidInput(_("Give the instruction with --instruction or --instruction-file (one of them)."))
    if path is None:
        return text or ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            _("Cannot read the instruction file {path}: {reason}.").format(
                path=clip(str(path), 80), reason=exc.__class__.__name__
            )
        ) from None


def _print_preview(workspace: Workspace, choice: AugmentChoice, backend: BackendSettings, as_json: bool) -> None:
    from forge_tui.core.augment import unified_word_diff
    from forge_tui.services.augment_jobs import preview
    from forge_tui.services.endpoint_pool import open_client

    async def go() -> list[PreviewRow]:
        remember = workspace.settings.remember_structured_output
        async with open_client(backend, choice.model, backend.endpoint, remember) as client:
            return await preview(client, workspace, choice)

    for row in asyncio.run(go()):
        if as_json:
            echo(
                json.dumps(
                    {
                        "event": "preview",
                        "example": row.example_id,
                        "before": row.before,
                        "after": row.after,
                        "error": row.error or None,
                    },
                    ensure_ascii=False,
                )
            )
        elif row.error:
            echo(_("--- example {id}: {error}").format(id=row.example_id, error=row.error))
        else:
            echo(_("--- example {id}").format(id=row.example_id))
            echo(unified_word_diff(row.before, row.after))


def _undo(job_id: int, user: str | None, password_stdin: bool, as_json: bool) -> None:
    from forge_tui.services.augment_jobs import undo

    with errors():
        _home, workspace, _jobs, _password = open_jobs(user, password_stdin)
        restored = undo(workspace, job_id)
    if as_json:
        echo(json.dumps({"event": "undone", "id": job_id, "restored": restored}))
    else:
        echo(_("Job {id} undone: {count} examples restored.").format(id=job_id, count=restored))
