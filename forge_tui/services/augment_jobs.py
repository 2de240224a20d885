"""Augment jobs (kind "augment"): an instruction (a Jinja2 template rendered in the sandbox over the
example's fields) asks a model for a new value of one field of each chosen example, as a job of the
engine (planned whole, resumable, on a pool).

The result goes into a new dataset (every example of the source copied first, then the copies are
changed) or in place. Either way each item is an update of an existing example committed with its
`done` (job_runner.ExampleUpdate); an item that fails leaves the example as it was and is counted
with its reason. Each item's inputs (sealed, as every plan) keep the field's value before the job,
so `undo` restores every value the job changed, once per job.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Template
from pydantic import BaseModel, Field

from forge_tui.core import augment
from forge_tui.core.augment import FieldRef
from forge_tui.core.augment_form import AugmentForm
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.errors import Conflict, ForgeError, InvalidInput, NotFound
from forge_tui.core.jobs import CONCURRENCY_PARAM, JobState, JobSummary
from forge_tui.core.models import Example, ExampleContent
from forge_tui.core.templates import compile_source, render_compiled
from forge_tui.i18n import _
from forge_tui.services import job_kinds
from forge_tui.services.dataset_filter import DatasetFilterService, parse_filter
from forge_tui.services.examples import BrokenExample
from forge_tui.services.job_runner import ExampleUpdate
from forge_tui.services.jobs import ItemInputs, JobPlan, JobService, Recipe
from forge_tui.services.model_client import ModelClient
from forge_tui.services.workspace import Workspace
from forge_tui.store import examples as example_rows
from forge_tui.store import jobs as job_rows
from forge_tui.store.db import write_session

AUGMENT = "augment"
EXAMPLE_KEY = "example_id"
BEFORE_KEY = "before"
REJECTED_KEY = "rejected_before"
PREVIEW_COUNT = 3
COPY_CHUNK = 500


class AugmentFailed(ForgeError):
    """The model gave nothing usable for an item, or its example is gone."""


class AugmentSpec(BaseModel):
    """An augment job's spec as stored (sealed: the instruction is content)."""

    field: str
    instruction: str
    context: list[str] = Field(default_factory=list)
    model: str
    temperature: float | None = None
    language: str = ""
    keep_as_rejected: bool = False
    max_tokens: int | None = None
    where: str = ""  # the filter expression that chose the examples (kept for `configs save --from-job`)


@dataclass(frozen=True)
class AugmentChoice:
    """What the user asked for. `into` names the new dataset; empty means in place. `where` (a filter
    expression) or `only_ids` narrows the examples; `concurrency` (None: Settings') is kept in the
    job, so every run of it (foreground, detached, resumed, in the TUI) asks that many at once."""

    dataset_id: int
    field: str
    instruction: str
    model: str
    context: Sequence[str] = ()
    only_ids: Sequence[str] = ()
    temperature: float | None = None
    language: str = ""
    into: str = ""
    keep_as_rejected: bool = False
    max_tokens: int | None = None
    where: str = ""
    concurrency: int | None = None

    def spec(self) -> AugmentSpec:
        return AugmentSpec(
            field=self.field,
            instruction=self.instruction,
            context=list(self.context),
            model=self.model,
            temperature=self.temperature,
            language=self.language,
            keep_as_rejected=self.keep_as_rejected,
            max_tokens=self.max_tokens,
            where=self.where,
        )


def choice_of_form(
    form: AugmentForm, dataset_id: int, only_ids: Sequence[str] = (), max_tokens: int | None = None
) -> AugmentChoice:
    """The choice a form (the dialog's, or a configuration with the CLI's flags) holds; InvalidInput
    names a bad number. Not checked further: see `check`."""
    if not form.in_place and not form.into.strip():
        raise InvalidInput(_("Name the new dataset, or choose in place."))
    return AugmentChoice(
        dataset_id=dataset_id,
        field=form.field.strip(),
        instruction=form.instruction,
        model=form.model.strip(),
        context=form.context_names(),
        only_ids=tuple(only_ids),
        temperature=form.temperature_value(),
        language=form.language.strip(),
        into="" if form.in_place else form.into.strip(),
        keep_as_rejected=form.keep_as_rejected,
        max_tokens=max_tokens,
        where=form.where.strip(),
        concurrency=form.concurrency_value(),
    )


