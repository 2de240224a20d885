"""Dataset operations: merge, sample, split, and copying or moving examples between datasets.

Each is one write transaction: the target is created (or, when asked, emptied), the chosen rows are
opened with their dataset's key and sealed again with the target's (no plaintext is written), and
every field goes along: content, reasoning, kept-aside fields, meta, review state, score and the
sealed judgement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from forge_tui.core.dedup import exact_key
from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.models import Example, check_dataset_name
from forge_tui.core.sampling import check_stratify, sample_ids, split_ids, stratum
from forge_tui.i18n import _, ngettext
from forge_tui.services.accounts import Unlocked
from forge_tui.services.dedup import dedup_text
from forge_tui.services.home import Home
from forge_tui.store import dataset_copies as copies
from forge_tui.store.datasets import get_by_name
from forge_tui.store.db import write_session
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import FieldCipher, new_salt


class TargetExists(Conflict):
    """The dataset to write into exists and replacing it was not asked for."""

    def __init__(self, name: str) -> None:
        super().__init__(_("There is already a dataset named '{name}'; --yes replaces its examples.").format(name=name))
        self.name = name


@dataclass(frozen=True)
class Written:
    """What one target dataset received."""

    dataset: str
    examples: int
    created: bool = False  # the dataset did not exist before
    replaced: int = 0  # examples the target held before and no longer does (--yes)
    duplicates: int = 0  # exact duplicates left out (merge --dedup)
    damaged: int = 0  # rows that could not be opened, left where they were


class DatasetOps:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    def merge(self, sources: Sequence[str], into: str, dedup: bool = False, replace: bool = False) -> Written:
        """Every example of `sources` (in order) into `into`; with `dedup`, an example equal to an
        earlier one after normalisation (prompt and answer, as dedup compares them) is left out."""
        if not sources:
            raise InvalidInput(_("Name at least one dataset to merge."))
        with write_session(self.home.engine) as s:
            found = [self._source(s, name) for name in sources]
            if len({ds.id for ds in found}) < len(found):
                raise InvalidInput(_("A dataset is named twice among those to merge."))
            examples: list[Example] = []
            damaged = 0
            for ds in found:
                good, bad = self._opened(s, ds)
                examples += good
                damaged += len(bad)
            duplicates = 0
            if dedup:
                seen: set[str] = set()
                kept = []
                for example in examples:
                    key = exact_key(dedup_text(example))
                    if key not in seen:
                        seen.add(key)
                        kept.append(example)
                duplicates, examples = len(examples) - len(kept), kept
            written = self._write(s, into, examples, replace, {ds.name for ds in found})
            return Written(written.dataset, written.examples, written.created, written.replaced, duplicates, damaged)

    def sample(
        self, source: str, into: str, n: int, seed: int, stratify: str | None = None, replace: bool = False
    ) -> Written:
        """`n` examples of `source` chosen with `seed` into `into`; with `stratify` (`model`,
        `source`, `slot:NAME`), each stratum keeps its share exactly (largest remainder)."""
        spec = check_stratify(stratify) if stratify else None
        with write_session(self.home.engine) as s:
            ds = self._source(s, source)
            good, bad = self._opened(s, ds)
            strata = {e.id: stratum(e, spec) for e in good} if spec else None
            chosen = set(sample_ids([e.id for e in good], n, seed, strata))
            written = self._write(s, into, [e for e in good if e.id in chosen], replace, {ds.name})
            return Written(written.dataset, written.examples, written.created, written.replaced, damaged=len(bad))

    def split(self, source: str, valid: float, test: float, seed: int, replace: bool = False) -> list[Written]:
        """`source` split into `NAME-train`, `NAME-valid` and `NAME-test`, disjoint and covering,
        sized exactly by largest remainder; which example goes where is seeded."""
        with write_session(self.home.engine) as s:
            ds = self._source(s, source)
            good, bad = self._opened(s, ds)
            by_id = {e.id: e for e in good}
            parts = split_ids([e.id for e in good], valid, test, seed).parts()
            results = []
            for part, ids in parts.items():
                w = self._write(s, f"{ds.name}-{part}", [by_id[i] for i in ids], replace, {ds.name})
                results.append(Written(w.dataset, w.examples, w.created, w.replaced, damaged=len(bad)))
            return results

    def subset(self, source: str, keep: Callable[[Example], bool], into: str, replace: bool = False) -> Written:
        """The examples of `source` that `keep` admits (it sees every field, opened) into `into`, as
        a sample is written: for a filter's `--into`."""
        with write_session(self.home.engine) as s:
            ds = self._source(s, source)
            good, bad = self._opened(s, ds)
            written = self._write(s, into, [e for e in good if keep(e)], replace, {ds.name})
            return Written(written.dataset, written.examples, written.created, written.replaced, damaged=len(bad))

    def copy(self, example_ids: Sequence[str], to: str, move: bool = False) -> Written:
        """Copies (or moves, keeping their ids) the examples to dataset `to`, created when it does
        not exist; examples already there are left alone, ids not found raise NotFound."""
        with write_session(self.home.engine) as s:
            target, created = self._target(s, to, replace=False, sources=set())
            assert target.id is not None
            wanted = list(dict.fromkeys(example_ids))
            in_datasets = self._datasets_of(s, wanted)
            missing = [i for i in wanted if i not in in_datasets]
            if missing:
                if len(missing) == 1:
                    raise NotFound(_("No example with id {example_id}.").format(example_id=missing[0]))
                more = len(missing) - 1
                raise NotFound(
                    ngettext(
                        "No example with id {example} (and {count} more).",
                        "No example with id {example} (and {count} more).",
                        more,
                    ).format(example=missing[0], count=more)
                )
            by_dataset: dict[int, list[str]] = {}
            for example_id in wanted:
                if in_datasets[example_id] != target.id:
                    by_dataset.setdefault(in_datasets[example_id], []).append(example_id)
            written = damaged = 0
            for dataset_id, ids in by_dataset.items():
                source = self._owned(s, dataset_id)
                rows = copies.rows_of(s, dataset_id, ids)
                if move:
                    written += copies.move_rows(s, self._cipher(source), self._cipher(target), target.id, rows)
                    continue
                good, bad = copies.opened(self._cipher(source), rows)
                keys = self.unlocked.keys_in(s)
                written += len(copies.insert_copies(s, keys, self._cipher(target), target.id, good))
                damaged += len(bad)
            return Written(target.name, written, created, damaged=damaged)

    # --- in the transaction ---------------------------------------------------------------------
    def _owner(self, s: Session) -> User:
        owner = s.get(User, self.unlocked.user.id)
        if owner is None:
            raise NotFound(_("The account '{username}' no longer exists.").format(username=self.unlocked.user.username))
        return owner

    def _source(self, s: Session, name: str) -> Dataset:
        ds = get_by_name(s, self.unlocked.user.id, " ".join(name.split()))
        if ds is None:
            raise NotFound(_("No dataset named '{name}'.").format(name=name))
        self._check_open(ds)
        return ds

    def _owned(self, s: Session, dataset_id: int) -> Dataset:
        ds = s.get(Dataset, dataset_id)
        if ds is None or ds.owner_id != self.unlocked.user.id:
            raise NotFound(_("No dataset with id {dataset_id}.").format(dataset_id=dataset_id))
        self._check_open(ds)
        return ds

    def _check_open(self, ds: Dataset) -> None:
        if not self.unlocked.can_open(ds):
            raise Conflict(
                _("Dataset '{name}' is sealed with a key this session does not hold (unlock again).").format(
                    name=ds.name
                )
            )

    def _cipher(self, ds: Dataset) -> FieldCipher:
        return self.unlocked.cipher_for(ds)

    def _opened(self, s: Session, ds: Dataset) -> tuple[list[Example], list[str]]:
        assert ds.id is not None
        return copies.opened(self._cipher(ds), copies.rows_of(s, ds.id))

    def _datasets_of(self, s: Session, example_ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(example_ids), copies.CHUNK):
            chunk = tuple(example_ids[start : start + copies.CHUNK])
            rows = s.connection().exec_driver_sql(
                f"SELECT e.id, e.dataset_id FROM example AS e JOIN dataset AS d ON d.id = e.dataset_id "
                f"WHERE d.owner_id = ? AND e.id IN ({','.join('?' * len(chunk))})",
                (self.unlocked.user.id, *chunk),
            )
            found.update({str(i): int(d) for i, d in rows})
        return found

    def _target(self, s: Session, name: str, replace: bool, sources: set[str]) -> tuple[Dataset, bool]:
        """The target dataset, created when missing; an existing one is refused unless `replace`
        (for merge, sample and split), or taken as it is (`sources` empty: copy and move)."""
        name = check_dataset_name(name)
        ds = get_by_name(s, self.unlocked.user.id, name)
        if ds is not None:
            if name in sources:
                raise InvalidInput(_("'{name}' is a source; write into another dataset.").format(name=name))
            if sources and not replace:
                raise TargetExists(name)
            self._check_open(ds)
            return ds, False
        ds = Dataset(owner_id=self.unlocked.user.id, name=name, salt=new_salt(), key_check=self._owner(s).key_check)
        s.add(ds)
        s.flush()
        return ds, True

    def _write(self, s: Session, into: str, examples: Sequence[Example], replace: bool, sources: set[str]) -> Written:
        target, created = self._target(s, into, replace, sources)
        assert target.id is not None
        replaced = 0 if created else copies.clear(s, target.id)
        keys = self.unlocked.keys_in(s)
        new_ids = copies.insert_copies(s, keys, self._cipher(target), target.id, examples)
        return Written(target.name, len(new_ids), created, replaced)
