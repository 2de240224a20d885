"""Generation jobs planned from what a person typed (the TUI's form or the CLI's flags, one grammar):
the spec, its slot sources read from files and datasets, the plan with its preview, and the recipe
that makes each item.

Slot sources, `;`-separated in the form and one per `--slot` on the command line:
`slot=default`, `slot=weighted`, `a+b=combinations`, `slot=file:PATH[#COLUMN]`,
`slot=dataset:NAME#FIELD`, `slot=tree:PATH` (the leaves of a topic tree written as an indented
list), `slot=values:a|b|c` and `slot=docs:SET` (a document set's passages; `source` gets the document's
name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from forge_tui.core.bounded_text import clip
from forge_tui.core.documents import Passage
from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import (
    DEFAULT_MAX_TOKENS,
    DEFAULT_RUBRIC,
    DEFAULT_THRESHOLD,
    DEFAULT_TURNS,
    ExampleKind,
    GenerationSpec,
    PlannedItem,
    SlotSource,
    SourceType,
    plan_items,
    slot_spread,
)
from forge_tui.core.prompt_render import render_prompts
from forge_tui.core.templates import TemplateError, TemplateInfo
from forge_tui.core.topic_tree import leaves, parse_tree, topic_source
from forge_tui.i18n import N_, _
from forge_tui.services import job_kinds, readable_files, until_n
from forge_tui.services.generation import generate_item
from forge_tui.services.job_runner import RunContext
from forge_tui.services.jobs import ItemInputs, JobPlan, Recipe
from forge_tui.services.model_client import ModelClient
from forge_tui.services.slot_values import SlotValues, values_from_dataset, values_from_file

if TYPE_CHECKING:
    from forge_tui.services.datasets import DatasetService
    from forge_tui.services.examples import ExampleService

GENERATE = "generate"
PREVIEW_PROMPTS = 5
SOURCE_GRAMMAR = (
    "slot=default, weighted, combinations, file:PATH[#COLUMN], dataset:NAME#FIELD, tree:PATH, values:a|b|c or docs:SET"
)

# (dataset name, field) -> that field's values in the dataset
DatasetValues = Callable[[str, str], SlotValues]
# document set name -> its passages
DocumentPassages = Callable[[str], list[Passage]]


# A job with a target ("until N pass") runs as a TargetRun: services/until_n.py.
Loaded = GenerationSpec | until_n.TargetRun


def _load(data: dict[str, Any]) -> Loaded:
    spec = GenerationSpec.model_validate(data)
    inline = spec.judge is not None or spec.dedup_threshold is not None
    return until_n.start(spec) if spec.target_accepted is not None or inline else spec


async def _produce(backend: ModelClient, loaded: Loaded, item: ItemInputs) -> Any:
    if isinstance(loaded, until_n.TargetRun):
        return await until_n.produce(backend, loaded, item)
    return await generate_item(backend, loaded, PlannedItem(idx=item.idx, slots=item.slots, seed=item.seed))


def _prepare(loaded: Loaded, context: RunContext) -> None:
    if isinstance(loaded, until_n.TargetRun):
        until_n.prepare(loaded, context)


def _target_met(loaded: Loaded, context: RunContext) -> bool:
    return isinstance(loaded, until_n.TargetRun) and until_n.target_met(loaded, context)


def _shortfall(loaded: Loaded, context: RunContext) -> str | None:
    return until_n.shortfall(loaded, context) if isinstance(loaded, until_n.TargetRun) else None


GENERATION_RECIPE: Recipe[Loaded] = Recipe(
    load=_load, produce=_produce, prepare=_prepare, target_met=_target_met, shortfall=_shortfall
)

# The CLI's `jobs resume` and the TUI find it by the job's kind, whichever of them made the job.
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
    endpoint: str = ""  # an endpoint's name; "" or "pool": the pool (kept in the job's params)
    # "Until N pass" (blank: make `count` examples): the target, the judge and dedup that decide
    # what passes, quotas held among the passing, and the attempts cap (blank: 3 x the target).
    until_pass: str = ""
    judge_rubric: str = DEFAULT_RUBRIC
    judge_model: str = ""
    threshold: str = str(DEFAULT_THRESHOLD)
    dedup: str = ""
    quotas: bool = False
    max_attempts: str = ""


@dataclass(frozen=True)
class ValuesRef:
    """A slot's values still to be read: a file (with a column or field), a topic tree's file or a
    dataset's field."""

    origin: str  # "file", "tree", "dataset" or "docs"
    where: str  # the path or the dataset's name
    column: str | None


