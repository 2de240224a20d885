"""Runs one job on the caller's event loop: items asked concurrently, each finished item committed
with its example in one transaction, the job's status re-read every half second so that a pause or
cancel from another process takes effect, and a run of failures pausing the job.

Nothing lost, nothing twice: the plan is in the database before this starts; an item is done only
in the transaction that writes its example, and one already done is never written again
(store.jobs.record). A kill loses the requests in flight and the finished items not yet committed
(at most COMMIT_EVERY_S old); they are pending still, and the next run asks them again.

The database is used from one connection, in a worker thread (asyncio.to_thread) so that the event
loop (the TUI's) never waits on SQLite; a lock keeps one statement at a time on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.engine import Connection

from forge_tui.core.errors import Conflict, ForgeError, NotFound
from forge_tui.core.jobs import (
    SERVER_FAULTS,
    FailureKind,
    FailureWindow,
    JobState,
    JobSummary,
    endpoint_of,
    output_dir_of,
    reason_text,
    retry_delay,
)
from forge_tui.core.judging import Judgement
from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.i18n import _
from forge_tui.llm.errors import BackendBusy, BackendUnavailable
from forge_tui.services.accounts import Unlocked
from forge_tui.services.backends import BackendError, BackendService, ModelNotFound
from forge_tui.services.endpoint_pool import EndpointPool
from forge_tui.services.home import Home
from forge_tui.services.model_client import ModelClient
from forge_tui.store import examples as example_rows
from forge_tui.store import jobs as rows
from forge_tui.store import judgements as judgement_rows
from forge_tui.store.db import write_connection
from forge_tui.store.key_rotation import dataset_check
from forge_tui.store.tables import Dataset, Job
from forge_tui.store.vault import AccountKeys, FieldCipher

S = TypeVar("S")

WATCH_EVERY_S = 0.5  # the job's status re-read, and the heartbeat written
STALE_AFTER_S = 10.0  # a runner silent this long is gone
COMMIT_EVERY_S = 0.05  # finished items wait at most this long for their transaction
COMMIT_BATCH = 256  # or until this many are waiting
PROGRESS_EVERY_S = 0.1
# A pause with "finish" waits for the requests in flight this many times an answer's usual time (at
# least DRAIN_MIN_S, at most the answer's time limit): a stalled one is then cancelled, its item pending.
DRAIN_LATENCIES = 3.0
DRAIN_MIN_S = 2.0


class Produced(Protocol):
    """What one item makes: services.generation.GeneratedExample fits."""

    @property
    def content(self) -> ExampleContent: ...

    @property
    def meta(self) -> ExampleMeta: ...


# --- targets ("until N pass"): judged examples, items skipped, and the recipe's hooks ---------------
@dataclass(frozen=True)
class JudgedExample:
    """An example judged as it was made: stored `unreviewed` when it passed, `rejected` when not
    (kept and counted), with its judgement (score plain, the rest sealed) in the same transaction."""

    content: ExampleContent
    meta: ExampleMeta
    judgement: Judgement | None
    passed: bool


@dataclass(frozen=True)
class NoExample:
    """An item not made because the job's target was met or its slot value's quota is full: the
    item ends `done` without an example (job_item.example_id stays NULL)."""

    content: ExampleContent = field(default_factory=ExampleContent)
    meta: ExampleMeta = field(default_factory=ExampleMeta)


@dataclass(frozen=True)
class RunContext:
    """What a recipe's hooks read the job's stored results with, in the runner's transaction."""

    conn: Connection
    job_id: int
    dataset_id: int
    example_cipher: FieldCipher
    item_cipher: FieldCipher


