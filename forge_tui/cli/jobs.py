"""`forge-tui jobs list|show|pause|resume|cancel|retry-failed`: follow and steer jobs from the shell.

Pause and cancel change the job's row only, so they reach a job that another process (the TUI, a
detached run) is running: it stops taking items within a second.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.cells import cell_len

from forge_tui.cli.backend_options import NO_FLAGS, BackendFlags, backend_options
from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    ask_password,
    command_help,
    echo,
    errors,
    fail,
    open_home,
    padded,
    sub_app,
)
from forge_tui.cli.common import (
    progress as redraw,
)
from forge_tui.core.augment import augment_line, is_augment_results
from forge_tui.core.dedup_counts import dedup_line, is_dedup_results
from forge_tui.core.endpoint_figures import figure_lines
from forge_tui.core.jobs import MODEL_MISSING, SERVER_GONE, JobState, JobSummary
from forge_tui.core.judge_counts import counts_line, is_judge_results
from forge_tui.core.pool_stats import EndpointStats
from forge_tui.i18n import N_, _

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.home import Home
    from forge_tui.services.jobs import JobService
    from forge_tui.services.workspace import Workspace

jobs_app = sub_app(_("Follow and steer jobs: generation that runs unattended."))

EXIT_ITEMS_FAILED = 1
EXIT_SERVER = 6

JobIdArg = Annotated[int, typer.Argument(metavar="ID", help=_("The job's number (forge-tui jobs list)."))]
DetachOpt = Annotated[
    bool, typer.Option("--detach", help=_("Run the job in a process of its own and return at once; prints its id."))
]


def summary_json(job: JobSummary) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "name": job.name,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "failed": job.failed,
        "pending": job.pending,
        "model": job.model,
        "dataset_id": job.dataset_id,
        "pause_reason": job.pause_reason,
        "error": job.error,
        "per_minute": round(job.per_minute, 1) if job.per_minute is not None else None,
        "eta_s": round(job.eta_s) if job.eta_s is not None else None,
        "running_elsewhere": job.running_elsewhere,
        "endpoint": job.endpoint,  # None: the pool
        "results": job.results,  # a judge or dedup job's counts (core.judge_counts, core.dedup_counts)
        "output_dir": job.output_dir,  # a training run's output folder
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def endpoint_json(stats: EndpointStats) -> dict[str, Any]:
    """One model server's figures under fixed English keys (`state`: healthy, backing off, dropped)."""
    return {
        "name": stats.name,
        "url": stats.url,
        "state": stats.state.value,
        "in_flight": stats.in_flight,
        "limit": stats.limit,
        "max_concurrency": stats.max_concurrency,
        "per_minute": round(stats.per_minute, 1),
        "tokens_per_s": round(stats.tokens_per_s, 1),
        "error_rate": round(stats.error_rate, 4),
        "answered": stats.answered,
        "failed": stats.failed,
    }


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def progress_line(job: JobSummary) -> str:
    parts = [_("job {id}: {done}/{total} done").format(id=job.id, done=job.done, total=job.total)]
    if job.failed:
        parts.append(_("{count} failed").format(count=job.failed))
    if job.per_minute is not None:
        parts.append(_("{rate}/min").format(rate=f"{job.per_minute:.0f}"))
    if job.eta_s is not None:
        parts.append(_("ETA {duration}").format(duration=_duration(job.eta_s)))
    return _(", ").join(parts)


def _state_text(job: JobSummary) -> str:
    if job.status is JobState.RUNNING and not job.running_elsewhere:
        return _("stopped (resume it)")  # its process was killed
    if job.pause_reason:
        return _("{state}: {reason}").format(
            state=_state_word(job.status, job.kind), reason=_reason_text(job.pause_reason)
        )
    return _state_word(job.status, job.kind)


# Shown to people; --json keeps the values themselves.
_STATE_WORDS = {
    JobState.PLANNED: N_("planned"),
    JobState.RUNNING: N_("running"),
    JobState.PAUSED: N_("paused"),
    JobState.DONE: N_("done"),
    JobState.FAILED: N_("failed"),
    JobState.CANCELLED: N_("cancelled"),
}
_REASONS = {SERVER_GONE: N_("model server gone"), MODEL_MISSING: N_("model missing")}


