"""Rendering a dataset for export in chunks, in worker processes when it is large.

Opening every sealed field (AES-GCM does not release the GIL) and serializing every record is CPU
work; for a large dataset the chunks of example ids go to a process pool, one worker per core, and
come back as JSON lines in order. Each worker opens its own read-only sqlite3 connection and its own
cipher from the dataset key. Small datasets render in this process: starting workers would cost
more than it saves.

Start method: fork while this process has a single thread (the CLI); otherwise forkserver (the TUI
has threads, and forking a threaded process can copy a held lock). warm() starts the fork server
ahead of the first export.

Workers hold the dataset key, so they must not outlive the export's process, even one killed
with SIGKILL. On Linux each worker asks the kernel for SIGKILL when its parent ends
(PR_SET_PDEATHSIG): a forked worker's parent is the exporting process; a fork server's worker's
parent is the fork server, which exits as soon as the process that started it is gone. Elsewhere a
thread in the worker watches for its parent to change. Either way a worker then checks that its
parent is still the one that started it, in case that ended before the watch began.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

from forge_tui.core.custom_formats import CUSTOM_PREFIX, custom_format
from forge_tui.core.errors import DamagedRow, ForgeError
from forge_tui.core.export_formats import FORMATS, ExportFormat
from forge_tui.core.preference_pairs import with_rejected
from forge_tui.i18n import _
from forge_tui.services.dataset_files import Encoded, encode
from forge_tui.store import example_reader
from forge_tui.store.vault import FieldCipher

CHUNK = 2000  # examples per chunk: progress and cancel steps, and what a worker reads at once
PARALLEL_FROM = 6000  # examples; below this, one process is quicker than starting workers
PARENT_POLL_S = 0.5  # where there is no PR_SET_PDEATHSIG: how often a worker looks for its parent
_PR_SET_PDEATHSIG = 1


class ExportCancelled(ForgeError):
    """The export was stopped; no file was written."""


@dataclass(frozen=True)
class Job:
    """What a worker process needs. The dataset key reaches a forkserver worker over a local
    socket; a forked worker has it already."""

    db_path: Path
    key: bytes
    dataset_id: int
    format_name: str
    format_body: str | None  # the Jinja2 body of a custom format
    parquet: bool
    portable: bool  # a worker can rebuild the format (built in, or custom with its body)
    contiguous: bool = True  # the chunks are runs of the dataset's ids (no split)
    reasoning: str = "field"  # how reasoning is written: drop, field or think-tags (checked already)


@dataclass
class Rendered:
    encoded: Encoded
    examples: int = 0
    left_out: int = 0  # examples the format has nothing for (ExportFormat.keeps)
    broken: list[str] = field(default_factory=list)


def make_job(
    db_path: Path,
    cipher: FieldCipher,
    dataset_id: int,
    fmt: ExportFormat,
    parquet: bool,
    contiguous: bool = True,
    reasoning: str | None = None,
) -> Job:
    custom = fmt.name.startswith(CUSTOM_PREFIX) and fmt.source is not None
    portable = custom or FORMATS.get(fmt.name) is fmt
    body = fmt.source if custom else None
    mode = fmt.reasoning_mode(reasoning)
    return Job(db_path, cipher.key, dataset_id, fmt.name, body, parquet, portable, contiguous, mode)


class _Renderer:
    """One process's reader: a connection, a cipher and the format."""

    def __init__(self, job: Job, fmt: ExportFormat | None = None) -> None:
        self.job = job
        self.connection = example_reader.connect(job.db_path)
        self.cipher = FieldCipher(job.key)
        if fmt is not None:
            self.fmt = fmt
        elif job.format_body is not None:
            self.fmt = custom_format(job.format_name.removeprefix(CUSTOM_PREFIX), job.format_body)
        else:
            self.fmt = FORMATS[job.format_name]

    def render(self, ids: Sequence[str], paired: Mapping[str, Sequence[str]] | None = None) -> Rendered:
        """`paired`: rejected answers of siblings to add to an example (core.preference_pairs)."""
        records: list[dict[str, Any]] = []
        examples = left_out = 0
        broken: list[str] = []
        open_values, fmt, mode = example_reader.open_values, self.fmt, self.job.reasoning
        for values in example_reader.read(self.connection, self.job.dataset_id, ids, self.job.contiguous):
            try:
                example = open_values(self.cipher, values)
            except DamagedRow as exc:
                broken.append(str(exc))
                continue
            examples += 1
            if paired and example.id in paired:
                example = with_rejected(example, paired[example.id])
            if not fmt.keeps(example):
                left_out += 1
                continue
            records.extend(fmt.records(example, mode))
        return Rendered(encode(records, self.job.parquet), examples, left_out, broken)

    def close(self) -> None:
        self.connection.close()


