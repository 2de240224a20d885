"""A generation job's spec and its plan: which slot values each item gets, and its seed (no I/O).

The plan is pure and deterministic for the spec's seed. A weighted value list is realised exactly in
proportion to its weights (largest remainder: weights 1 and 2 over 300 items give 100 and 200), an
explicit list of values evenly, several slots' lists in combination as their cartesian product
(cycled when there are more items than combinations); each slot's values are then shuffled with a
generator seeded by the job's seed and the slot's name, so slots do not move in step.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from pydantic import BaseModel, Field, model_validator

from forge_tui.core.batch_defaults import DEFAULT_TEMPERATURE
from forge_tui.core.bounded_text import clip
from forge_tui.core.documents import SOURCE_SLOT, Passage
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.language import check_supported
from forge_tui.core.templates import SlotDef, TemplateInfo
from forge_tui.i18n import _

MAX_ITEMS = 1_000_000
MAX_TURNS = 50
MAX_SEED = 2**31 - 1
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TURNS = 3
# "Until N pass": attempts planned per target example when no cap is given.
DEFAULT_ATTEMPTS_PER_TARGET = 3
DEFAULT_RUBRIC = "overall"
DEFAULT_THRESHOLD = 7.0


class ItemFailed(ForgeError):
    """One item of a job could not be made; the reason is recorded with the item and the job goes on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExampleKind(StrEnum):
    SINGLE = "single"
    MULTI_TURN = "multi_turn"
    PREFERENCE = "preference"
    PRETRAINING = "pretraining"
    TOOL_CALLING = "tool_calling"


class SourceType(StrEnum):
    DEFAULT = "default"  # the slot's default, for every item
    WEIGHTED = "weighted"  # the slot's weighted value list, in proportion to the weights
    COMBINATIONS = "combinations"  # the cartesian product of the value lists of `slots`
    VALUES = "values"  # `values`, evenly (read from a file, a dataset's field or a topic tree's leaves)
    # `passages` (a document set's chunks), evenly: the slot gets a passage's text and the slot named in
    # `slots` (else "source") its document's name
    PASSAGES = "passages"


class SlotSource(BaseModel):
    """Where one slot's values come from, discriminated on `type`."""

    type: SourceType = SourceType.DEFAULT
    slots: list[str] = Field(default_factory=list)  # combinations: the slots planned together
    values: list[str] = Field(default_factory=list)  # values: the list to draw from
    origin: str = ""  # values: where they came from, for the plan's preview ("file topics.txt")
    passages: list[Passage] = Field(default_factory=list)  # passages: the chunks to draw from

    @model_validator(mode="after")
    def _fits_type(self) -> SlotSource:
        if self.type is SourceType.VALUES and not self.values:
            raise ValueError(_("a 'values' source needs at least one value"))
        if self.type is SourceType.PASSAGES and not self.passages:
            raise ValueError(_("a 'passages' source needs at least one passage"))
        return self

    @property
    def source_slot(self) -> str:
        """passages: the slot that gets the passage's document name."""
        return self.slots[0] if self.slots else SOURCE_SLOT

    def passage_of(self, slots: dict[str, str], name: str) -> Passage | None:
        """passages: the passage an item's `slots` hold in slot `name`, or None."""
        text, document = slots.get(name), slots.get(self.source_slot)
        return next((p for p in self.passages if p.text == text and document in (None, p.document)), None)

    @classmethod
    def of_values(cls, values: Iterable[str], origin: str = "") -> SlotSource:
        return cls(type=SourceType.VALUES, values=list(values), origin=origin)


class JudgeSettings(BaseModel):
    """The judge of an "until N pass" job: an example passes at `threshold` or above."""

    rubric: str = DEFAULT_RUBRIC
    model: str
    threshold: float = Field(default=DEFAULT_THRESHOLD, ge=1, le=10)
    # An endpoint's name. Not routed yet: the judge asks the job's client (a pool finds the model).
    endpoint: str | None = None


