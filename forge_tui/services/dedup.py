"""Duplicate examples of a dataset: found by their prompt and answer (exact after normalisation, or
near by MinHash LSH), kept as clusters of ids (table dedup_cluster), resolved by keeping some members
and rejecting the rest. A rejection records the review state it replaced, so it can be undone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rich.cells import cell_len, set_cell_size
from sqlmodel import Session, col, delete, select

from forge_tui.core.dedup import DEFAULT_NUM_PERM, DEFAULT_THRESHOLD, Cluster, embedding_clusters, find_clusters
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.models import Example, ReviewState
from forge_tui.i18n import _
from forge_tui.services.accounts import Unlocked
from forge_tui.services.examples import BrokenExample, ExampleService
from forge_tui.services.home import Home
from forge_tui.store import examples as example_rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import Dataset, DedupCluster

OPEN, KEPT, ALL_KEPT = "open", "kept", "all"
# Examples already rejected are not looked at: they are out of the dataset's exports already.
PREVIEW_CHARS = 60
EMBED_BATCH = 64  # texts per embedding request
# texts -> one vector each (services.backends.BackendService.embed with its model)
Embed = Callable[[list[str]], Awaitable[list[list[float]]]]
LOOKED_AT = ExampleFilter(review=ReviewFilter.NOT_REJECTED)


class KeepRule(StrEnum):
    """Which member of a cluster stays when all are resolved at once."""

    FIRST = "first"  # the oldest
    BEST_SCORE = "best-score"  # the judge's highest score (unjudged last), then the oldest
    LONGEST = "longest"  # the longest answer, then the oldest


@dataclass(frozen=True)
class DuplicateCluster:
    id: int
    members: list[str]  # oldest first
    similarity: dict[tuple[str, str], float]
    exact: bool
    method: str
    threshold: float
    decision: str = OPEN
    kept: list[str] = field(default_factory=list)
    dropped: dict[str, ReviewState] = field(default_factory=dict)

    def between(self, a: str, b: str) -> float | None:
        """The similarity of two members, when it was measured."""
        return self.similarity.get((a, b), self.similarity.get((b, a)))

    @property
    def lowest(self) -> float:
        return min(self.similarity.values(), default=1.0)


@dataclass(frozen=True)
class DropCounts:
    clusters: int
    dropped: int


def dedup_text(example: Example) -> str:
    """What two examples are compared by: the prompt (every turn of a conversation) and the answer."""
    content = example.content
    turns = [str(turn.get("content", "")) for turn in content.turns]
    return "\n".join([*turns, content.user_prompt, content.output])


class DedupService:
    def __init__(self, home: Home, unlocked: Unlocked, examples: ExampleService) -> None:
        self.home = home
        self.unlocked = unlocked
        self.examples = examples

    def find(
        self,
        dataset_id: int,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        exact_only: bool = False,
        num_perm: int = DEFAULT_NUM_PERM,
        progress: Callable[[int], None] | None = None,
    ) -> list[DuplicateCluster]:
        """Finds the clusters among the dataset's examples that are not rejected and stores them in
        place of the dataset's earlier ones (drops made before stay as they are)."""
        if not 0.05 <= threshold <= 1.0:
            raise InvalidInput(
                _("The similarity threshold must be between 0.05 and 1, not {threshold:g}.").format(threshold=threshold)
            )
        clusters = find_clusters(self._texts(dataset_id, progress), threshold, num_perm, exact_only=exact_only)
        method = "exact" if exact_only else "minhash"
        return self._store(dataset_id, clusters, method, threshold)

    async def find_by_embeddings(
        self, dataset_id: int, threshold: float, embed: Embed, batch: int = EMBED_BATCH
    ) -> list[DuplicateCluster]:
        """As find(), by the cosine similarity of the texts' embeddings (`embed` asks the server for
        a batch of texts at a time); exact duplicates are found as well."""
        if not 0.05 <= threshold <= 1.0:
            raise InvalidInput(
                _("The similarity threshold must be between 0.05 and 1, not {threshold:g}.").format(threshold=threshold)
            )
        texts = list(self._texts(dataset_id, None))
        exact = {frozenset(c.members) for c in find_clusters(texts, exact_only=True)}
        vectors: list[tuple[str, list[float]]] = []
        for start in range(0, len(texts), batch):
            chunk = texts[start : start + batch]
            found = await embed([text for _key, text in chunk])
            vectors += [(key, vector) for (key, _text), vector in zip(chunk, found, strict=True)]
        clusters = embedding_clusters(vectors, threshold)
        for cluster in clusters:
            cluster.exact = frozenset(cluster.members) in exact
        return self._store(dataset_id, clusters, "embeddings", threshold)

    def clusters(self, dataset_id: int) -> list[DuplicateCluster]:
        """The clusters the last find() stored, in the order of their oldest member."""
        self.examples.cipher(dataset_id)
        with read_session(self.home.engine) as s:
            found = s.exec(
                select(DedupCluster).where(DedupCluster.dataset_id == dataset_id).order_by(col(DedupCluster.position))
            ).all()
        return [_shown(row) for row in found]

    def keep(self, cluster_id: int, kept: Sequence[str]) -> int:
        """Keeps `kept` (members of the cluster) and rejects the other members; returns how many were
        rejected now. Members rejected by an earlier choice and kept now get their state back."""
        with write_session(self.home.engine) as s:
            return keep_members(s, self.unlocked.user.id, self._row(s, cluster_id), kept)

    def keep_all(self, cluster_id: int) -> int:
        """Keeps every member: undoes this cluster's drops; returns how many got their state back."""
        return self._reopen(cluster_id, ALL_KEPT)

    def undo(self, cluster_id: int) -> int:
        """Undoes the cluster's drops and leaves it undecided; returns how many got their state back."""
        return self._reopen(cluster_id, OPEN)

    def resolve_all(self, dataset_id: int, rule: KeepRule) -> DropCounts:
        """Keeps one member of every undecided cluster by `rule` and rejects the rest."""
        dropped = clusters = 0
        for cluster in self.clusters(dataset_id):
            if cluster.decision != OPEN:
                continue
            dropped += self.keep(cluster.id, [self.chosen(dataset_id, cluster, rule)])
            clusters += 1
        return DropCounts(clusters=clusters, dropped=dropped)

    def chosen(self, dataset_id: int, cluster: DuplicateCluster, rule: KeepRule) -> str:
        """The member `rule` keeps."""
        if rule is KeepRule.FIRST:
            return cluster.members[0]
        opened = {e.id: e for e in self.examples.open_ids(dataset_id, cluster.members) if isinstance(e, Example)}
        if not opened:
            return cluster.members[0]

        def rank(example_id: str) -> float:
            example = opened.get(example_id)
            if example is None:
                return float("-inf")
            if rule is KeepRule.BEST_SCORE:
                return example.meta.score if example.meta.score is not None else float("-inf")
            return float(len(example.content.output))

        return ranked_first(cluster.members, rank)

    def previews(self, dataset_id: int, example_ids: Sequence[str], width: int = PREVIEW_CHARS) -> dict[str, str]:
        """One line of each example's answer (its prompt when it has none), cut to `width`."""
        shown = {}
        for example in self.examples.open_ids(dataset_id, example_ids):
            if isinstance(example, BrokenExample):
                shown[example.id] = _("(cannot be read)")
                continue
            line = " ".join((example.content.output or example.content.user_prompt).split())
            shown[example.id] = _cut(line, width)
        return shown

    def _texts(self, dataset_id: int, progress: Callable[[int], None] | None) -> Iterator[tuple[str, str]]:
        for read, item in enumerate(self.examples.scan(dataset_id, LOOKED_AT), start=1):
            if progress is not None and read % 1000 == 0:
                progress(read)
            if not isinstance(item, BrokenExample):
                yield item.id, dedup_text(item)

    def _store(self, dataset_id: int, clusters: list[Cluster], method: str, threshold: float) -> list[DuplicateCluster]:
        with write_session(self.home.engine) as s:
            return store_clusters(s, dataset_id, clusters, method, threshold)

    def _row(self, s: Session, cluster_id: int) -> DedupCluster:
        row = s.get(DedupCluster, cluster_id)
        ds = None if row is None else s.get(Dataset, row.dataset_id)
        if row is None or ds is None or ds.owner_id != self.unlocked.user.id:
            raise NotFound(
                _("No duplicate cluster with id {cluster_id} (run dedup again).").format(cluster_id=cluster_id)
            )
        return row

    def _reopen(self, cluster_id: int, decision: str) -> int:
        with write_session(self.home.engine) as s:
            row = self._row(s, cluster_id)
            restored = _restore(s, self.unlocked.user.id, row, list(row.dropped))
            row.kept = list(row.members) if decision == ALL_KEPT else []
            row.decision = decision
            s.add(row)
        return restored


