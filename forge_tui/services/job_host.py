"""Generation jobs as the TUI runs them: a spec turned into a plan (with its preview), and the running
jobs held as asyncio tasks on the caller's loop, so that they outlive the screen that started them.

Progress is kept, not pushed: the runner's callback stores the latest summary and bumps `version`;
a view repaints on its own timer when the version moved (the event loop never waits on a repaint).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.generation import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_TURNS,
    ExampleKind,
    GenerationSpec,
    PlannedItem,
    SlotSource,
    SourceType,
    plan_items,
    slot_spread,
)
from forge_tui.core.jobs import JobSummary
from forge_tui.core.prompt_render import render_prompts
from forge_tui.core.templates import TemplateError, TemplateInfo
from forge_tui.services import job_kinds
from forge_tui.services.backends import BackendService
from forge_tui.services.generation import generate_item
from forge_tui.services.jobs import ItemInputs, JobPlan, JobService, Recipe
from forge_tui.services.settings import SettingsService
from forge_tui.services.slot_values import values_from_file

GENERATE = "generate"
PREVIEW_PROMPTS = 5


async def _produce(backend: BackendService, spec: GenerationSpec, item: ItemInputs) -> Any:
    return await generate_item(backend, spec, PlannedItem(idx=item.idx, slots=item.slots, seed=item.seed))


GENERATION_RECIPE: Recipe[GenerationSpec] = Recipe(load=GenerationSpec.model_validate, produce=_produce)


# The CLI's `jobs resume` finds it here too (services.job_kinds), for jobs the TUI made.
job_kinds.register(GENERATE, GENERATION_RECIPE)


@dataclass
class JobForm:
    """A new generation job as typed in a form: every field a string, kept as typed when it is refused."""

    template_id: int | None
    dataset_id: int
    count: str = "100"
    kind: str = ExampleKind.SINGLE.value
    language: str = ""
    model: str = ""
    paraphrase_model: str = ""
    second_model: str = ""
    temperature: str = "0.8"
    second_temperature: str = ""
    max_tokens: str = str(DEFAULT_MAX_TOKENS)
    seed: str = ""
    turns: str = str(DEFAULT_TURNS)
    sources: str = ""  # "tone=weighted; topic=file:topics.txt; a+b=combinations"


def default_sources(template: TemplateInfo) -> str:
    """Slots that have a weighted value list draw from it; the others take their default."""
    return "; ".join(f"{s.name}=weighted" for s in template.slots if s.values and s.name in template.used_slots())


def parse_sources(text: str) -> tuple[dict[str, SlotSource], dict[str, str]]:
    """The slot sources of `text` and the files to read for them (slot -> path)."""
    sources: dict[str, SlotSource] = {}
    files: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(";")):
        if not entry:
            continue
        names, sep, how = (part.strip() for part in entry.partition("="))
        slots = [n.strip() for n in names.split("+") if n.strip()]
        if not sep or not slots:
            raise InvalidInput(f"'{clip(entry)}' is not slot=default, weighted, combinations or file:PATH.")
        if how.startswith("file:") and len(slots) == 1 and how[5:].strip():
            files[slots[0]] = how[5:].strip()
        elif how == SourceType.COMBINATIONS.value:
            sources[slots[0]] = SlotSource(type=SourceType.COMBINATIONS, slots=slots)
        elif how in (SourceType.DEFAULT.value, SourceType.WEIGHTED.value) and len(slots) == 1:
            sources[slots[0]] = SlotSource(type=SourceType(how))
        else:
            raise InvalidInput(f"'{clip(entry)}' is not slot=default, weighted, combinations or file:PATH.")
    return sources, files


def spec_from_form(form: JobForm, template: TemplateInfo) -> GenerationSpec:
    """The spec the form describes, its files read; InvalidInput names the first field that is wrong."""
    sources, files = parse_sources(form.sources)
    fields: dict[str, Any] = {
        "template": template,
        "dataset_id": form.dataset_id,
        "count": _number(form.count, "Count", int),
        "kind": _choice(form.kind),
        "language": form.language.strip() or None,
        "model": form.model.strip(),
        "paraphrase_model": form.paraphrase_model.strip() or None,
        "second_model": form.second_model.strip() or None,
        "temperature": _number(form.temperature, "Temperature", float),
        "max_tokens": _number(form.max_tokens, "Max tokens", int),
        "turns": _number(form.turns, "Turns", int),
        "sources": sources,
    }
    if form.second_temperature.strip():
        fields["second_temperature"] = _number(form.second_temperature, "Second temperature", float)
    if form.seed.strip():
        fields["seed"] = _number(form.seed, "Seed", int)
    try:
        spec = GenerationSpec(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the job"
        raise InvalidInput(f"{clip(where.replace('_', ' ').capitalize())}: {clip(first['msg'])}.") from None
    return with_files(spec, files).check()


def _number(text: str, label: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise InvalidInput(f"{label} must be a number, not '{clip(text, 40)}'.") from None


def _choice(text: str) -> ExampleKind:
    try:
        return ExampleKind(text)
    except ValueError:
        raise InvalidInput(f"'{clip(text, 40)}' is not a kind of example.") from None


def with_files(spec: GenerationSpec, files: Mapping[str, str]) -> GenerationSpec:
    """The spec with each slot named in `files` taking its values from that file (one value a line,
    or the slot's column or field of a table or JSON records)."""
    sources = dict(spec.sources)
    for slot, path in files.items():
        found = values_from_file(Path(path).expanduser(), None if path.endswith((".txt", ".text")) else slot)
        sources[slot] = SlotSource.of_values(found.values, found.origin)
    return spec.model_copy(update={"sources": sources})


def generation_plan(spec: GenerationSpec) -> JobPlan:
    """Every item planned, the spread of slot values and the first few prompts rendered."""
    items = plan_items(spec)
    prompts = []
    for item in items[:PREVIEW_PROMPTS]:
        try:
            prompts.append(render_prompts(spec.template, item.slots).user_prompt)
        except TemplateError as exc:
            raise InvalidInput(f"Item {item.idx + 1} cannot be rendered: {exc}") from None
    return JobPlan(
        kind=GENERATE,
        name=f"{spec.count} × {spec.template.name}",
        dataset_id=spec.dataset_id,
        template_id=spec.template.id,
        spec=spec.model_dump(mode="json"),
        params={"model": spec.model, "count": spec.count, "kind": spec.kind.value},
        items=[ItemInputs(i.idx, i.slots, i.seed) for i in items],
        spread=slot_spread(items),
        prompts=prompts,
    )


class JobHost:
    """The jobs this process runs, each an asyncio task on the loop that started it."""

    def __init__(self, jobs: JobService, settings: SettingsService) -> None:
        self.jobs = jobs
        self.settings = settings
        self.latest: dict[int, JobSummary] = {}
        self.version = 0
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self.on_ended: Callable[[JobSummary | None, str | None], None] | None = None

    def running(self, job_id: int) -> bool:
        task = self._tasks.get(job_id)
        return task is not None and not task.done()

    def start(self, job_id: int) -> None:
        """Runs (or resumes) the job; a job running here already is left alone."""
        if self.running(job_id):
            return
        self._tasks[job_id] = asyncio.create_task(self._run(job_id), name=f"job-{job_id}")

    async def _run(self, job_id: int) -> None:
        ended: JobSummary | None = None
        problem: str | None = None
        try:
            recipe = job_kinds.recipe_for(self.jobs.get(job_id).kind)
            settings = self.settings.backend()
            async with BackendService(settings, remember=self.settings.remember_structured_output) as backend:
                ended = await self.jobs.run(job_id, backend, recipe, on_progress=self._progress)
        except ForgeError as exc:
            problem = str(exc)
        finally:
            self.latest.pop(job_id, None)
            self.version += 1
        if self.on_ended is not None:
            self.on_ended(ended, problem)

    def _progress(self, summary: JobSummary) -> None:
        self.latest[summary.id] = summary
        self.version += 1

    async def stop_all(self) -> None:
        """Stops every job run here; their finished items are kept and they can be resumed."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ForgeError):
                await task
        self._tasks.clear()