def dataset_values(datasets: DatasetService, examples: ExampleService) -> DatasetValues:
    """Reads a slot's values from a field of one of the account's datasets, found by name."""

    def read(name: str, field_name: str) -> SlotValues:
        found = datasets.get(name)
        return values_from_dataset(examples, found.id, found.name, field_name)

    return read


def default_sources(template: TemplateInfo) -> str:
    """Slots that have a weighted value list draw from it; the others take their default."""
    return "; ".join(f"{s.name}=weighted" for s in template.slots if s.values and s.name in template.used_slots())


def parse_sources(text: str) -> tuple[dict[str, SlotSource], dict[str, ValuesRef]]:
    """The slot sources of `text` (entries separated by `;`) and the values still to read (slot -> where)."""
    return parse_source_entries(text.split(";"))


def parse_source_entries(entries: list[str]) -> tuple[dict[str, SlotSource], dict[str, ValuesRef]]:
    """The slot sources of `entries` (one `slot=SOURCE` each) and the values still to read."""
    sources: dict[str, SlotSource] = {}
    refs: dict[str, ValuesRef] = {}
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        names, sep, how = (part.strip() for part in entry.partition("="))
        slots = [n.strip() for n in names.split("+") if n.strip()]
        refused = InvalidInput(_("'{entry}' is not {grammar}.").format(entry=clip(entry), grammar=SOURCE_GRAMMAR))
        if not sep or not slots:
            raise refused
        prefix, colon, rest = how.partition(":")
        if how == SourceType.COMBINATIONS.value:
            sources[slots[0]] = SlotSource(type=SourceType.COMBINATIONS, slots=slots)
        elif len(slots) != 1:
            raise refused
        elif how in (SourceType.DEFAULT.value, SourceType.WEIGHTED.value):
            sources[slots[0]] = SlotSource(type=SourceType(how))
        elif colon and prefix == "values":
            values = [v.strip() for v in rest.split("|") if v.strip()]
            if not values:
                raise refused
            sources[slots[0]] = SlotSource.of_values(values, "the command line")
        elif colon and prefix in ("file", "dataset"):
            where, _sep, column = (p.strip() for p in rest.rpartition("#")) if "#" in rest else (rest.strip(), "", "")
            if not where or (prefix == "dataset" and not column):
                raise refused
            refs[slots[0]] = ValuesRef(prefix, where, column or None)
        elif colon and prefix in ("tree", "docs") and rest.strip():
            refs[slots[0]] = ValuesRef(prefix, rest.strip(), None)
        else:
            raise refused
    return sources, refs


def with_values_source(text: str, slot: str, values: list[str]) -> str:
    """`text` (the form's slot sources) with `slot` drawing from `values` in place of its own entry.
    A value's `|` and `;` would split it, so they become `/` and `,`."""
    kept = [e.strip() for e in text.split(";") if e.strip() and e.partition("=")[0].strip() != slot]
    listed = "|".join(" ".join(v.replace("|", "/").replace(";", ",").split()) for v in values)
    return "; ".join([*kept, f"{slot}=values:{listed}"])


def typed_values(text: str, slot: str) -> list[str]:
    """The values typed for `slot` as `slot=values:a|b` in `text`; none when there are none or the text
    does not parse."""
    try:
        sources = parse_sources(text)[0]
    except InvalidInput:
        return []
    found = sources.get(slot)
    return list(found.values) if found is not None and found.type is SourceType.VALUES else []


def spec_from_form(
    form: JobForm,
    template: TemplateInfo,
    datasets: DatasetValues | None = None,
    documents: DocumentPassages | None = None,
) -> GenerationSpec:
    """The spec the form describes, its files, datasets and document sets read; InvalidInput names
    the first field that is wrong."""
    sources, refs = parse_sources(form.sources)
    return spec_from_fields(form, template, sources, refs, datasets, documents)