@dataclass(frozen=True)
class ExampleUpdate:
    """What an item that changes an existing example makes (a judge job's): committed with the
    item's `done`, never twice. `tally` is added to the job's plain results (counts, no content)."""

    example_id: str
    judgement: Judgement | None = None
    review: ReviewState | None = None
    content: ExampleContent | None = None
    tally: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipe(Generic[S]):
    """How a kind of job makes an item: its spec read from the stored JSON once, then `produce`
    per item. `produce` raises BackendError for transport failures (retried with backoff here) and
    any other ForgeError for a failure of the item (recorded at once). It makes a new example
    (Produced), or with `example_of` (which existing example an item works on: the runner opens it
    into `item.example`) an ExampleUpdate of that example.

    A recipe with a target also gives `prepare` (rebuilds its run state from what the job stored, at
    every run: a resume continues the count), `target_met` (read after each commit: the job's pending
    items are then marked done without an example) and `shortfall` (with nothing pending: why the
    job missed its target, which fails it).

    A recipe over chunks of examples gives `examples_of` (the runner opens them into
    `item.examples`, `load_chunk` items at a time) and `finish`: called in the transaction that
    records the job's last open item (none pending, none failed), so whatever it writes is committed
    exactly once; it returns counts added to the job's results."""

    load: Callable[[dict[str, Any]], S]
    produce: Callable[[ModelClient, S, rows.ItemInputs], Awaitable[Produced | ExampleUpdate]]
    example_of: Callable[[rows.ItemInputs], str] | None = None
    examples_of: Callable[[rows.ItemInputs], list[str]] | None = None
    load_chunk: int = 512
    finish: Callable[[S, RunContext], dict[str, float]] | None = None
    prepare: Callable[[S, RunContext], None] | None = None
    target_met: Callable[[S, RunContext], bool] | None = None
    shortfall: Callable[[S, RunContext], str | None] | None = None


Progress = Callable[[JobSummary], None]


@dataclass
class RunOptions:
    # Items asked at once; None: the pool's capacity (the sum of its endpoints' max concurrencies), so
    # the pool's adaptive limits, not a fixed number, decide how many requests are in flight.
    concurrency: int | None = None
    attempts: int = 3
    backoff_s: float = 1.0


# (database file, job id) of the jobs this process runs now.
_RUNNING_HERE: set[tuple[str, int]] = set()


def this_host() -> str:
    return socket.gethostname()