_worker: _Renderer | None = None


_HELD_SIGNALS = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)}


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ending signals wait while workers are forked: Python runs fork hooks in the parent (logging's,
    for one) and only prints an exception a signal handler raises inside them."""
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _start_worker(job: Job, parent: int | None) -> None:
    global _worker
    _end_with_parent(parent)
    # The exporting process handles signals (and removes its temporary files); a forked worker
    # would inherit its handlers (and the mask of _signals_held), and a terminal's Ctrl-C reaches
    # the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD_SIGNALS)
    # A forked worker shares the parent's objects until it writes to them; a collection would walk
    # (and so copy) all of them. Rendering makes no reference cycles, and the worker ends with the export.
    gc.freeze()
    gc.disable()
    _worker = _Renderer(job)


def _end_with_parent(parent: int | None) -> None:
    """Makes this worker end when its parent does (see the module's docstring). `parent` is the
    process that starts the workers (this one, or the fork server), None where it is unknown."""
    parent = parent or os.getppid()
    if not _kill_me_with_parent():
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="watch-parent").start()
    if os.getppid() != parent:  # it ended before the watch began: this worker was adopted already
        os._exit(1)


def _kill_me_with_parent() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols, libc's among them
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(1)


def _render_in_worker(ids: Sequence[str], paired: Mapping[str, Sequence[str]] | None) -> Rendered:
    assert _worker is not None
    return _worker.render(ids, paired)


def _context() -> multiprocessing.context.BaseContext:
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    _start_fork_server()
    return multiprocessing.get_context("forkserver")


_server_lock = threading.Lock()


def _start_fork_server() -> None:
    # multiprocessing hands sys.stderr's descriptor to the servers it starts; under Textual
    # sys.stderr is a capture object without a real one, so the process's own stderr stands in.
    with _server_lock:
        multiprocessing.get_context("forkserver").set_forkserver_preload([__name__])
        captured, sys.stderr = sys.stderr, sys.__stderr__ or sys.stderr
        try:
            forkserver.ensure_running()
        finally:
            sys.stderr = captured


def _fork_server_pid() -> int | None:
    """The fork server's process id (multiprocessing keeps it in a private attribute)."""
    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    return pid if isinstance(pid, int) else None


def warm() -> None:
    """Starts the fork server now (the TUI calls this when the Export screen opens) so the first
    large export does not wait for it."""
    if "forkserver" in multiprocessing.get_all_start_methods() and (os.cpu_count() or 1) > 1:
        _start_fork_server()


def render_chunks(
    job: Job,
    fmt: ExportFormat,
    chunks: Sequence[Sequence[str]],
    cancel: threading.Event | None = None,
    parallel_from: int = PARALLEL_FROM,
    paired: Mapping[str, Sequence[str]] | None = None,
) -> Iterator[Rendered]:
    """Each chunk of ids rendered, in order, with the rejected answers `paired` adds (a worker gets
    those of its chunk only). Raises ExportCancelled between chunks once `cancel` is set."""

    def of(ids: Sequence[str]) -> dict[str, Sequence[str]] | None:
        return {i: paired[i] for i in ids if i in paired} if paired else None

    total = sum(len(c) for c in chunks)
    workers = min(os.cpu_count() or 1, 4)
    if not job.portable or workers < 2 or total < parallel_from:
        renderer = _Renderer(job, fmt)
        try:
            for ids in chunks:
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled(_("The export was stopped."))
                yield renderer.render(ids, of(ids))
        finally:
            renderer.close()
        return
    context = _context()
    parent = os.getpid() if context.get_start_method() == "fork" else _fork_server_pid()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(job, parent))
    with pool:
        pending: deque[Future[Rendered]] = deque()
        queued = iter(chunks)
        try:
            # A few chunks ahead of the writer per worker: enough to keep them busy, and memory
            # stays bounded however large the dataset. The first submit starts the workers.
            with _signals_held():
                for ids in queued:
                    pending.append(pool.submit(_render_in_worker, ids, of(ids)))
                    if len(pending) >= 2 * workers:
                        break
            while pending:
                if cancel is not None and cancel.is_set():
                    raise ExportCancelled(_("The export was stopped."))
                done = pending.popleft().result()
                next_ids = next(queued, None)
                if next_ids is not None:
                    pending.append(pool.submit(_render_in_worker, next_ids, of(next_ids)))
                yield done
        finally:
            for waiting in pending:
                waiting.cancel()
