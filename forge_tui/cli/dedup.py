"""`forge-tui dedup DATASET`: finds the clusters of duplicate examples as a job (kind "dedup": progress,
--detach, --json events, `forge-tui jobs`), lists them and (unless --dry-run) keeps one of each and
rejects the rest (reversible: the Examples screen's dedup view undoes it)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.backend_options import ApiKeyEnvOpt, KindOpt, UrlOpt, account_backend
from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, command_help, echo, errors
from forge_tui.cli.jobs import DetachOpt
from forge_tui.core.dedup import DEFAULT_THRESHOLD, MAX_THRESHOLD, MIN_THRESHOLD
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.dedup import DedupService, DuplicateCluster, KeepRule


@command_help(
    _(
        "Find exact and near-duplicate examples (prompt and answer) as a job, list the clusters, "
        "and keep one of each, marking the others rejected (reversible).\n\n"
        "Without --yes on a terminal the job finds the clusters, lists them and asks before "
        "rejecting; with --yes the job rejects them itself (--detach runs it in a process of its "
        "own). --embeddings asks the server for vectors and runs in this process. Exit 0 when the "
        "job finished; 1 when it was paused or cancelled; 2 for bad input; 130 on Ctrl-C (the job "
        "is left paused: `forge-tui jobs resume ID`)."
    )
)
def dedup(
    dataset: Annotated[str, typer.Argument(help=_("The dataset's name."))],
    threshold: Annotated[
        float,
        typer.Option("--threshold", help=_("Estimated Jaccard similarity (0.05-1) from which two count as near.")),
    ] = DEFAULT_THRESHOLD,
    dry_run: Annotated[bool, typer.Option("--dry-run", help=_("List the clusters; change nothing."))] = False,
    exact_only: Annotated[
        bool, typer.Option("--exact-only", help=_("Only texts equal after normalisation (case, spaces, punctuation)."))
    ] = False,
    keep: Annotated[
        str, typer.Option("--keep", metavar="first|best-score|longest", help=_("Which member of each cluster stays."))
    ] = "first",
    embeddings: Annotated[
        str | None,
        typer.Option(
            "--embeddings",
            metavar="MODEL",
            help=_("Compare by the cosine similarity of this embedding model's vectors (asks the server)."),
        ),
    ] = None,
    as_json: JsonOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help=_("Reject the others without asking."))] = False,
    detached: DetachOpt = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
) -> None:
    from forge_tui.cli.jobs import finish, open_jobs, run_in_foreground, start_detached
    from forge_tui.core.jobs import JobState
    from forge_tui.services.dedup import DedupService, KeepRule
    from forge_tui.services.dedup_jobs import DedupSpec, dedup_plan

    with errors():
        try:
            rule = KeepRule(keep)
        except ValueError:
            raise InvalidInput(
                _("--keep takes first, best-score or longest, not '{keep}'.").format(keep=keep[:40])
            ) from None
        if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
            raise InvalidInput(
                _("The similarity threshold must be between 0.05 and 1, not {threshold}.").format(
                    threshold=f"{threshold:g}"
                )
            )
        home, workspace, jobs, password = open_jobs(user, password_stdin)
        found = workspace.datasets.get(dataset)
        asking = not (yes or dry_run)
        if asking and (detached or not sys.stdin.isatty()):
            raise InvalidInput(_("Nothing was rejected: pass --yes (or --dry-run) to dedup without a terminal."))
        service = DedupService(workspace.home, workspace.unlocked, workspace.examples)
        if embeddings:
            settings = account_backend(home, user, kind, url, api_key_env)
            clusters = asyncio.run(_by_embeddings(service, found.id, threshold, settings, embeddings))
            _list(service, found.id, dataset, clusters, rule, as_json)
            if not dry_run and clusters and (not asking or _confirmed(clusters)):
                _reject_now(service, found.id, rule, as_json)
            return
        spec = DedupSpec(threshold=threshold, exact_only=exact_only, keep=rule, dry_run=dry_run or asking)
        plan = dedup_plan(workspace.examples, found.id, spec)
        if not plan.items:
            echo(_("Dataset '{name}' has no examples to compare.").format(name=dataset))
            return
        if as_json:
            echo(json.dumps({"event": "plan", "examples": plan.params["count"], **plan.params}))
        job = jobs.create(plan)
        if detached:
            start_detached(home, workspace, password, job.id, [], as_json)
            return
        backend = workspace.settings.backend()
        final = run_in_foreground(jobs, job, backend, as_json, workspace)
        if final.status is JobState.DONE:
            clusters = service.clusters(found.id)
            _list(service, found.id, dataset, clusters, rule, as_json)
            if asking and clusters and _confirmed(clusters):
                _reject_now(service, found.id, rule, as_json)
    finish(final, as_json, event="done")


def _list(
    service: DedupService, dataset_id: int, name: str, clusters: list[DuplicateCluster], rule: KeepRule, as_json: bool
) -> None:
    members = [m for c in clusters for m in c.members]
    previews = service.previews(dataset_id, members)
    kept = {c.id: c.kept[0] if c.kept else service.chosen(dataset_id, c, rule) for c in clusters}
    if as_json:
        shown = [_as_json(c, kept[c.id], previews) for c in clusters]
        echo(json.dumps({"event": "clusters", "clusters": shown}, ensure_ascii=False))
        return
    for number, cluster in enumerate(clusters, start=1):
        kind = _("exact") if cluster.exact else _("similarity {lowest}+").format(lowest=f"{cluster.lowest:.2f}")
        echo(
            _("Cluster {number}: {count} examples, {kind}").format(number=number, count=len(cluster.members), kind=kind)
        )
        for member in cluster.members:
            mark = _("keep") if member == kept[cluster.id] else _("drop")
            echo(f"  {mark} {member}  {previews.get(member, '')}")
    decided = any(c.decision != "open" for c in clusters)
    counts = dict(name=name, clusters=len(clusters), examples=len(members) - len(clusters))
    if decided:
        echo(_("{name}: {clusters} clusters, {examples} examples rejected.").format(**counts))
    else:
        echo(_("{name}: {clusters} clusters, {examples} examples to reject.").format(**counts))


def _confirmed(clusters: list[DuplicateCluster]) -> bool:
    dropping = sum(len(c.members) - 1 for c in clusters if c.decision == "open")
    if typer.confirm(_("Reject {count} duplicate examples (reversible)?").format(count=dropping), default=False):
        return True
    echo(_("Nothing was rejected."))
    return False


def _reject_now(service: DedupService, dataset_id: int, rule: KeepRule, as_json: bool) -> None:
    counts = service.resolve_all(dataset_id, rule)
    rejected = _("Rejected {dropped} duplicate examples in {clusters} clusters.")
    echo(rejected.format(dropped=counts.dropped, clusters=counts.clusters), err=as_json)


async def _by_embeddings(
    service: DedupService, dataset_id: int, threshold: float, settings: BackendSettings, model: str
) -> list[DuplicateCluster]:
    from forge_tui.services.backends import BackendService

    async with BackendService(settings) as backend:

        async def embed(texts: list[str]) -> list[list[float]]:
            return await backend.embed(model, texts)

        return await service.find_by_embeddings(dataset_id, threshold, embed)


def _as_json(cluster: DuplicateCluster, kept: str, previews: dict[str, str]) -> dict[str, object]:
    return {
        "id": cluster.id,
        "size": len(cluster.members),
        "exact": cluster.exact,
        "lowest_similarity": round(cluster.lowest, 4),
        "kept": kept,
        "members": [{"id": m, "preview": previews.get(m, "")} for m in cluster.members],
        "pairs": [{"a": a, "b": b, "similarity": s} for (a, b), s in cluster.similarity.items()],
    }