def runner_alive(job: Job, now: float | None = None) -> bool:
    """Whether a process is running the job: its heartbeat is fresh and (on this host) its process exists."""
    if job.status != JobState.RUNNING or job.heartbeat_at is None or job.runner_pid is None:
        return False
    if (now or time.time()) - job.heartbeat_at > STALE_AFTER_S:
        return False
    if job.runner_host == this_host():
        try:
            os.kill(job.runner_pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
    return True


@dataclass
class _Done:
    idx: int
    produced: Produced | ExampleUpdate


@dataclass
class _Failed:
    idx: int
    reason: str
    kind: FailureKind
    attempts: int


def classify(exc: BackendError) -> FailureKind:
    if isinstance(exc, ModelNotFound):
        return FailureKind.MISSING
    if isinstance(exc, BackendUnavailable):
        return FailureKind.UNAVAILABLE
    return FailureKind.TRANSPORT


@dataclass
class _Counts:
    total: int = 0
    done: int = 0
    failed: int = 0
    done_at_start: int = 0
    started: float = field(default_factory=time.monotonic)


class JobRunner(Generic[S]):
    def __init__(
        self,
        home: Home,
        unlocked: Unlocked,
        job_id: int,
        client: ModelClient,
        recipe: Recipe[S],
        options: RunOptions,
        on_progress: Progress | None = None,
    ) -> None:
        self.home = home
        self.unlocked = unlocked
        self.job_id = job_id
        # A plain server is run as a pool of one: the same limits, re-sending and figures.
        self._own_pool = isinstance(client, BackendService)
        self.client: ModelClient = EndpointPool.single(client) if isinstance(client, BackendService) else client
        self.pool = self.client if isinstance(self.client, EndpointPool) else None
        self.recipe = recipe
        self.options = options
        self.on_progress = on_progress
        self._conn: Connection | None = None
        self._conn_lock = threading.Lock()
        self._job: Job | None = None
        self._spec: S | None = None
        self._item_cipher: FieldCipher | None = None
        self._example_cipher: tuple[FieldCipher, bytes] | None = None
        self._keys: AccountKeys | None = None
        self._queue: deque[rows.ItemInputs] = deque()
        self._cursor = -1
        self._exhausted = False
        self._load_lock = asyncio.Lock()
        self._finished: list[_Done | _Failed] = []
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._draining = False  # paused with "finish": no new items, the requests in flight finish
        self._drain_timer: asyncio.TimerHandle | None = None
        self._auto_pause: str | None = None
        self._requests: set[asyncio.Future[Produced | ExampleUpdate]] = set()
        self._window = FailureWindow()
        self._counts = _Counts()
        self._last_progress = 0.0
        self._name = ""
        self._failure: BaseException | None = None  # of the committer or the watcher: ends the run
        self._final: tuple[JobState, str | None, str | None] = (JobState.RUNNING, None, None)
        self._results: dict[str, float] = {}

    # --- the database, one statement at a time, off the event loop -----------------------------------
    def _locked(self, action: Callable[[Connection], Any]) -> Any:
        with self._conn_lock:
            if self._conn is None:
                self._conn = write_connection(self.home.engine)
            with self._conn.begin():
                return action(self._conn)

    async def _db(self, action: Callable[[Connection], Any]) -> Any:
        return await asyncio.to_thread(self._locked, action)

    def _close(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- the run ------------------------------------------------------------------------------------
    async def run(self) -> JobSummary:
        key = (str(self.home.db_path), self.job_id)
        if key in _RUNNING_HERE:
            raise Conflict(_("Job {job_id} is running already.").format(job_id=self.job_id))
        _RUNNING_HERE.add(key)
        try:
            await self._db(self._claim)
            try:
                self._open_spec()
                if self.recipe.prepare is not None:
                    await self._db(self._prepare)
                self._report(force=True)
                while True:
                    await self._one_pass()
                    if self._stop.is_set() or self._draining or not await self._db(self._has_pending):
                        break
                    self._cursor, self._exhausted = -1, False
            except BaseException as exc:
                self._halt()
                # Finished items are kept (a Ctrl-C or an error must not lose them): written from this
                # thread, after whatever transaction a worker thread may still be in.
                reason = reason_text(str(exc)) if isinstance(exc, ForgeError) else _("interrupted")
                try:
                    self._locked(lambda c: self._commit(c, self._take_finished()))
                finally:
                    self._locked(lambda c: self._end(c, interrupted=reason))
                raise
            await self._db(lambda c: self._end(c, interrupted=None))
            return self._summary()
        finally:
            _RUNNING_HERE.discard(key)
            if self._drain_timer is not None:
                self._drain_timer.cancel()
            if self.pool is not None:
                with contextlib.suppress(Exception):
                    await self._db(lambda c: rows.write_endpoint_stats(c, self.job_id, self._stats_json()))
            self._close()
            if self._own_pool:
                await self.client.aclose()

    def _open_spec(self) -> None:
        assert self._job is not None
        data_key = self.unlocked.key_with(self._job.key_check)
        if data_key is None:
            raise Conflict(
                _(
                    "Job {job_id} was sealed with a key this session does not hold (the key was rotated "
                    "or the password reset since): unlock again."
                ).format(job_id=self.job_id)
            )
        keys = AccountKeys.of(data_key)
        self._keys = keys
        self._name, spec = rows.open_job(keys, self._job)
        self._item_cipher = keys.cipher(rows.ITEM_TABLE)
        self._spec = self.recipe.load(spec)

    def _spec_loaded(self) -> S:
        assert self._spec is not None
        return self._spec

    def _prepare(self, conn: Connection) -> None:
        assert self._job is not None and self._job.dataset_id is not None and self.recipe.prepare is not None
        cipher = self._current_cipher(conn, self._job.dataset_id)
        context = RunContext(conn, self.job_id, self._job.dataset_id, cipher, self._item_cipher_set())
        self.recipe.prepare(self._spec_loaded(), context)
        self._read_counts(conn)  # a recipe may put done items back (a dedup job's)

    def _claim(self, conn: Connection) -> None:
        """Marks the job as run by this process; items a killed run left in flight, and items that
        failed because the server was gone, are pending again."""
        from sqlmodel import Session

        with Session(bind=conn) as s:
            job = rows.owned(s, self.unlocked.user.id, self.job_id)
            if job is None:
                raise NotFound(_("No job with id {job_id}.").format(job_id=self.job_id))
            status = JobState(job.status)
            if status in (JobState.DONE, JobState.CANCELLED) and not rows.counts(conn, self.job_id).get("pending"):
                raise Conflict(
                    _("Job {job_id} is {status}; there is nothing left to run.").format(
                        job_id=self.job_id, status=status.value
                    )
                )
            if status is JobState.CANCELLED:
                raise Conflict(_("Job {job_id} was cancelled; it cannot run again.").format(job_id=self.job_id))
            ours = job.runner_host == this_host() and job.runner_pid == os.getpid()  # a run of ours that ended
            if runner_alive(job) and not ours:
                raise Conflict(
                    _("Job {job_id} is running in another process (pid {pid}).").format(
                        job_id=self.job_id, pid=job.runner_pid
                    )
                )
            if job.dataset_id is None:
                raise Conflict(_("The dataset of job {job_id} was deleted.").format(job_id=self.job_id))
            dataset = s.get(Dataset, job.dataset_id)
            assert dataset is not None
            if not self.unlocked.can_open(dataset):
                raise Conflict(
                    _("Dataset '{name}' cannot be opened with this session's key; unlock again.").format(
                        name=dataset.name
                    )
                )
            self._example_cipher = (self.unlocked.cipher_for(dataset), dataset.key_check)
            s.expunge(job)
        rows.requeue(conn, self.job_id, [k.value for k in SERVER_FAULTS])
        rows.set_state(
            conn,
            self.job_id,
            status=JobState.RUNNING.value,
            pause_reason=None,
            error=None,
            runner_host=this_host(),
            runner_pid=os.getpid(),
            heartbeat_at=time.time(),
            finished_at=None,
        )
        conn.exec_driver_sql(
            "UPDATE job SET started_at = ? WHERE id = ? AND started_at IS NULL", (rows.stored_now(), self.job_id)
        )
        self._read_counts(conn)
        self._results = rows.results(conn, self.job_id)
        self._job = job

    def _read_counts(self, conn: Connection) -> None:
        counted = conn.exec_driver_sql("SELECT total, done, failed FROM job WHERE id = ?", (self.job_id,)).one()
        self._counts = _Counts(total=counted[0], done=counted[1], failed=counted[2], done_at_start=counted[1])

    def _has_pending(self, conn: Connection) -> bool:
        return bool(rows.counts(conn, self.job_id).get("pending"))

    async def _one_pass(self) -> None:
        # The committer is told to end, not cancelled: a commit it has handed to a thread would still
        # land after this run returned, so the summary (and a reader right after) would miss it.
        ending = asyncio.Event()
        committer = asyncio.create_task(self._or_halt(functools.partial(self._commit_loop, ending)))
        watcher = asyncio.create_task(self._or_halt(self._watch))
        count = self.options.concurrency or self.client.settings.concurrency
        workers = [asyncio.create_task(self._worker()) for _ in range(max(1, count))]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            watcher.cancel()
            ending.set()
            self._wake.set()
            await asyncio.gather(watcher, committer, *workers, return_exceptions=True)
        if self._failure is not None:
            raise self._failure
        await self._db(lambda c: self._commit(c, self._take_finished()))
        self._report(force=True)

    async def _or_halt(self, loop: Callable[[], Awaitable[None]]) -> None:
        """Runs the committer or the watcher; a failure of either stops the run and is raised by it."""
        try:
            await loop()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._failure = exc
            self._halt()

    # --- workers ------------------------------------------------------------------------------------
    async def _next_item(self) -> rows.ItemInputs | None:
        if self._draining:
            return None
        async with self._load_lock:
            if not self._queue and not self._exhausted and not self._stop.is_set():
                cipher = self._item_cipher
                assert cipher is not None
                chunk = self.recipe.load_chunk
                loaded: list[rows.ItemInputs] = await self._db(
                    lambda c: self._with_examples(c, rows.pending(c, cipher, self.job_id, self._cursor, chunk))
                )
                if not loaded:
                    self._exhausted = True
                else:
                    self._cursor = loaded[-1].idx
                    self._queue.extend(loaded)
        if self._stop.is_set() or self._draining or not self._queue:
            return None
        return self._queue.popleft()

    def _with_examples(self, conn: Connection, items: list[rows.ItemInputs]) -> list[rows.ItemInputs]:
        """The items with the examples they work on opened (for a recipe with `example_of`)."""
        example_of, examples_of = self.recipe.example_of, self.recipe.examples_of
        if (example_of is None and examples_of is None) or not items:
            return items
        assert self._job is not None and self._job.dataset_id is not None
        dataset_id = self._job.dataset_id
        cipher = self._current_cipher(conn, dataset_id)
        if examples_of is not None:
            return [self._with_chunk(conn, cipher, dataset_id, item, examples_of(item)) for item in items]
        assert example_of is not None
        wanted = {item.idx: example_of(item) for item in items}
        opened = {}
        for row in example_rows.plain_by_ids(conn, list(set(wanted.values()))):
            with contextlib.suppress(ForgeError):  # a damaged row: the item fails, naming it missing
                example = example_rows.open_row(cipher, row)
                if example.dataset_id == dataset_id:
                    opened[example.id] = example
        return [dataclasses.replace(item, example=opened.get(wanted[item.idx])) for item in items]

    def _with_chunk(
        self, conn: Connection, cipher: FieldCipher, dataset_id: int, item: rows.ItemInputs, ids: list[str]
    ) -> rows.ItemInputs:
        opened = {}
        for row in example_rows.plain_by_ids(conn, ids):
            with contextlib.suppress(ForgeError):  # a damaged row is left out
                example = example_rows.open_row(cipher, row)
                if example.dataset_id == dataset_id:
                    opened[example.id] = example
        return dataclasses.replace(item, examples=tuple(opened[i] for i in ids if i in opened))

    async def _worker(self) -> None:
        while True:
            item = await self._next_item()
            if item is None:
                return
            outcome = await self._attempt(item)
            if outcome is None:  # stopped meanwhile: the item stays pending
                return
            self._finished.append(outcome)
            if len(self._finished) >= COMMIT_BATCH:
                self._wake.set()
            self._window.add(None if isinstance(outcome, _Done) else (outcome.kind, outcome.reason))
            reason = self._window.pause_reason()
            if reason is not None and not self._stop.is_set():
                self._auto_pause = reason
                self._halt()

    async def _attempt(self, item: rows.ItemInputs) -> _Done | _Failed | None:
        spec = self._spec
        assert spec is not None
        attempts = max(1, self.options.attempts)
        for attempt in range(1, attempts + 1):
            request = asyncio.ensure_future(self.recipe.produce(self.client, spec, item))
            self._requests.add(request)
            try:
                return _Done(item.idx, await request)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if request.cancelled() and self._stop.is_set() and not (task and task.cancelling()):
                    return None
                raise
            except BackendError as exc:
                kind = classify(exc)
                if kind is FailureKind.MISSING or attempt == attempts:
                    return _Failed(item.idx, reason_text(str(exc)), kind, attempt)
                retry_after = exc.retry_after if isinstance(exc, BackendBusy) else None
                delay = retry_delay(attempt, self.options.backoff_s, retry_after)
                if self._draining:  # paused: the item stays pending for the next run
                    return None
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                    return None
                except TimeoutError:
                    pass
            except ForgeError as exc:
                return _Failed(item.idx, reason_text(str(exc)), FailureKind.ITEM, attempt)
            except Exception as exc:  # a fault of this item's code path: recorded, the job goes on
                return _Failed(
                    item.idx,
                    _("Unexpected {kind} while making the item.").format(kind=type(exc).__name__),
                    FailureKind.ITEM,
                    attempt,
                )
            finally:
                self._requests.discard(request)
        raise AssertionError("unreachable")

    def _halt(self) -> None:
        self._stop.set()
        for request in list(self._requests):
            request.cancel()

    # --- committing ---------------------------------------------------------------------------------
    def _take_finished(self) -> list[_Done | _Failed]:
        taken, self._finished = self._finished, []
        return taken

    async def _commit_loop(self, ending: asyncio.Event) -> None:
        while not ending.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), COMMIT_EVERY_S)
            self._wake.clear()
            batch = self._take_finished()
            if batch:
                await self._db(functools.partial(self._commit, batch=batch))
            self._report()

    def _commit(self, conn: Connection, batch: list[_Done | _Failed]) -> None:
        if not batch:
            return
        assert self._job is not None and self._job.dataset_id is not None
        dataset_id = self._job.dataset_id
        cipher = self._current_cipher(conn, dataset_id)
        done: list[rows.ItemDone] = []
        judged: list[tuple[str, Judgement | None]] = []
        skipped: list[int] = []
        updated: list[rows.ItemUpdate] = []
        tallies: dict[int, dict[str, float]] = {}
        for outcome in batch:
            if not isinstance(outcome, _Done):
                continue
            produced = outcome.produced
            if isinstance(produced, NoExample):
                skipped.append(outcome.idx)
            elif isinstance(produced, ExampleUpdate):
                apply = functools.partial(self._apply_update, cipher=cipher, dataset_id=dataset_id, update=produced)
                updated.append(rows.ItemUpdate(outcome.idx, produced.example_id, apply))
                tallies[outcome.idx] = produced.tally
            else:
                values = example_rows.sealed_values(cipher, dataset_id, *self._stored(produced))
                done.append(rows.ItemDone(outcome.idx, values))
                if isinstance(produced, JudgedExample):
                    judged.append((str(values["id"]), produced.judgement))
        failed = [
            rows.ItemFailure(outcome.idx, outcome.reason, outcome.kind, outcome.attempts)
            for outcome in batch
            if isinstance(outcome, _Failed)
        ]
        recorded_done, recorded_failed, applied = rows.record(conn, self.job_id, done, failed, updated)
        total: dict[str, float] = {}
        for update in applied:
            for name, value in tallies[update.idx].items():
                total[name] = total.get(name, 0) + value
        if total or not self._results:
            self._results = rows.add_results(conn, self.job_id, total)
        done_before = self._counts.done
        self._counts.done += recorded_done
        self._counts.failed += recorded_failed
        self._commit_target(conn, dataset_id, cipher, judged, skipped)
        if self.recipe.finish is not None and self._counts.done > done_before:
            left = rows.counts(conn, self.job_id)
            if not any(left.get(state) for state in ("pending", "running", "failed")):
                context = RunContext(conn, self.job_id, dataset_id, cipher, self._item_cipher_set())
                self._results = rows.add_results(conn, self.job_id, self.recipe.finish(self._spec_loaded(), context))

    def _commit_target(
        self,
        conn: Connection,
        dataset_id: int,
        cipher: FieldCipher,
        judged: list[tuple[str, Judgement | None]],
        skipped: list[int],
    ) -> None:
        """Targets ("until N pass"), in the same transaction as the examples: their judgements (an
        item recorded before wrote no example, so nothing is found for it), items skipped, and once
        the target is met every pending item done without an example."""
        assert self._keys is not None
        if any(j is not None for _, j in judged):
            judgement_rows.write(conn, self._keys, dataset_id, [(i, j) for i, j in judged if j is not None])
        if skipped:
            self._counts.done += rows.skip(conn, self.job_id, skipped)
        met = self.recipe.target_met
        if met is not None:
            context = RunContext(conn, self.job_id, dataset_id, cipher, self._item_cipher_set())
            if met(self._spec_loaded(), context):
                self._counts.done += rows.skip_pending(conn, self.job_id)

    def _item_cipher_set(self) -> FieldCipher:
        assert self._item_cipher is not None
        return self._item_cipher

    def _apply_update(self, conn: Connection, cipher: FieldCipher, dataset_id: int, update: ExampleUpdate) -> None:
        """An ExampleUpdate written in the item's transaction: new content sealed into the row, the
        review state, the judgement (score plain, the rest sealed with the account's keys)."""
        found = conn.exec_driver_sql(
            "SELECT 1 FROM example WHERE id = ? AND dataset_id = ?", (update.example_id, dataset_id)
        ).first()
        if found is None:  # deleted meanwhile: nothing to change
            return
        if update.content is not None:
            example_rows.replace_content(conn, cipher, update.example_id, update.content)
        if update.review is not None:
            conn.exec_driver_sql("UPDATE example SET review = ? WHERE id = ?", (update.review.value, update.example_id))
        if update.judgement is not None:
            check = conn.exec_driver_sql("SELECT key_check FROM user WHERE id = ?", (self.unlocked.user.id,)).one()
            keys = self.unlocked.account_keys(bytes(check[0]))
            judgement_rows.write(conn, keys, dataset_id, [(update.example_id, update.judgement)])

    def _stored(self, produced: Produced) -> tuple[ExampleContent, ExampleMeta]:
        review = ReviewState.UNREVIEWED
        update: dict[str, Any] = {"source": ExampleSource.JOB, "job_id": self.job_id}
        if isinstance(produced, JudgedExample):
            review = ReviewState.UNREVIEWED if produced.passed else ReviewState.REJECTED
            update["score"] = produced.judgement.score if produced.judgement is not None else None
        meta = produced.meta.model_copy(update={**update, "review": review})
        return produced.content, meta

    def _current_cipher(self, conn: Connection, dataset_id: int) -> FieldCipher:
        """The dataset's cipher; derived again when a key rotation moved the dataset meanwhile."""
        assert self._example_cipher is not None
        cipher, check = self._example_cipher
        now = dataset_check(conn, dataset_id)
        if now == check:
            return cipher
        found = conn.exec_driver_sql("SELECT salt, key_check, name FROM dataset WHERE id = ?", (dataset_id,)).first()
        if found is None:
            raise Conflict(_("The dataset of job {job_id} was deleted.").format(job_id=self.job_id))
        dataset = Dataset(
            id=dataset_id, owner_id=self.unlocked.user.id, name=found[2], salt=found[0], key_check=found[1]
        )
        if not self.unlocked.can_open(dataset):
            raise Conflict(
                _("The key of dataset '{name}' was rotated meanwhile; unlock again and resume.").format(
                    name=dataset.name
                )
            )
        self._example_cipher = (self.unlocked.cipher_for(dataset), dataset.key_check)
        return self._example_cipher[0]

    # --- steering -----------------------------------------------------------------------------------
    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            stats = self._stats_json() if self.pool is not None else None
            status, in_flight = await self._db(functools.partial(self._beat, stats=stats))
            if status == JobState.PAUSED and in_flight != "cancel":
                self._drain()
            elif status != JobState.RUNNING:  # cancelled (or deleted) elsewhere, or paused with "cancel"
                self._halt()

    def _stats_json(self) -> list[dict[str, Any]]:
        return [s.to_json() for s in self.pool.stats()] if self.pool is not None else []

    def _drain(self) -> None:
        """Takes no new item and lets the requests in flight finish (for a bounded time: _drain_s)."""
        if self._draining:
            return
        self._draining = True
        self._wake.set()
        self._drain_timer = asyncio.get_running_loop().call_later(self._drain_s(), self._halt)

    def _drain_s(self) -> float:
        limit = self.client.settings.answer_time_limit
        usual = self.pool.latency_s if self.pool is not None else None
        return limit if usual is None else min(limit, max(DRAIN_MIN_S, DRAIN_LATENCIES * usual))

    def _beat(self, conn: Connection, stats: list[dict[str, Any]] | None) -> tuple[str | None, str | None]:
        conn.exec_driver_sql(
            "UPDATE job SET heartbeat_at = ? WHERE id = ? AND status = 'running'", (time.time(), self.job_id)
        )
        if stats is not None:
            rows.write_endpoint_stats(conn, self.job_id, stats)
        found = conn.exec_driver_sql("SELECT status, pause_in_flight FROM job WHERE id = ?", (self.job_id,)).first()
        return (found[0], found[1]) if found is not None else (None, None)

    def _end(self, conn: Connection, interrupted: str | None) -> None:
        """The job's state once this run stops."""
        status = rows.status_of(conn, self.job_id)
        if status is None:
            return
        values: dict[str, Any] = {"runner_host": None, "runner_pid": None, "heartbeat_at": None}
        if status == JobState.RUNNING:  # not paused or cancelled by another process
            counts = rows.counts(conn, self.job_id)
            if self._auto_pause is not None:
                values.update(status=JobState.PAUSED.value, pause_reason=self._auto_pause)
            elif interrupted is not None:
                values.update(status=JobState.PAUSED.value, pause_reason=interrupted)
            elif not counts.get("pending"):
                all_failed = counts.get("done", 0) == 0 and counts.get("failed", 0) > 0
                missed = self._shortfall(conn)
                values.update(
                    status=(JobState.FAILED if all_failed or missed else JobState.DONE).value,
                    finished_at=rows.stored_now(),
                )
                if missed:
                    values["error"] = missed
                elif all_failed:
                    values["error"] = _("Every item failed; `forge-tui jobs show` lists why.")
        rows.set_state(conn, self.job_id, **values)
        final = conn.exec_driver_sql("SELECT status, pause_reason, error FROM job WHERE id = ?", (self.job_id,)).one()
        self._final = (JobState(final[0]), final[1], final[2])

    def _shortfall(self, conn: Connection) -> str | None:
        shortfall = self.recipe.shortfall
        if shortfall is None or self._spec is None or self._job is None or self._job.dataset_id is None:
            return None
        dataset_id = self._job.dataset_id
        context = RunContext(
            conn, self.job_id, dataset_id, self._current_cipher(conn, dataset_id), self._item_cipher_set()
        )
        return shortfall(self._spec, context)

    # --- progress -----------------------------------------------------------------------------------
    def _report(self, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        self.on_progress(self._summary())

    def _summary(self) -> JobSummary:
        assert self._job is not None
        job, counts = self._job, self._counts
        status, pause_reason, error = self._final
        elapsed = time.monotonic() - counts.started
        made = counts.done - counts.done_at_start
        per_minute = made / elapsed * 60 if made and elapsed > 0 else None
        pending = max(0, counts.total - counts.done - counts.failed)
        return JobSummary(
            id=self.job_id,
            kind=job.kind,
            name=self._name,
            status=status,
            total=counts.total,
            done=counts.done,
            failed=counts.failed,
            model=str(job.params.get("model", "")),
            dataset_id=job.dataset_id,
            template_id=job.template_id,
            pause_reason=pause_reason,
            error=error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=None,
            per_minute=per_minute,
            eta_s=pending / per_minute * 60 if per_minute else None,
            endpoint=endpoint_of(job.params),
            results=dict(self._results),
            output_dir=output_dir_of(job.params),
        )
