"""Which examples a sample or a split takes: exact sizes by largest remainder, seeded.

Pure: ids in, ids out. The same ids, strata and seed always give the same choice.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput
from forge_tui.core.models import Example
from forge_tui.i18n import N_, _

SPLIT_PARTS = ("train", "valid", "test")


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """`total` shared in proportion to `weights`: each share's floor, then one more to the largest
    remainders (ties to the earlier weight). The shares sum to `total` exactly."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    exact = [total * w / whole for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


def sample_ids(ids: Sequence[str], n: int, seed: int, strata: Mapping[str, str] | None = None) -> list[str]:
    """`n` of `ids` (all of them when there are fewer), in their given order. With `strata` (id →
    stratum), each stratum gets its largest-remainder share of `n` by its size."""
    if n < 0:
        raise InvalidInput(_("The sample size must be 0 or more, not {n}.").format(n=n))
    groups: dict[str, list[str]] = {}
    for example_id in ids:
        groups.setdefault(strata.get(example_id, "") if strata else "", []).append(example_id)
    names = sorted(groups)
    shares = largest_remainder(min(n, len(ids)), [len(groups[name]) for name in names])
    rng = random.Random(seed)
    chosen: set[str] = set()
    for name, share in zip(names, shares, strict=True):
        chosen.update(rng.sample(groups[name], share))
    return [example_id for example_id in ids if example_id in chosen]


@dataclass(frozen=True)
class Split:
    train: list[str]
    valid: list[str]
    test: list[str]

    def parts(self) -> dict[str, list[str]]:
        return {"train": self.train, "valid": self.valid, "test": self.test}


def split_ids(ids: Sequence[str], valid: float, test: float, seed: int) -> Split:
    """Disjoint train/valid/test parts that cover `ids`, each in the given order, sized exactly by
    largest remainder of the fractions; which id goes where is seeded."""
    for message, fraction in (
        (N_("The valid fraction must be at least 0 and below 1, not {fraction}."), valid),
        (N_("The test fraction must be at least 0 and below 1, not {fraction}."), test),
    ):
        if not 0 <= fraction < 1:
            raise InvalidInput(_(message).format(fraction=fraction))
    if valid + test >= 1:
        raise InvalidInput(
            _("The valid and test fractions together must be below 1, not {total}.").format(total=f"{valid + test:g}")
        )
    train_n, valid_n, _test_n = largest_remainder(len(ids), [1 - valid - test, valid, test])
    shuffled = list(ids)
    random.Random(seed).shuffle(shuffled)
    part = {example_id: 0 for example_id in shuffled[:train_n]}
    part.update({example_id: 1 for example_id in shuffled[train_n : train_n + valid_n]})
    part.update({example_id: 2 for example_id in shuffled[train_n + valid_n :]})
    kept: tuple[list[str], list[str], list[str]] = ([], [], [])
    for example_id in ids:
        kept[part[example_id]].append(example_id)
    return Split(*kept)


STRATA = ("model", "source", "slot:NAME")


def check_stratify(spec: str) -> str:
    """`model`, `source` or `slot:NAME`, else InvalidInput naming the choices."""
    spec = spec.strip()
    if spec in ("model", "source") or (spec.startswith("slot:") and spec[5:].strip()):
        return spec
    raise InvalidInput(
        _("Cannot stratify by '{spec}': use one of {strata}.").format(spec=spec[:60], strata=", ".join(STRATA))
    )


def stratum(example: Example, spec: str) -> str:
    """The stratum of an example under a checked spec: its model, its source (`job N` per job) or
    one slot's value."""
    if spec == "model":
        return example.meta.model
    if spec == "source":
        job = example.meta.job_id
        return example.meta.source.value if job is None else f"{example.meta.source.value} {job}"
    return example.content.slots.get(spec[5:].strip(), "")