def default_into(name: str) -> str:
    return f"{name}-augmented"


def check(choice: AugmentChoice) -> FieldRef:
    """Raises InvalidInput naming what is wrong with the choice; returns the target field."""
    target = FieldRef.parse(choice.field)
    if not choice.instruction.strip():
        raise InvalidInput(_("Write an instruction: --instruction or --instruction-file."))
    if not choice.model:
        raise InvalidInput(_("Choose a model: --model, or a default generation model in Settings."))
    if choice.keep_as_rejected and not target.is_answer:
        raise InvalidInput(_("--keep-as-rejected works only with the answer field."))
    if choice.where and choice.only_ids:
        raise InvalidInput(_("Choose the examples by --where or by --only-ids, not both."))
    if choice.where:
        parse_filter(choice.where)
    for name in choice.context:
        if name not in ("reasoning", "slots"):
            FieldRef.parse(name)
    _compiled(choice.instruction)
    return target


def chosen_ids(workspace: Workspace, choice: AugmentChoice) -> list[str]:
    """The examples the job changes: those of `only_ids` (each must be the dataset's), or those the
    filter `where` takes, else all."""
    if choice.where:
        wanted = parse_filter(choice.where)
        matches = DatasetFilterService(workspace.examples).matching(choice.dataset_id, wanted)[0]
        return [e.id for e in matches]
    ids = workspace.examples.ids(choice.dataset_id)
    if not choice.only_ids:
        return ids
    known = set(ids)
    missing = [i for i in choice.only_ids if i not in known]
    if missing:
        raise NotFound(_("Example {example} is not in this dataset.").format(example=clip(missing[0], 40)))
    return list(dict.fromkeys(choice.only_ids))


def augment_plan(workspace: Workspace, choice: AugmentChoice) -> JobPlan:
    """The job's plan. Into a new dataset: the dataset is made and every example copied to it first
    (call this once the user confirmed); the items then work on the copies."""
    target = check(choice)
    ids = chosen_ids(workspace, choice)
    if not ids:
        raise Conflict(
            _("No example matches the filter.") if choice.where else _("The dataset has no examples to augment.")
        )
    dataset_id = choice.dataset_id
    if choice.into:
        dataset_id, ids = _copy_into(workspace, choice.dataset_id, choice.into, ids)
    opened = {e.id: e for e in workspace.examples.open_ids(dataset_id, ids) if isinstance(e, Example)}
    items = []
    for idx, example_id in enumerate(ids):
        inputs = {EXAMPLE_KEY: example_id}
        example = opened.get(example_id)
        if example is not None:
            inputs[BEFORE_KEY] = target.read(example.content)
            inputs[REJECTED_KEY] = json.dumps(example.content.rejected)
        items.append(ItemInputs(idx, inputs, 0))
    if choice.into:
        name = _("Augment {field} of {count} examples into '{into}'").format(
            field=target.label, count=len(ids), into=clip(choice.into, 60)
        )
    else:
        name = _("Augment {field} of {count} examples in place").format(field=target.label, count=len(ids))
    return JobPlan(
        kind=AUGMENT,
        name=clip(name),
        dataset_id=dataset_id,
        template_id=None,
        spec=choice.spec().model_dump(mode="json"),
        params={
            "model": choice.model,
            "count": len(ids),
            "field": target.label,
            "in_place": not choice.into,
            "source_dataset_id": choice.dataset_id,
            **({CONCURRENCY_PARAM: choice.concurrency} if choice.concurrency else {}),
        },
        items=items,
    )