class GenerationSpec(BaseModel):
    """Everything a generation job needs to plan and make its items."""

    template: TemplateInfo
    count: int = Field(ge=1, le=MAX_ITEMS)
    dataset_id: int
    model: str
    paraphrase_model: str | None = None
    second_model: str | None = None  # preference: the second answer's model (else the first's)
    temperature: float = Field(default=DEFAULT_TEMPERATURE, ge=0, le=2)
    second_temperature: float | None = Field(default=None, ge=0, le=2)  # preference
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, ge=1, le=1_000_000)
    seed: int = Field(default_factory=lambda: random.randrange(MAX_SEED), ge=0)
    sources: dict[str, SlotSource] = Field(default_factory=dict)  # slot name -> source; missing: default
    kind: ExampleKind = ExampleKind.SINGLE
    turns: int = Field(default=DEFAULT_TURNS, ge=1, le=MAX_TURNS)  # multi_turn: user messages per example
    language: str | None = None  # "en", "zh-TW" or a language by name; None: no instruction
    # "Until N pass": the job makes up to `max_attempts` examples (the plan) and stops once
    # `target_accepted` of them passed the judge and dedup; `count` is then the target.
    target_accepted: int | None = Field(default=None, ge=1, le=MAX_ITEMS)
    judge: JudgeSettings | None = None
    dedup_threshold: float | None = Field(default=None, gt=0, le=1)
    quotas: bool = False  # hold the weights of weighted slots among the passing examples
    max_attempts: int = Field(default=0, ge=0, le=MAX_ITEMS)  # 0: DEFAULT_ATTEMPTS_PER_TARGET x the target

    @property
    def planned_count(self) -> int:
        """Items planned: the attempts cap in "until N pass" mode, else `count`."""
        if self.target_accepted is None:
            return self.count
        return min(MAX_ITEMS, self.max_attempts or DEFAULT_ATTEMPTS_PER_TARGET * self.target_accepted)

    def check(self) -> GenerationSpec:
        """Raises InvalidInput when the spec does not fit its template or its kind."""
        if not self.model.strip():
            raise InvalidInput(_("No generation model chosen: pick one in Settings or pass --model."))
        if self.kind is ExampleKind.TOOL_CALLING and not (self.template.is_tool_calling and self.template.tools):
            raise InvalidInput(
                _("Template '{name}' has no tools: a tool-calling job needs one.").format(name=clip(self.template.name))
            )
        if self.kind is ExampleKind.PREFERENCE and not self.second_model and self.second_temperature is None:
            raise InvalidInput(_("A preference job needs a second model or a second temperature."))
        check_supported(self.language)
        if self.target_accepted is not None:
            if self.judge is None and self.dedup_threshold is None:
                raise InvalidInput(_("Keep generating until N pass needs a judge or a dedup threshold to pass."))
            if self.planned_count < self.target_accepted:
                raise InvalidInput(
                    _("Max attempts ({attempts}) must be at least the target ({target}).").format(
                        attempts=self.planned_count, target=self.target_accepted
                    )
                )
        defined = {s.name for s in self.template.slots}
        used = set(self.template.used_slots())
        for name, source in self.sources.items():
            if name not in defined and name not in used:
                raise InvalidInput(_("The template has no slot '{name}' to take values for.").format(name=clip(name)))
            for member in source.slots:
                if member not in defined and member not in used:
                    raise InvalidInput(_("The template has no slot '{name}' to combine.").format(name=clip(member)))
        return self


class PlannedItem(BaseModel):
    idx: int
    slots: dict[str, str]
    seed: int