def spec_from_fields(
    form: JobForm,
    template: TemplateInfo,
    sources: dict[str, SlotSource],
    refs: Mapping[str, ValuesRef],
    datasets: DatasetValues | None = None,
    documents: DocumentPassages | None = None,
) -> GenerationSpec:
    fields: dict[str, Any] = {
        "template": template,
        "dataset_id": form.dataset_id,
        "count": _number(form.count, N_("Count"), int),
        "kind": _choice(form.kind),
        "language": form.language.strip() or None,
        "model": form.model.strip(),
        "paraphrase_model": form.paraphrase_model.strip() or None,
        "second_model": form.second_model.strip() or None,
        "temperature": _number(form.temperature, N_("Temperature"), float),
        "max_tokens": _number(form.max_tokens, N_("Max tokens"), int),
        "turns": _number(form.turns, N_("Turns"), int),
        "sources": sources,
    }
    if form.second_temperature.strip():
        fields["second_temperature"] = _number(form.second_temperature, N_("Second temperature"), float)
    if form.seed.strip():
        fields["seed"] = _number(form.seed, N_("Seed"), int)
    fields.update(target_fields(form))
    try:
        spec = GenerationSpec(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the job"
        raise InvalidInput(f"{clip(where.replace('_', ' ').capitalize())}: {clip(first['msg'])}.") from None
    return with_values(spec, refs, datasets, documents).check()


def target_fields(form: JobForm) -> dict[str, Any]:
    """The spec's "until N pass" fields from the form. Without a judge model the examples pass on
    dedup alone; a judge model (or dedup) without a target judges each example as it is made
    (inline), storing its score and rejecting the ones that do not pass."""
    fields: dict[str, Any] = {}
    if form.until_pass.strip():
        target = _number(form.until_pass, N_("Until N pass"), int)
        fields |= {"target_accepted": target, "count": target, "quotas": form.quotas}
    if form.judge_model.strip():
        fields["judge"] = {
            "rubric": form.judge_rubric.strip() or DEFAULT_RUBRIC,
            "model": form.judge_model.strip(),
            "threshold": _number(form.threshold, N_("Threshold"), float),
        }
    if form.dedup.strip():
        fields["dedup_threshold"] = _number(form.dedup, N_("Dedup"), float)
    if form.max_attempts.strip() and form.until_pass.strip():
        fields["max_attempts"] = _number(form.max_attempts, N_("Max attempts"), int)
    return fields


def _number(text: str, label: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise InvalidInput(
            _("{label} must be a number, not '{text}'.").format(label=_(label), text=clip(text, 40))
        ) from None


def _choice(text: str) -> ExampleKind:
    try:
        return ExampleKind(text.strip().replace("-", "_"))
    except ValueError:
        raise InvalidInput(_("'{text}' is not a kind of example.").format(text=clip(text, 40))) from None


def with_values(
    spec: GenerationSpec,
    refs: Mapping[str, ValuesRef],
    datasets: DatasetValues | None = None,
    documents: DocumentPassages | None = None,
) -> GenerationSpec:
    """The spec with each slot named in `refs` taking its values from that file (one value a line, or
    the column or field given, else the slot's), that dataset's field or that document set's passages."""
    sources = dict(spec.sources)
    for slot, ref in refs.items():
        if ref.origin == "docs":
            if documents is None:
                raise InvalidInput(_("Passages of a document set cannot be read here."))
            passages = documents(ref.where)
            sources[slot] = SlotSource(
                type=SourceType.PASSAGES, passages=passages, origin=f"document set {clip(ref.where)}"
            )
            continue
        if ref.origin == "dataset":
            if datasets is None:
                raise InvalidInput(_("Slot values from a dataset cannot be read here."))
            found = datasets(ref.where, ref.column or slot)
        elif ref.origin == "tree":
            sources[slot] = tree_values(Path(ref.where).expanduser())
            continue
        else:
            path = Path(ref.where).expanduser()
            column = ref.column or (None if path.suffix in (".txt", ".text") else slot)
            found = values_from_file(path, column)
        sources[slot] = found.source()
    return spec.model_copy(update={"sources": sources})


def tree_values(path: Path) -> SlotSource:
    """The leaves of the topic tree in `path` (an indented list, one topic a line) as a slot's values."""
    roots = parse_tree(readable_files.read_text(path))
    if not leaves(roots):
        raise InvalidInput(
            _("{name} holds no topics: write one topic a line, subtopics indented.").format(name=clip(path.name))
        )
    return topic_source(roots)


def generation_plan(spec: GenerationSpec) -> JobPlan:
    """Every item planned, the spread of slot values and the first few prompts rendered."""
    items = plan_items(spec)
    prompts = []
    for item in items[:PREVIEW_PROMPTS]:
        try:
            prompts.append(render_prompts(spec.template, item.slots).user_prompt)
        except TemplateError as exc:
            raise InvalidInput(
                _("Item {item} cannot be rendered: {problem}").format(item=item.idx + 1, problem=exc)
            ) from None
    params: dict[str, Any] = {"model": spec.model, "count": spec.count, "kind": spec.kind.value}
    name = f"{spec.count} × {spec.template.name}"
    if spec.target_accepted is not None:
        name = _("until {target} pass × {template}").format(target=spec.target_accepted, template=spec.template.name)
        params.update(target=spec.target_accepted, attempts=spec.planned_count)
    return JobPlan(
        kind=GENERATE,
        name=name,
        dataset_id=spec.dataset_id,
        template_id=spec.template.id,
        spec=spec.model_dump(mode="json"),
        params=params,
        items=[ItemInputs(i.idx, i.slots, i.seed) for i in items],
        spread=slot_spread(items),
        prompts=prompts,
    )