def _copy_into(workspace: Workspace, source_id: int, name: str, ids: list[str]) -> tuple[int, list[str]]:
    """A new dataset with every example of the source, every field copied; the copies' ids of `ids`."""
    created = workspace.datasets.create(name)
    copies: dict[str, str] = {}
    batch: list[Example] = []

    def flush() -> None:
        new_ids = workspace.examples.add_many(created.id, [(e.content, e.meta) for e in batch])
        copies.update(zip((e.id for e in batch), new_ids, strict=True))
        batch.clear()

    for example in workspace.examples.scan(source_id):
        if isinstance(example, BrokenExample):
            continue
        batch.append(example)
        if len(batch) >= COPY_CHUNK:
            flush()
    if batch:
        flush()
    return created.id, [copies[i] for i in ids if i in copies]


@functools.lru_cache(maxsize=32)
def _compiled(source: str) -> Template:
    return compile_source(source)


def request_for(spec: AugmentSpec, content: ExampleContent) -> ChatRequest:
    """What the model is asked for one example; raises TemplateError for an instruction that fails."""
    target = FieldRef.parse(spec.field)
    instruction = render_compiled(_compiled(spec.instruction), augment.template_values(content)).strip()
    message = augment.user_message(
        instruction, target, target.read(content), augment.context_text(content, spec.context), spec.language
    )
    return ChatRequest(
        model=spec.model,
        messages=[ChatMessage(role="system", content=augment.SYSTEM), ChatMessage(role="user", content=message)],
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
    )


async def new_value(client: ModelClient, spec: AugmentSpec, content: ExampleContent) -> str:
    result = await client.complete(request_for(spec, content))
    value = result.content.strip()
    if not value:
        raise AugmentFailed(_("The model gave an empty answer."))
    return value


def changed_content(spec: AugmentSpec, content: ExampleContent, value: str) -> ExampleContent:
    target = FieldRef.parse(spec.field)
    old = target.read(content)
    changed = target.write(content, value)
    if spec.keep_as_rejected and target.is_answer and old:
        changed = changed.model_copy(update={"rejected": [old, *content.rejected]})
    return changed


def _example_of(item: ItemInputs) -> str:
    return item.slots.get(EXAMPLE_KEY, "")


async def _produce(client: ModelClient, spec: AugmentSpec, item: ItemInputs) -> ExampleUpdate:
    example = item.example
    if example is None:
        raise AugmentFailed(
            _("Example {example} was deleted or cannot be read.").format(example=clip(_example_of(item), 40))
        )
    value = await new_value(client, spec, example.content)
    tally = {augment.PROCESSED: 1.0}
    if value == FieldRef.parse(spec.field).read(example.content):
        return ExampleUpdate(example.id, tally=tally | {augment.UNCHANGED: 1})
    content = changed_content(spec, example.content, value)
    return ExampleUpdate(example.id, content=content, tally=tally | {augment.CHANGED: 1})


def _load(stored: dict[str, Any]) -> AugmentSpec:
    return AugmentSpec.model_validate(stored)


AUGMENT_RECIPE: Recipe[AugmentSpec] = Recipe(load=_load, produce=_produce, example_of=_example_of)

job_kinds.register(AUGMENT, AUGMENT_RECIPE)


# --- preview --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreviewRow:
    """One example before and after (or why it failed); nothing is written."""

    example_id: str
    before: str
    after: str
    error: str = ""
    diff: list[tuple[str, str]] = field(default_factory=list)


async def preview(
    client: ModelClient, workspace: Workspace, choice: AugmentChoice, count: int = PREVIEW_COUNT
) -> list[PreviewRow]:
    """The first `count` chosen examples augmented as the job would, without changing anything."""
    target = check(choice)
    spec = choice.spec()
    ids = chosen_ids(workspace, choice)[:count]
    rows = []
    for example in workspace.examples.open_ids(choice.dataset_id, ids):
        if isinstance(example, BrokenExample):
            rows.append(PreviewRow(example.id, "", "", example.reason))
            continue
        before = target.read(example.content)
        try:
            after = await new_value(client, spec, example.content)
        except ForgeError as exc:
            rows.append(PreviewRow(example.id, before, before, clip(str(exc))))
            continue
        rows.append(PreviewRow(example.id, before, after, diff=augment.word_diff(before, after)))
    return rows


