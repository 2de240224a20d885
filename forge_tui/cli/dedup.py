"""`forge-tui dedup DATASET`: lists the clusters of duplicate examples and (unless --dry-run) keeps
one of each and rejects the rest (reversible: the Examples screen's dedup view undoes it)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.backend_options import ApiKeyEnvOpt, KindOpt, UrlOpt, account_backend
from forge_tui.cli.common import JsonOpt, PasswordStdin, UserOpt, echo, errors, open_home, unlock_workspace
from forge_tui.core.dedup import DEFAULT_THRESHOLD
from forge_tui.core.errors import InvalidInput

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.dedup import DedupService, DuplicateCluster


def dedup(
    dataset: Annotated[str, typer.Argument(help="The dataset's name.")],
    threshold: Annotated[
        float, typer.Option("--threshold", help="Estimated Jaccard similarity (0.05-1) from which two count as near.")
    ] = DEFAULT_THRESHOLD,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the clusters; change nothing.")] = False,
    exact_only: Annotated[
        bool, typer.Option("--exact-only", help="Only texts equal after normalisation (case, spaces, punctuation).")
    ] = False,
    keep: Annotated[
        str, typer.Option("--keep", metavar="first|best-score|longest", help="Which member of each cluster stays.")
    ] = "first",
    embeddings: Annotated[
        str | None,
        typer.Option(
            "--embeddings",
            metavar="MODEL",
            help="Compare by the cosine similarity of this embedding model's vectors (asks the server).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Reject the others without asking.")] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    kind: KindOpt = None,
    url: UrlOpt = None,
    api_key_env: ApiKeyEnvOpt = None,
) -> None:
    """Find exact and near-duplicate examples (prompt and answer): list the clusters, then keep one
    of each and mark the others rejected (reversible)."""
    from forge_tui.services.dedup import DedupService, KeepRule

    with errors():
        try:
            rule = KeepRule(keep)
        except ValueError:
            raise InvalidInput(f"--keep takes first, best-score or longest, not '{keep[:40]}'.") from None
        home = open_home()
        workspace = unlock_workspace(home, user, password_stdin)
        found = workspace.datasets.get(dataset)
        service = DedupService(workspace.home, workspace.unlocked, workspace.examples)
        if embeddings:
            settings = account_backend(home, user, kind, url, api_key_env)
            clusters = asyncio.run(_by_embeddings(service, found.id, threshold, settings, embeddings))
        else:
            clusters = service.find(found.id, threshold, exact_only=exact_only)
        members = [m for c in clusters for m in c.members]
        previews = service.previews(found.id, members)
        kept = {c.id: service.chosen(found.id, c, rule) for c in clusters}
        dropping = len(members) - len(clusters)
        if as_json:
            echo(json.dumps([_as_json(c, kept[c.id], previews) for c in clusters], ensure_ascii=False, indent=2))
        else:
            for number, cluster in enumerate(clusters, start=1):
                kind = "exact" if cluster.exact else f"similarity {cluster.lowest:.2f}+"
                echo(f"Cluster {number}: {len(cluster.members)} examples, {kind}")
                for member in cluster.members:
                    mark = "keep" if member == kept[cluster.id] else "drop"
                    echo(f"  {mark} {member}  {previews.get(member, '')}")
            echo(f"{dataset}: {len(clusters)} clusters, {dropping} examples to reject.", err=as_json)
        if dry_run or not clusters:
            return
        if not yes:
            if not sys.stdin.isatty():
                raise InvalidInput("Nothing was rejected: pass --yes to reject the duplicates without a terminal.")
            if not typer.confirm(f"Reject {dropping} duplicate examples (reversible)?", default=False):
                echo("Nothing was rejected.")
                return
        rejected = sum(service.keep(c.id, [kept[c.id]]) for c in clusters)
        echo(f"Rejected {rejected} duplicate examples in {len(clusters)} clusters.", err=as_json)


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