# A training run's outcome: the trainer finished, or was stopped.
_TRAIN_WORDS = {JobState.DONE: N_("finished"), JobState.CANCELLED: N_("stopped")}


def _state_word(state: JobState, kind: str = "") -> str:
    if kind == "train" and state in _TRAIN_WORDS:
        return _(_TRAIN_WORDS[state])
    return _(_STATE_WORDS[state])


def _reason_text(reason: str) -> str:
    return _(_REASONS[reason]) if reason in _REASONS else reason


def open_jobs(user: str | None, password_stdin: bool) -> tuple[Home, Workspace, JobService, str]:
    """The unlocked workspace (job plans are sealed), its jobs, and the password (for a detached run)."""
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.jobs import JobService
    from forge_tui.services.workspace import Workspace

    home = open_home()
    accounts = AccountService(home)
    name, password = ask_password(accounts, user, password_stdin)
    workspace = Workspace.open(home, accounts.unlock(name, password))
    return home, workspace, JobService(home, workspace.unlocked), password


def detach(home: Home, username: str, password: str, job_id: int, flags: list[str]) -> int:
    """Starts `forge-tui jobs resume ID` in a process of its own (a new session: closing the terminal
    does not stop it), its output in the data directory's jobs/ID.log; returns its pid."""
    logs = home.path / "jobs"
    logs.mkdir(mode=0o700, exist_ok=True)
    log_path = logs / f"{job_id}.log"
    command = [sys.executable, "-c", "from forge_tui.cli import main; main()", "--home", str(home.path)]
    command += ["jobs", "resume", str(job_id), "--user", username, "--password-stdin", *flags]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as log:
        child = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, text=True
        )
    assert child.stdin is not None
    child.stdin.write(password + "\n")
    child.stdin.close()
    return child.pid


def start_detached(
    home: Home, workspace: Workspace, password: str, job_id: int, flags: list[str], as_json: bool
) -> None:
    """Runs the job in a process of its own (detach) and says which: `{"event": "detached", "id", "pid"}`
    with --json."""
    pid = detach(home, workspace.user.username, password, job_id, flags)
    if as_json:
        echo(json.dumps({"event": "detached", "id": job_id, "pid": pid}))
    else:
        echo(_("Job {id} runs in process {pid}; `forge-tui jobs show {id}` follows it.").format(id=job_id, pid=pid))


def run_in_foreground(
    jobs: JobService, job: JobSummary, settings: BackendSettings, as_json: bool, workspace: Workspace
) -> JobSummary:
    """Runs the job with a progress line on a terminal (JSON lines with --json); exits with the
    documented code when it did not finish every item. It runs on `settings.endpoint` (None: the pool)."""
    from forge_tui.services.endpoint_pool import open_client
    from forge_tui.services.job_kinds import recipe_for
    from forge_tui.services.jobs import with_job_concurrency

    recipe = recipe_for(job.kind)
    settings = with_job_concurrency(settings, job)
    on_terminal = sys.stderr.isatty() and not as_json
    loading = jobs.models_to_load(job.id) if _tells_ollama(settings) and not as_json else []
    if loading:
        loading_line = _("Loading {models} for job {id}: a paused job's model was unloaded to free the GPU.")
        echo(loading_line.format(models=", ".join(loading), id=job.id))

    def progress(current: JobSummary) -> None:
        if as_json:
            echo(json.dumps({"event": "progress", **_progress_fields(current)}))
        elif on_terminal:
            redraw(progress_line(current))

    async def go() -> JobSummary:
        remember = workspace.settings.remember_structured_output
        async with open_client(settings, job.model, settings.endpoint, remember) as client:
            return await jobs.run(job.id, client, recipe, on_progress=progress)

    try:
        return asyncio.run(go())
    finally:
        if on_terminal:
            echo("", err=True)


def _tells_ollama(settings: BackendSettings) -> bool:
    """Whether a model server of the run loads and unloads models when told (Ollama does)."""
    if settings.endpoints:
        return any(e.kind == "ollama" for e in settings.endpoints)
    return settings.kind == "ollama"


def _progress_fields(job: JobSummary) -> dict[str, Any]:
    fields = summary_json(job)
    return {k: fields[k] for k in ("id", "status", "done", "failed", "total", "per_minute", "eta_s")}