async def preview_on_settings(workspace: Workspace, choice: AugmentChoice) -> list[PreviewRow]:
    """`preview` on the model servers of Settings (the TUI's dialog)."""
    from forge_tui.services.endpoint_pool import open_client

    settings = workspace.settings.backend()
    remember = workspace.settings.remember_structured_output
    async with open_client(settings, choice.model, settings.endpoint, remember) as client:
        return await preview(client, workspace, choice)


def start_choice(workspace: Workspace, choice: AugmentChoice) -> JobSummary:
    """Plans the job (into a new dataset: made and filled first) and writes it, on Settings' endpoint."""
    from forge_tui.services.endpoints import with_endpoint

    plan = with_endpoint(augment_plan(workspace, choice), workspace.settings.backend().endpoint)
    return JobService(workspace.home, workspace.unlocked).create(plan)


# --- the end, and undo ----------------------------------------------------------------------------
def ending_line(job: JobSummary) -> str:
    return augment.augment_line(job)


def undo(workspace: Workspace, job_id: int) -> int:
    """Puts back the value every finished item of an augment job replaced (and the rejected answers as
    they were), in one transaction; once per job. Returns how many examples were restored."""
    jobs = JobService(workspace.home, workspace.unlocked)
    summary = jobs.get(job_id)
    if summary.kind != AUGMENT:
        raise Conflict(_("Job {job_id} is a {kind} job, not an augment job.").format(job_id=job_id, kind=summary.kind))
    if summary.status in (JobState.RUNNING, JobState.PLANNED):
        raise Conflict(
            _("Job {job_id} is {status}: pause or cancel it before undoing it.").format(
                job_id=job_id, status=summary.status.value
            )
        )
    spec = AugmentSpec.model_validate(jobs.spec(job_id))
    target = FieldRef.parse(spec.field)
    items = {item.idx: item for item in jobs.items(job_id)}
    dataset_id = summary.dataset_id
    assert dataset_id is not None
    cipher = workspace.examples.cipher(dataset_id)
    restored = 0
    with write_session(workspace.home.engine) as s:
        if job_rows.results(s, job_id).get(augment.UNDONE):
            raise Conflict(_("Job {job_id} was undone already.").format(job_id=job_id))
        conn = s.connection()
        done = conn.exec_driver_sql(
            "SELECT idx FROM job_item WHERE job_id = ? AND status = 'done'", (job_id,)
        ).fetchall()
        for (idx,) in done:
            item = items.get(int(idx))
            if item is None or BEFORE_KEY not in item.slots:
                continue
            row = example_rows.get(s, item.slots[EXAMPLE_KEY])
            if row is None:
                continue
            example = example_rows.open_row(cipher, row)
            content = _restored(target, example.content, item.slots)
            if content != example.content:
                example_rows.replace_content(s, cipher, example.id, content)
                restored += 1
        job_rows.add_results(s, job_id, {augment.UNDONE: 1})
    return restored


def _restored(target: FieldRef, content: ExampleContent, inputs: dict[str, str]) -> ExampleContent:
    before = inputs[BEFORE_KEY]
    if target.kind == "new" and not before:
        restored = content.model_copy(update={"extra": {k: v for k, v in content.extra.items() if k != target.name}})
    else:
        restored = target.write(content, before)
    if REJECTED_KEY in inputs:
        restored = restored.model_copy(update={"rejected": json.loads(inputs[REJECTED_KEY])})
    return restored


__all__ = [
    "AUGMENT",
    "AugmentChoice",
    "AugmentSpec",
    "PreviewRow",
    "augment_plan",
    "check",
    "choice_of_form",
    "chosen_ids",
    "default_into",
    "ending_line",
    "preview",
    "undo",
]