def plan_items(spec: GenerationSpec) -> list[PlannedItem]:
    """Every item's slot values and seed; the same spec (seed included) gives the same plan."""
    spec.check()
    n = spec.planned_count
    columns: dict[str, list[str]] = {}
    for group in _combination_groups(spec):
        for name, values in zip(group, _combined(spec, group), strict=True):
            columns[name] = values
    for name, source in spec.sources.items():
        if source.type is SourceType.PASSAGES:
            drawn = [source.passages[int(i)] for i in _weighted(spec.seed, name, _evenly(len(source.passages)), n)]
            columns[name] = [p.text for p in drawn]
            if source.source_slot not in spec.sources:
                columns[source.source_slot] = [p.document for p in drawn]
    for name in spec.template.used_slots():
        if name in columns:
            continue
        source = spec.sources.get(name, SlotSource())
        slot = spec.template.slot(name)
        if source.type is SourceType.WEIGHTED:
            columns[name] = _weighted(spec.seed, name, _weighted_list(slot, name), n)
        elif source.type is SourceType.VALUES:
            columns[name] = _weighted(spec.seed, name, [(v, Fraction(1)) for v in source.values], n)
        else:
            columns[name] = [_default(slot, name)] * n
    seeds = random.Random(f"{spec.seed}:item-seeds")
    return [
        PlannedItem(idx=i, slots={name: values[i] for name, values in columns.items()}, seed=seeds.randrange(MAX_SEED))
        for i in range(n)
    ]


def _evenly(count: int) -> list[tuple[str, Fraction]]:
    return [(str(i), Fraction(1)) for i in range(count)]


def slot_spread(items: Iterable[PlannedItem]) -> dict[str, Counter[str]]:
    """How often each slot takes each value, for the plan's preview."""
    spread: dict[str, Counter[str]] = {}
    for item in items:
        for name, value in item.slots.items():
            spread.setdefault(name, Counter())[value] += 1
    return spread


def _default(slot: SlotDef | None, name: str) -> str:
    if slot is None:
        raise InvalidInput(
            _("Slot '{name}' is used in the prompt but not defined: give it a default or values.").format(
                name=clip(name)
            )
        )
    return slot.default


def _weighted_list(slot: SlotDef | None, name: str) -> list[tuple[str, Fraction]]:
    pairs = [(v.value, Fraction(v.weight)) for v in slot.values] if slot is not None else []
    if not any(weight > 0 for _, weight in pairs):
        raise InvalidInput(
            _("Slot '{name}' has no weighted values to draw from: add some on Templates.").format(name=clip(name))
        )
    return pairs


def _weighted(seed: int, name: str, pairs: Sequence[tuple[str, Fraction]], n: int) -> list[str]:
    """`n` values, each as often as its weight's exact share (largest remainder), in a seeded order.
    Ties between remainders go to a seeded draw, so no value is favoured by its place in the list."""
    rng = random.Random(f"{seed}:{name}")
    counts = _shares(rng, pairs, n)
    drawn = [value for (value, _), count in zip(pairs, counts, strict=True) for _ in range(count)]
    rng.shuffle(drawn)
    return drawn


def _shares(rng: random.Random, pairs: Sequence[tuple[str, Fraction]], n: int) -> list[int]:
    total = sum(weight for _, weight in pairs)
    quotas = [weight * n / total for _, weight in pairs]
    counts = [math.floor(q) for q in quotas]
    tie_break = list(range(len(pairs)))
    rng.shuffle(tie_break)
    order = sorted(range(len(pairs)), key=lambda i: (-(quotas[i] - counts[i]), tie_break[i]))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return counts


def quota_shares(spec: GenerationSpec) -> dict[str, dict[str, int]]:
    """Per weighted slot (its value list, or a `values` source), each value's share of the target,
    as the plan would realise it over `target_accepted` items; empty without quotas or a target."""
    return target_shares(spec) if spec.quotas else {}


@dataclass(frozen=True)
class Coverage:
    """One slot value of an "until N pass" job: how many passed, and its share of the target."""

    slot: str
    value: str
    passed: int
    target: int