def finish(final: JobSummary, as_json: bool, event: str = "end") -> None:
    """Prints how the run ended (the JSON line's `event` named `event`) and exits with its code."""
    if as_json:
        echo(json.dumps({"event": event, **summary_json(final)}))
    else:
        ended = _("Job {id} {state}: {done}/{total} done, {failed} failed.")
        echo(
            ended.format(id=final.id, state=_state_text(final), done=final.done, total=final.total, failed=final.failed)
        )
        if final.error:
            echo(final.error)
        if final.output_dir:
            echo(_("Output folder: {folder}").format(folder=final.output_dir))
        if is_judge_results(final.results):
            echo(_("Judged: {counts}.").format(counts=counts_line(final.results)))
        if is_dedup_results(final.results):
            echo(_("Dedup: {counts}.").format(counts=dedup_line(final.results)))
        if is_augment_results(final.results):
            echo(_("Augmented: {counts}.").format(counts=augment_line(final)))
        if final.failed:
            echo(
                _("`forge-tui jobs show {id}` lists why; `forge-tui jobs retry-failed {id}` asks them again.").format(
                    id=final.id
                )
            )
    if final.status is JobState.PAUSED and final.pause_reason in (SERVER_GONE, MODEL_MISSING):
        raise typer.Exit(EXIT_SERVER)
    if final.status is not JobState.DONE or final.failed:
        raise typer.Exit(EXIT_ITEMS_FAILED)


@jobs_app.command("list")
@command_help(_("List every job, newest first, with its state and progress."))
def jobs_list(user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False) -> None:
    with errors():
        _home, _workspace, jobs, _password = open_jobs(user, password_stdin)
        found = jobs.list()
    if as_json:
        echo(json.dumps([summary_json(job) for job in found], indent=2, ensure_ascii=False))
        return
    if not found:
        echo(_("No jobs yet: `forge-tui generate` starts one."))
        return
    for job in found:
        counted = f"  ({dedup_line(job.results)})" if is_dedup_results(job.results) else ""
        if job.output_dir:
            counted += "  " + _("output: {folder}").format(folder=job.output_dir)
        failed = _("{count} failed").format(count=f"{job.failed:>5}")
        echo(f"{job.id:>4}  {padded(_state_text(job), 28)}  {job.done:>6}/{job.total:<6} {failed}  {job.name}{counted}")