def store_clusters(
    s: Session, dataset_id: int, clusters: list[Cluster], method: str, threshold: float
) -> list[DuplicateCluster]:
    """The clusters stored in place of the dataset's earlier ones, in the caller's transaction."""
    s.exec(delete(DedupCluster).where(col(DedupCluster.dataset_id) == dataset_id))
    rows = [_row_of(dataset_id, position, cluster, method, threshold) for position, cluster in enumerate(clusters)]
    s.add_all(rows)
    s.flush()
    return [_shown(row) for row in rows]


def keep_members(s: Session, user_id: int, row: DedupCluster, kept: Sequence[str]) -> int:
    """DedupService.keep() in the caller's transaction."""
    if not kept or any(k not in row.members for k in kept):
        raise InvalidInput(_("Keep at least one example, and only members of the cluster."))
    _restore(s, user_id, row, [m for m in kept if m in row.dropped])
    drop = [m for m in row.members if m not in kept and m not in row.dropped]
    before = _states(s, drop)
    example_rows.set_review(s, user_id, list(before), ReviewState.REJECTED)
    row.dropped = {**row.dropped, **{m: state.value for m, state in before.items()}}
    row.kept, row.decision = list(kept), KEPT
    s.add(row)
    return len(before)


def ranked_first(members: Sequence[str], rank: Callable[[str], float]) -> str:
    """The member of highest rank; the first of those on a tie."""
    best = max(rank(m) for m in members)
    return next(m for m in members if rank(m) == best)