def coverage(spec: GenerationSpec, passed_slots: Iterable[dict[str, str]]) -> list[Coverage]:
    """Per weighted slot value, the passing examples against its share of the target (the Jobs
    screen's coverage table); empty for a job without a target."""
    shares = target_shares(spec)
    counted: dict[str, Counter[str]] = {name: Counter() for name in shares}
    for slots in passed_slots:
        for name in shares:
            counted[name][slots.get(name, "")] += 1
    return [
        Coverage(name, value, counted[name][value], target)
        for name, values in shares.items()
        for value, target in values.items()
    ]


def target_shares(spec: GenerationSpec) -> dict[str, dict[str, int]]:
    """Each weighted slot value's share of the target; empty for a job without a target."""
    if spec.target_accepted is None:
        return {}
    shares: dict[str, dict[str, int]] = {}
    for name in spec.template.used_slots():
        source = spec.sources.get(name, SlotSource())
        if source.type is SourceType.WEIGHTED:
            pairs = _weighted_list(spec.template.slot(name), name)
        elif source.type is SourceType.VALUES:
            pairs = [(v, Fraction(1)) for v in dict.fromkeys(source.values)]
        else:
            continue
        counts = _shares(random.Random(f"{spec.seed}:{name}"), pairs, spec.target_accepted)
        shares[name] = {value: count for (value, _), count in zip(pairs, counts, strict=True)}
    return shares


def _combination_groups(spec: GenerationSpec) -> list[list[str]]:
    """The slots planned together, one list per combinations source (its own slot first)."""
    groups: list[list[str]] = []
    taken: set[str] = set()
    for name, source in spec.sources.items():
        if source.type is not SourceType.COMBINATIONS:
            continue
        group = list(dict.fromkeys([name, *source.slots]))
        if set(group) <= taken and any(set(group) == set(g) for g in groups):
            continue  # the same group named from each of its slots
        clash = next((member for member in group if member in taken), None)
        if clash is not None:
            raise InvalidInput(_("Slot '{name}' is in two different combinations.").format(name=clip(clash)))
        taken.update(group)
        groups.append(group)
    return groups


def _value_list(spec: GenerationSpec, name: str) -> list[str]:
    """A combined slot's values: its own `values` source, else its value list, else its default."""
    source = spec.sources.get(name)
    if source is not None and source.type is SourceType.VALUES:
        return list(dict.fromkeys(source.values))
    slot = spec.template.slot(name)
    listed = list(dict.fromkeys(v.value for v in slot.values)) if slot is not None else []
    return listed or [_default(slot, name)]


def _combined(spec: GenerationSpec, group: list[str]) -> list[list[str]]:
    """One column per slot of the group: every combination as often as the others (give or take
    one), a seeded subset of them when there are fewer items than combinations."""
    lists = [_value_list(spec, name) for name in group]
    size = math.prod(len(values) for values in lists)
    n = spec.planned_count
    rng = random.Random(f"{spec.seed}:combinations:{','.join(group)}")
    picks = [i for _ in range(n // size) for i in range(size)] + rng.sample(range(size), n % size)
    rng.shuffle(picks)
    columns: list[list[str]] = [[] for _ in group]
    for pick in picks:
        for position, values in reversed(list(enumerate(lists))):
            pick, index = divmod(pick, len(values))
            columns[position].append(values[index])
    return columns


def combination_count(spec: GenerationSpec, group: Sequence[str]) -> int:
    """How many combinations a group of slots has (for the plan's preview)."""
    return math.prod(len(_value_list(spec, name)) for name in group)


TOPIC_TEMPLATE = TemplateInfo(
    name="Topic",
    system_prompt="You are a knowledgeable assistant. Answer accurately and clearly.",
    user_prompt="Explain {{ topic }}: what it is, why it matters, and one concrete example.",
    slots=[SlotDef(name="topic", description="a subject to write about")],
)
