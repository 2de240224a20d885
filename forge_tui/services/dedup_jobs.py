"""Dedup jobs (kind "dedup"): the duplicates of a dataset found as a job of the engine (planned
whole, sealed, resumable, on the Jobs screen and under `forge-tui jobs`).

Items are chunks of example ids (CHUNK_SIZE each); an item fingerprints its chunk (exact key, and the
MinHash signature unless exact-only) in a worker thread. The item that completes the set finds the
clusters (also in a worker thread); the transaction that records the job's last item stores them in
dedup_cluster as DedupService.find() does and (unless a dry run) applies the keep rule (reversible
rejections): Recipe.finish.

Fingerprints are kept in the running process only. A run that starts on a job with chunks done by an
earlier run (killed, or paused) puts those items back to pending (prepare): they wrote nothing but
their `done`, so doing them again changes nothing but the count, and this run fingerprints every chunk
itself. Fingerprints are deterministic, so the clusters are the same; no table of signatures (content
derived, to be sealed, moved by rotate-key, cleaned up) is needed; a resume costs the fingerprinting
of the chunks done before, and no CPU-heavy work runs while the write lock is held. Rejections happen
only in the finishing transaction, which commits with the job's last item: once, or (killed before it
commits) not at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from forge_tui.core.bounded_text import clip
from forge_tui.core.dedup import (
    DEFAULT_NUM_PERM,
    DEFAULT_THRESHOLD,
    MAX_THRESHOLD,
    MIN_THRESHOLD,
    Cluster,
    Fingerprint,
    NearDuplicateIndex,
    cluster_fingerprints,
    fingerprint,
)
from forge_tui.core.dedup_counts import CLUSTERS, DROPPED, EXAMPLES
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.models import Example, ReviewState
from forge_tui.i18n import _
from forge_tui.services import job_kinds
from forge_tui.services.dedup import LOOKED_AT, KeepRule, dedup_text, keep_members, ranked_first, store_clusters
from forge_tui.services.examples import ExampleService
from forge_tui.services.job_runner import NoExample, RunContext
from forge_tui.services.jobs import ItemInputs, JobPlan, Recipe
from forge_tui.services.model_client import ModelClient
from forge_tui.store import examples as example_rows
from forge_tui.store import jobs as job_rows
from forge_tui.store.tables import DedupCluster

DEDUP = "dedup"
IDS_KEY = "ids"
CHUNK_SIZE = 2000


class DedupSpec(BaseModel):
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=MIN_THRESHOLD, le=MAX_THRESHOLD)
    exact_only: bool = False
    keep: KeepRule = KeepRule.FIRST
    dry_run: bool = False
    num_perm: int = DEFAULT_NUM_PERM


@dataclass(frozen=True)
class Entry:
    """An example's fingerprint and what the keep rules rank it by."""

    fingerprint: Fingerprint
    score: float | None
    length: int


@dataclass
class DedupRun:
    """A run's spec, the fingerprints of the chunks this process made (by item index), and the
    clusters once every chunk is fingerprinted."""

    spec: DedupSpec
    chunks: dict[int, list[Entry]] = field(default_factory=dict)
    items: int = 0  # the job's items (set by prepare)
    clusters: list[Cluster] | None = None
    signer: NearDuplicateIndex | None = None

    def __post_init__(self) -> None:
        if not self.spec.exact_only:
            self.signer = NearDuplicateIndex(self.spec.threshold, self.spec.num_perm)

    def entries(self, examples: Sequence[Example]) -> list[Entry]:
        signer = self.signer
        return [
            Entry(fingerprint(e.id, dedup_text(e), signer), e.meta.score, len(e.content.output))
            for e in examples
            if e.meta.review is not ReviewState.REJECTED
        ]


def dedup_plan(examples: ExampleService, dataset_id: int, spec: DedupSpec, chunk_size: int = CHUNK_SIZE) -> JobPlan:
    """A dedup job's plan: the dataset's examples not rejected, in creation order, in chunks."""
    if chunk_size < 1:
        raise InvalidInput(_("A chunk holds at least one example."))
    ids = examples.ids(dataset_id, LOOKED_AT)
    chunks = [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]
    if spec.exact_only:
        name = _("Dedup {count} examples (exact)")
    else:
        name = _("Dedup {count} examples (similarity {threshold:g}+)")
    return JobPlan(
        kind=DEDUP,
        name=clip(name.format(count=len(ids), threshold=spec.threshold)),
        dataset_id=dataset_id,
        template_id=None,
        spec=spec.model_dump(mode="json"),
        params={
            "count": len(ids),
            "threshold": spec.threshold,
            "exact_only": spec.exact_only,
            "keep": spec.keep.value,
            "dry_run": spec.dry_run,
        },
        items=[ItemInputs(idx, {IDS_KEY: " ".join(chunk)}, 0) for idx, chunk in enumerate(chunks)],
    )