def _restore(s: Session, user_id: int, row: DedupCluster, example_ids: Sequence[str]) -> int:
    by_state: dict[str, list[str]] = {}
    for example_id in example_ids:
        by_state.setdefault(row.dropped[example_id], []).append(example_id)
    restored = sum(example_rows.set_review(s, user_id, ids, ReviewState(state)) for state, ids in by_state.items())
    row.dropped = {m: state for m, state in row.dropped.items() if m not in example_ids}
    return restored


def _states(s: Session, example_ids: Sequence[str]) -> dict[str, ReviewState]:
    states: dict[str, ReviewState] = {}
    for start in range(0, len(example_ids), 500):
        chunk = tuple(example_ids[start : start + 500])
        found = s.connection().exec_driver_sql(
            f"SELECT id, review FROM example WHERE id IN ({','.join('?' * len(chunk))})", chunk
        )
        states.update({str(i): ReviewState(review) for i, review in found})
    return states


def _row_of(dataset_id: int, position: int, cluster: Cluster, method: str, threshold: float) -> DedupCluster:
    at = {m: i for i, m in enumerate(cluster.members)}
    pairs = sorted([min(at[a], at[b]), max(at[a], at[b]), round(sim, 4)] for (a, b), sim in cluster.similarity.items())
    return DedupCluster(
        dataset_id=dataset_id,
        position=position,
        method="exact" if cluster.exact else method,
        threshold=threshold,
        exact=cluster.exact,
        members=list(cluster.members),
        similarity=[[float(x) for x in pair] for pair in pairs],
    )


def _shown(row: DedupCluster) -> DuplicateCluster:
    assert row.id is not None
    members = list(row.members)
    return DuplicateCluster(
        id=row.id,
        members=members,
        similarity={(members[int(i)], members[int(j)]): float(s) for i, j, s in row.similarity},
        exact=row.exact,
        method=row.method,
        threshold=row.threshold,
        decision=row.decision,
        kept=list(row.kept),
        dropped={m: ReviewState(state) for m, state in row.dropped.items()},
    )


def _cut(line: str, width: int) -> str:
    """`line` in at most `width` terminal cells (a CJK character takes two), with an ellipsis when cut."""
    if cell_len(line) <= width:
        return line
    return set_cell_size(line, width - 1).rstrip() + "…"