@jobs_app.command("show")
@command_help(
    _(
        "Show a job: state, progress, rate, ETA, model, its model servers' figures (in flight, "
        "limit, per minute, tokens per second, error rate, state), and its last failures with "
        "their reasons."
    )
)
def jobs_show(
    job_id: JobIdArg,
    errors_shown: Annotated[
        int, typer.Option("--errors", min=0, help=_("How many of the last failures to show."))
    ] = 10,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        _home, _workspace, jobs, _password = open_jobs(user, password_stdin)
        job = jobs.get(job_id)
        failures = jobs.errors(job_id, errors_shown)
        endpoints = jobs.endpoint_stats(job_id)
    if as_json:
        listed = [{"item": e.idx, "reason": e.reason, "kind": e.kind, "attempts": e.attempts} for e in failures]
        shown = {**summary_json(job), "endpoints": [endpoint_json(s) for s in endpoints], "errors": listed}
        echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    words = {
        "state": _("state"),
        "progress": _("progress"),
        "rate": _("rate"),
        "model": _("model"),
        "counts": _("counts"),
        "error": _("error"),
        "endpoints": _("endpoints"),
        "output": _("output"),
    }
    width = max(10, *(cell_len(word) + 1 for word in words.values()))

    def line(key: str, text: str) -> None:
        echo(f"{padded(words[key], width)}{text}")

    echo(_("job {id}  {name}").format(id=job.id, name=job.name))
    line("state", _state_text(job))
    progress = _("{done}/{total} done, {failed} failed, {pending} pending")
    line("progress", progress.format(done=job.done, total=job.total, failed=job.failed, pending=job.pending))
    if job.per_minute is not None:
        rate = f"{job.per_minute:.0f}"
        if job.eta_s is not None:
            line("rate", _("{rate} examples/min, ETA {duration}").format(rate=rate, duration=_duration(job.eta_s)))
        else:
            line("rate", _("{rate} examples/min").format(rate=rate))
    line("model", job.model or "—")
    if is_judge_results(job.results):
        line("counts", counts_line(job.results))
    if is_dedup_results(job.results):
        line("counts", dedup_line(job.results))
    if is_augment_results(job.results):
        line("counts", augment_line(job))
    if job.error:
        line("error", job.error)
    if job.output_dir:
        line("output", job.output_dir)
    for number, figures in enumerate(figure_lines(endpoints)):
        echo(f"{padded(words['endpoints'] if number == 0 else '', width)}{figures}")
    for failure in failures:
        echo(_("item {index}  {reason}").format(index=f"{failure.idx:>5}", reason=failure.reason))


CancelInFlightOpt = Annotated[
    bool,
    typer.Option(
        "--cancel-in-flight",
        help=_("Drop the requests in flight (their items are asked again on resume) instead of letting them finish."),
    ),
]


@jobs_app.command("pause")
@command_help(
    _(
        "Pause a job; the process running it stops taking items within a second, lets the "
        "requests in flight finish (or drops them with --cancel-in-flight), then unloads the "
        "model to free the GPU (Ollama). `forge-tui jobs resume ID` loads it again and goes on."
    )
)
def jobs_pause(
    job_id: JobIdArg,
    cancel_in_flight: CancelInFlightOpt = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        _home, _workspace, jobs, _password = open_jobs(user, password_stdin)
        was_running = jobs.get(job_id).running_elsewhere
        job = jobs.pause(job_id, cancel_in_flight=cancel_in_flight)
    if as_json:
        shown = {**summary_json(job), "in_flight": "cancel" if cancel_in_flight else "finish"}
        echo(json.dumps(shown, indent=2, ensure_ascii=False))
        return
    echo(
        _("Job {id} {state}: {done}/{total} done.").format(
            id=job.id, state=_state_word(job.status), done=job.done, total=job.total
        )
    )
    if was_running:
        if cancel_in_flight:
            echo(
                _("Its requests in flight are dropped, then the process running it unloads the model to free the GPU.")
            )
        else:
            echo(_("Its requests in flight finish, then the process running it unloads the model to free the GPU."))


@jobs_app.command("cancel")
@command_help(_("Cancel a job for good; the examples it made stay in the dataset."))
def jobs_cancel(
    job_id: JobIdArg, user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False
) -> None:
    with errors():
        _home, _workspace, jobs, _password = open_jobs(user, password_stdin)
        job = jobs.cancel(job_id)
    if as_json:
        echo(json.dumps(summary_json(job), indent=2, ensure_ascii=False))
    else:
        stopped = _("Job {id} {state}: {done}/{total} done.")
        echo(stopped.format(id=job.id, state=_state_word(job.status), done=job.done, total=job.total))


@jobs_app.command("retry-failed")
@command_help(_("Queue a job's failed items again; `forge-tui jobs resume ID` asks them."))
def jobs_retry_failed(
    job_id: JobIdArg, user: UserOpt = None, password_stdin: PasswordStdin = False, as_json: JsonOpt = False
) -> None:
    with errors():
        _home, _workspace, jobs, _password = open_jobs(user, password_stdin)
        job, moved = jobs.retry_failed(job_id)
    if as_json:
        echo(json.dumps({**summary_json(job), "requeued": moved}, indent=2, ensure_ascii=False))
    else:
        queued = _("{count} failed items of job {id} queued again; `forge-tui jobs resume {id}` asks them.")
        echo(queued.format(count=moved, id=job.id))


@jobs_app.command("resume")
@backend_options
@command_help(
    _(
        "Run a planned, paused or stopped job until every item is done (in the foreground unless "
        "--detach).\n\n"
        "Exit 0 when every item is done; 1 when some failed or the job was paused or cancelled "
        "meanwhile; 6 when it paused itself because the model server was gone or the model "
        "missing; 130 on Ctrl-C (the job is left paused: resume it)."
    )
)
def jobs_resume(
    job_id: JobIdArg,
    detached: DetachOpt = False,
    flags: BackendFlags = NO_FLAGS,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        job = jobs.get(job_id)
        if detached:
            start_detached(home, workspace, password, job.id, flags.argv(), as_json)
            return
        settings = flags.over(workspace.settings.backend())
        # The endpoint the job was made with, unless the flags choose again.
        settings = settings.model_copy(update={"endpoint": flags.endpoint_for(settings, job.endpoint)})
        final = run_in_foreground(jobs, job, settings, as_json, workspace)
    finish(final, as_json)


# --- offline batch (OpenAI Batch files for vllm run-batch or a hosted Batch API) --------------------
EXIT_NOTHING_STORED = 1


@jobs_app.command("export-batch")
@command_help(
    _(
        "Write a job's open items as OpenAI Batch input lines, for `vllm run-batch` or a hosted "
        "Batch API.\n\n"
        "Each line asks an item's next request; an item that asks several (a preference pair, a "
        "conversation) finishes over several export/import rounds. The file holds the prompts in "
        "plaintext. Exit 1 when the job has no open items."
    )
)
def jobs_export_batch(
    job_id: JobIdArg,
    out: Annotated[Path, typer.Option("--out", "-o", help=_("The requests file to write (JSONL)."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.batch_files import BatchFiles

    with errors():
        _home, workspace, _jobs, _password = open_jobs(user, password_stdin)
        report = asyncio.run(BatchFiles(workspace.home, workspace.unlocked).export(job_id, out))
    if as_json:
        fields = {"path": str(report.path), "requests": report.requests}
        echo(json.dumps({**fields, "finished": report.finished, "failed": report.failed}))
        return
    if report.requests:
        wrote = _("Wrote {count} requests of job {id} to {path} (plaintext prompts: keep it private).")
        echo(wrote.format(count=report.requests, id=job_id, path=report.path))
        echo(_("Run it, then `forge-tui jobs import-batch {id} RESULTS.jsonl` stores the answers.").format(id=job_id))
    if report.finished or report.failed:
        complete = _("{finished} items were complete already and are done now; {failed} failed.")
        echo(complete.format(finished=report.finished, failed=report.failed))


@jobs_app.command("import-batch")
@command_help(
    _(
        "Store the answers of a Batch output file (vLLM run-batch, OpenAI Batch) into the job by "
        "custom_id.\n\n"
        "A partial file is fine: the rest stays open. Unknown, duplicate, error and corrupt lines "
        "are counted and listed, never stored. Exit 0 when something was stored, 1 when nothing "
        "was."
    )
)
def jobs_import_batch(
    job_id: JobIdArg,
    results: Annotated[Path, typer.Argument(metavar="RESULTS", help=_("The Batch output file (JSONL)."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    from forge_tui.services.batch_files import BatchFiles

    with errors():
        _home, workspace, _jobs, _password = open_jobs(user, password_stdin)
        report = asyncio.run(BatchFiles(workspace.home, workspace.unlocked).import_results(job_id, results))
    if as_json:
        problems = [{"line": p.line, "kind": p.kind, "detail": p.detail} for p in report.problems]
        echo(json.dumps({"job": job_id, **report.counts(), "problems": problems}, ensure_ascii=False))
    else:
        stored = _("Job {id}: {stored} answers stored, {finished} items done, {failed} failed, {open} still open.")
        echo(
            stored.format(
                id=job_id, stored=report.stored, finished=report.finished, failed=report.failed, open=report.open
            )
        )
        skipped = {kind: getattr(report, kind) for kind in ("duplicate", "unknown", "errors", "corrupt")}
        if any(skipped.values()):
            kinds = ", ".join(f"{n} {kind}" for kind, n in skipped.items() if n)
            echo(_("Not stored: {kinds}.").format(kinds=kinds))
        for problem in report.problems:
            echo(
                _("line {line}  {kind}  {detail}").format(
                    line=f"{problem.line:>6}", kind=f"{problem.kind:<9}", detail=problem.detail
                )
            )
        if report.open:
            echo(
                _("`forge-tui jobs export-batch {id} --out FILE` writes the open items' next requests.").format(
                    id=job_id
                )
            )
    if not report.stored:
        fail(_("Nothing from {path} was stored into job {id}.").format(path=results, id=job_id), EXIT_NOTHING_STORED)
