"""Offline batch for a cluster: a job's open items written as OpenAI Batch input (`vllm run-batch`,
hosted Batch APIs), and the answers read back by custom_id.

An item may ask the model more than once (a paraphrase first, a preference pair, a conversation whose
turns follow each other, a tool call asked again). Any kind works the same way: the item's recipe is
run against a stand-in server (_Replay) that answers each request from the answers already read back
for the item; the first request without one is what the next batch file asks. So a single-request
item finishes in one round and one with N requests in turn in N rounds. Answers of earlier rounds are
kept sealed (store.batch_answers) until the item's last is in; a finished item is committed with its
example in one transaction by store.jobs.record, as a run commits it, so it is never written twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Connection
from sqlmodel import Session

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.batch_lines import Answered, NotAResultLine, RequestId, read_result, request_line
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import ChatRequest, ChatResult
from forge_tui.core.errors import Conflict, ForgeError, InvalidInput, NotFound
from forge_tui.core.jobs import SERVER_FAULTS, FailureKind, JobState, reason_text
from forge_tui.core.models import ExampleSource, ReviewState
from forge_tui.i18n import _
from forge_tui.services import files, readable_files
from forge_tui.services.accounts import Unlocked
from forge_tui.services.backends import BackendError, BackendService
from forge_tui.services.home import Home
from forge_tui.services.job_kinds import recipe_for
from forge_tui.services.job_runner import ExampleUpdate, Produced, Recipe, runner_alive
from forge_tui.store import batch_answers as answer_rows
from forge_tui.store import examples as example_rows
from forge_tui.store import jobs as rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import Dataset, Job
from forge_tui.store.vault import AccountKeys, FieldCipher

PROBLEMS_LISTED = 20  # lines named in a report; the counts hold them all
_REPLAY_URL = "http://batch.invalid/v1"


class _Unanswered(Exception):
    """The item asked request `req` and no answer is in yet: its payload is what the batch asks."""

    def __init__(self, req: int, payload: dict[str, Any]) -> None:
        super().__init__(req)
        self.req = req
        self.payload = payload


class _Replay(BackendService):
    """An OpenAI-compatible server whose answers are those read back for one item: the item's k-th
    request gets answer k, parsed by the same code as a live answer. Requests go out unstreamed, as
    a Batch line asks them."""

    def __init__(self) -> None:
        settings = BackendSettings(kind="openai", base_url=_REPLAY_URL, max_retries=0)
        super().__init__(settings, transport=httpx.MockTransport(self._serve))
        self.answers: Mapping[int, bytes] = {}
        self.asked = 0

    def reset(self, answers: Mapping[int, bytes]) -> None:
        self.answers, self.asked = answers, 0

    async def complete(self, request: ChatRequest) -> ChatResult:
        return await super().complete(request.model_copy(update={"stream": False}))

    def _serve(self, request: httpx.Request) -> httpx.Response:
        req, self.asked = self.asked, self.asked + 1
        if req not in self.answers:
            raise _Unanswered(req, json.loads(request.content))
        return httpx.Response(200, content=self.answers[req], headers={"content-type": "application/json"})


@dataclass
class _Outcome:
    made: Produced | None = None
    failed: str | None = None
    next_request: _Unanswered | None = None
    bad_answer: tuple[int, str] | None = None  # (request, why) of an answer that is no chat completion
    used: int = 0  # requests answered


async def _replay(
    client: _Replay, recipe: Recipe[Any], spec: Any, item: rows.ItemInputs, answers: Mapping[int, bytes]
) -> _Outcome:
    client.reset(answers)
    try:
        made = await recipe.produce(client, spec, item)
    except _Unanswered as stop:
        return _Outcome(next_request=stop, used=stop.req)
    except BackendError as exc:
        return _Outcome(bad_answer=(client.asked - 1, reason_text(str(exc))), used=client.asked - 1)
    except ForgeError as exc:
        return _Outcome(failed=reason_text(str(exc)), used=client.asked)
    except Exception as exc:  # a fault of this item's code path: recorded as a run records it
        return _Outcome(
            failed=_("Unexpected {kind} while making the item.").format(kind=type(exc).__name__), used=client.asked
        )
    if isinstance(made, ExampleUpdate):  # an update of an existing example (a judge job) needs a run
        return _Outcome(failed=_("A job that changes existing examples cannot be answered from a batch file."), used=0)
    return _Outcome(made=made, used=client.asked)


@dataclass(frozen=True)
class Problem:
    line: int
    kind: str  # "corrupt", "unknown", "duplicate", "error"
    detail: str


@dataclass
class ExportReport:
    path: Path
    requests: int
    items: int
    finished: int = 0  # items whose every request was answered already (committed now)
    failed: int = 0


@dataclass
class ImportReport:
    path: Path
    lines: int = 0
    stored: int = 0  # answers taken
    finished: int = 0  # items done with their example
    failed: int = 0  # items that failed with the answers read (an empty answer, an invalid tool call)
    open: int = 0  # items of the job still open
    corrupt: int = 0
    unknown: int = 0
    duplicate: int = 0
    errors: int = 0
    problems: list[Problem] = field(default_factory=list)

    def problem(self, line: int, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.problems) < PROBLEMS_LISTED:
            self.problems.append(Problem(line, kind, clip(detail, 120)))

    def counts(self) -> dict[str, int]:
        names = ("lines", "stored", "finished", "failed", "open", "corrupt", "unknown", "duplicate", "errors")
        return {name: getattr(self, name) for name in names}


@dataclass
class _Job:
    """What export and import need of the job, read once."""

    row: Job
    keys: AccountKeys
    recipe: Recipe[Any]
    spec: Any
    example_cipher: FieldCipher
    dataset_id: int


@dataclass
class _Read:
    """One answered line of a results file, waiting for its item."""

    line: int
    body: bytes


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """The file's lines, numbered from 1, read as they come (a results file can be large)."""
    if not os.path.lexists(path):
        raise NotFound(_("Cannot read {path}: there is no such file.").format(path=path))
    with readable_files.open_regular(path) as handle:
        try:
            yield from enumerate(handle, start=1)
        except OSError as exc:
            raise ForgeError(_("Cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None


class BatchFiles:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    # --- export -------------------------------------------------------------------------------------
    async def export(self, job_id: int, out: Path) -> ExportReport:
        """Writes one Batch input line per open item: its first request not answered yet. The file
        holds the prompts in plaintext; it is written readable by its owner only."""
        with write_session(self.home.engine) as s:
            job = self._job(s, job_id)
            # Items the server's absence failed are open again, as a run's start makes them.
            rows.requeue(s.connection(), job_id, [k.value for k in SERVER_FAULTS])
            conn = s.connection()
            item_cipher = job.keys.cipher(rows.ITEM_TABLE)
            answer_cipher = job.keys.cipher(answer_rows.TABLE)
            open_items: list[tuple[rows.ItemInputs, dict[int, bytes]]] = []
            after = -1
            while loaded := rows.pending(conn, item_cipher, job_id, after, rows.ITEM_CHUNK):
                open_items += [(item, answer_rows.of_item(conn, answer_cipher, job_id, item.idx)) for item in loaded]
                after = loaded[-1].idx
        if not open_items:
            raise Conflict(_("Job {job_id} has no open items; nothing was written.").format(job_id=job_id))
        lines: list[str] = []
        settled: dict[int, _Outcome] = {}
        client = _Replay()
        try:
            for item, answers in open_items:
                outcome = await _replay(client, job.recipe, job.spec, item, answers)
                if outcome.next_request is not None:
                    request_id = RequestId(job_id, item.idx, outcome.next_request.req)
                    lines.append(request_line(request_id, outcome.next_request.payload))
                elif outcome.bad_answer is None:
                    settled[item.idx] = outcome
        finally:
            await client.aclose()
        report = ExportReport(path=out.expanduser().resolve(), requests=len(lines), items=len(lines))
        if settled:
            with write_session(self.home.engine) as s:
                report.finished, report.failed = self._settle(s.connection(), job, settled)
                self._end_if_finished(s.connection(), job.row)
        if lines:
            with files.replacing(out) as handle:
                handle.write("\n".join(lines) + "\n")
        return report

    # --- import -------------------------------------------------------------------------------------
    async def import_results(self, job_id: int, path: Path) -> ImportReport:
        """Stores the answers of a Batch output file into the job by custom_id; an item whose requests
        are all answered is committed with its example. Anything else is counted, listed and left."""
        report = ImportReport(path=path.expanduser().resolve())
        read: dict[int, dict[int, _Read]] = {}
        seen: set[str] = set()
        with read_session(self.home.engine) as s:
            job = self._job(s, job_id)
        for number, raw in _lines(path):
            if not raw.strip():
                continue
            report.lines += 1
            try:
                result = read_result(raw.decode())
            except (NotAResultLine, UnicodeDecodeError) as exc:
                report.problem(number, "corrupt", str(exc))
                continue
            request_id = RequestId.parse(result.custom_id)
            if request_id is None or request_id.job_id != job_id:
                report.problem(number, "unknown", f"{result.custom_id} is not a request of job {job_id}")
                continue
            if result.custom_id in seen:
                report.problem(number, "duplicate", f"{result.custom_id} came earlier in the file")
                continue
            seen.add(result.custom_id)
            if not isinstance(result, Answered):
                report.problem(number, "errors", f"{result.custom_id}: {result.reason}")
                continue
            body = json.dumps(result.body, ensure_ascii=False).encode()
            read.setdefault(request_id.idx, {})[request_id.req] = _Read(number, body)
        if read:
            await self._take(job, read, report)
        with read_session(self.home.engine) as s:
            report.open = rows.counts(s.connection(), job_id).get("pending", 0)
        return report

    async def _take(self, job: _Job, read: dict[int, dict[int, _Read]], report: ImportReport) -> None:
        assert job.row.id is not None
        job_id = job.row.id
        answer_cipher = job.keys.cipher(answer_rows.TABLE)
        with read_session(self.home.engine) as s:
            conn = s.connection()
            found = answer_rows.items(conn, job.keys.cipher(rows.ITEM_TABLE), job_id, sorted(read))
            kept = {idx: answer_rows.of_item(conn, answer_cipher, job_id, idx) for idx in found}
        settled: dict[int, _Outcome] = {}
        to_keep: dict[int, dict[int, bytes]] = {}
        client = _Replay()
        try:
            for idx, new in read.items():
                if idx not in found:
                    for line in new.values():
                        report.problem(line.line, "unknown", f"job {job_id} has no item {idx}")
                    continue
                item, status = found[idx]
                fresh: dict[int, _Read] = {}
                for req, line in sorted(new.items()):
                    if status == rows.ItemState.DONE or req in kept[idx]:
                        what = "is done already" if status == rows.ItemState.DONE else "was read before"
                        report.problem(line.line, "duplicate", f"{RequestId(job_id, idx, req).text} {what}")
                    else:
                        fresh[req] = line
                while True:
                    answers = {**kept[idx], **{req: line.body for req, line in fresh.items()}}
                    outcome = await _replay(client, job.recipe, job.spec, item, answers)
                    if outcome.bad_answer is None:
                        break
                    req, why = outcome.bad_answer
                    report.problem(fresh[req].line, "errors", f"{RequestId(job_id, idx, req).text}: {why}")
                    del fresh[req]
                for req, line in fresh.items():
                    if req >= outcome.used:
                        report.problem(line.line, "unknown", f"{RequestId(job_id, idx, req).text} was not asked yet")
                used = {req: line.body for req, line in fresh.items() if req < outcome.used}
                report.stored += len(used)
                if outcome.next_request is not None:
                    if used:
                        to_keep[idx] = used
                else:
                    settled[idx] = outcome
        finally:
            await client.aclose()
        with write_session(self.home.engine) as s:
            conn = s.connection()
            for idx, answers in to_keep.items():
                answer_rows.keep(conn, answer_cipher, job_id, idx, answers)
            report.finished, report.failed = self._settle(conn, job, settled)
            self._end_if_finished(conn, job.row)

    # --- shared -------------------------------------------------------------------------------------
    def _settle(self, conn: Connection, job: _Job, settled: Mapping[int, _Outcome]) -> tuple[int, int]:
        """Items whose every request is answered: done with their example (or failed with the reason),
        as a run commits them; their kept answers go."""
        assert job.row.id is not None
        done, failed = [], []
        for idx, outcome in settled.items():
            if outcome.made is not None:
                meta = outcome.made.meta.model_copy(
                    update={"source": ExampleSource.JOB, "job_id": job.row.id, "review": ReviewState.UNREVIEWED}
                )
                values = example_rows.sealed_values(job.example_cipher, job.dataset_id, outcome.made.content, meta)
                done.append(rows.ItemDone(idx, values))
            else:
                failed.append(rows.ItemFailure(idx, outcome.failed or "", FailureKind.ITEM, 1))
        recorded = rows.record(conn, job.row.id, done, failed)[:2]
        for idx in settled:
            answer_rows.drop(conn, job.row.id, idx)
        rows.recount(conn, job.row.id)
        return recorded

    def _end_if_finished(self, conn: Connection, row: Job) -> None:
        """A job whose last open item was answered from a batch is done, as a run ends it."""
        assert row.id is not None
        counts = rows.counts(conn, row.id)
        status = rows.status_of(conn, row.id)
        if counts.get("pending") or counts.get("running") or status in (JobState.DONE, JobState.CANCELLED):
            return
        all_failed = not counts.get("done") and bool(counts.get("failed"))
        values: dict[str, Any] = {
            "status": (JobState.FAILED if all_failed else JobState.DONE).value,
            "finished_at": rows.stored_now(),
            "pause_reason": None,
        }
        if all_failed:
            values["error"] = _("Every item failed; `forge-tui jobs show` lists why.")
        rows.set_state(conn, row.id, **values)

    def _job(self, session: Session, job_id: int) -> _Job:
        row = rows.owned(session, self.unlocked.user.id, job_id)
        if row is None:
            raise NotFound(_("No job with id {job_id}.").format(job_id=job_id))
        if row.status == JobState.CANCELLED:
            raise Conflict(_("Job {job_id} was cancelled; it takes no batch.").format(job_id=job_id))
        if runner_alive(row):
            raise Conflict(
                _("Job {job_id} is running in process {pid}; pause it first.").format(job_id=job_id, pid=row.runner_pid)
            )
        data_key = self.unlocked.key_with(row.key_check)
        if data_key is None:
            raise Conflict(
                _("Job {job_id} was sealed with a key this session does not hold; unlock again.").format(job_id=job_id)
            )
        if row.dataset_id is None:
            raise Conflict(_("The dataset of job {job_id} was deleted.").format(job_id=job_id))
        dataset = session.get(Dataset, row.dataset_id)
        if dataset is None or not self.unlocked.can_open(dataset):
            raise Conflict(
                _("The dataset of job {job_id} cannot be opened with this session's key; unlock again.").format(
                    job_id=job_id
                )
            )
        if "target" in row.params:  # services/until_n.py: what passes is decided as the job goes
            raise Conflict(
                _("Job {job_id} keeps going until N pass; it cannot run as an offline batch.").format(job_id=job_id)
            )
        keys = AccountKeys.of(data_key)
        recipe = recipe_for(row.kind)
        try:
            spec = recipe.load(rows.open_job(keys, row)[1])
        except ValueError as exc:
            raise InvalidInput(
                _("Job {job_id}'s plan cannot be read: {problem}").format(job_id=job_id, problem=clip(str(exc)))
            ) from None
        session.expunge(row)
        return _Job(row, keys, recipe, spec, self.unlocked.cipher_for(dataset), row.dataset_id)