def _ids_of(item: ItemInputs) -> list[str]:
    return item.slots.get(IDS_KEY, "").split()


def _prepare(run: DedupRun, context: RunContext) -> None:
    """Chunks done by an earlier run are pending again: this run fingerprints them itself."""
    conn, job_id = context.conn, context.job_id
    moved = conn.exec_driver_sql(
        "UPDATE job_item SET status = 'pending', finished_at = NULL WHERE job_id = ? AND status = 'done'", (job_id,)
    ).rowcount
    if moved:
        job_rows.recount(conn, job_id)
    run.items = int(conn.exec_driver_sql("SELECT count(*) FROM job_item WHERE job_id = ?", (job_id,)).one()[0])


async def _produce(_client: ModelClient, run: DedupRun, item: ItemInputs) -> NoExample:
    run.chunks[item.idx] = await asyncio.to_thread(run.entries, item.examples)
    if len(run.chunks) == run.items and run.clusters is None:
        ordered = [run.chunks[idx] for idx in sorted(run.chunks)]
        run.clusters = await asyncio.to_thread(_clusters, run.spec, ordered)
    return NoExample()


def _clusters(spec: DedupSpec, chunks: Sequence[Sequence[Entry]]) -> list[Cluster]:
    index = None if spec.exact_only else NearDuplicateIndex(spec.threshold, spec.num_perm)
    return cluster_fingerprints((e.fingerprint for chunk in chunks for e in chunk), index)


def _finish(run: DedupRun, context: RunContext) -> dict[str, float]:
    spec, conn = run.spec, context.conn
    chunks: list[list[Entry]] = []
    for item in job_rows.planned(conn, context.item_cipher, context.job_id):
        found = run.chunks.get(item.idx)
        if found is None:  # not expected (prepare puts every done chunk back): fingerprinted here
            found = run.entries(_opened(context, _ids_of(item)))
        chunks.append(found)
    clusters = run.clusters if run.clusters is not None else _clusters(spec, chunks)
    entries = [e for chunk in chunks for e in chunk]
    owner = conn.exec_driver_sql("SELECT owner_id FROM dataset WHERE id = ?", (context.dataset_id,)).one()[0]
    by_id = {e.fingerprint.key: e for e in entries}
    dropped = 0
    with Session(bind=conn) as s:
        stored = store_clusters(
            s, context.dataset_id, clusters, "exact" if spec.exact_only else "minhash", spec.threshold
        )
        if not spec.dry_run:
            for cluster in stored:
                row = s.get(DedupCluster, cluster.id)
                assert row is not None
                dropped += keep_members(s, int(owner), row, [ranked_first(cluster.members, _rank(spec.keep, by_id))])
        s.flush()
    return {EXAMPLES: len(entries), CLUSTERS: len(stored), DROPPED: dropped}


def _rank(rule: KeepRule, by_id: dict[str, Entry]) -> Callable[[str], float]:
    def rank(example_id: str) -> float:
        entry = by_id.get(example_id)
        if rule is KeepRule.FIRST:
            return 0.0
        if entry is None:
            return float("-inf")
        if rule is KeepRule.BEST_SCORE:
            return entry.score if entry.score is not None else float("-inf")
        return float(entry.length)

    return rank


def _opened(context: RunContext, ids: list[str]) -> list[Example]:
    opened: dict[str, Example] = {}
    for row in example_rows.plain_by_ids(context.conn, ids):
        try:
            example = example_rows.open_row(context.example_cipher, row)
        except ForgeError:  # a damaged row is left out, as the items leave it out
            continue
        if example.dataset_id == context.dataset_id:
            opened[example.id] = example
    return [opened[i] for i in ids if i in opened]


def _load(stored: dict[str, Any]) -> DedupRun:
    return DedupRun(DedupSpec.model_validate(stored))


DEDUP_RECIPE: Recipe[DedupRun] = Recipe(
    load=_load, produce=_produce, prepare=_prepare, examples_of=_ids_of, load_chunk=1, finish=_finish
)

job_kinds.register(DEDUP, DEDUP_RECIPE)
