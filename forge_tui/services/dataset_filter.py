"""`datasets filter` and `datasets stats`: the filter language over a dataset, and its figures. Content is
opened in memory only; nothing plain is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from forge_tui.core.dataset_stats import DatasetStats, estimated_tokens, histogram, top_values
from forge_tui.core.errors import Conflict, DamagedRow, InvalidInput, NotFound
from forge_tui.core.filter_language import Filter, FilterError, evaluate, parse
from forge_tui.core.models import Example, check_dataset_name
from forge_tui.i18n import _
from forge_tui.services.examples import SCAN_CHUNK, ExampleService
from forge_tui.store import datasets as dataset_rows
from forge_tui.store import example_reader
from forge_tui.store import examples as rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import Dataset, User
from forge_tui.store.vault import new_salt


@dataclass(frozen=True)
class FilterResult:
    source: str
    into: str
    taken: int
    total: int
    broken: int  # rows that failed to open (left out)


def parse_filter(text: str) -> Filter:
    """parse(), its error as InvalidInput (exit code 2, one sentence)."""
    try:
        return parse(text)
    except FilterError as exc:
        raise InvalidInput(str(exc)) from None


class DatasetFilterService:
    def __init__(self, examples: ExampleService) -> None:
        self.examples = examples
        self.home = examples.home

    def _opened(self, dataset_id: int, ids: list[str]) -> tuple[list[Example], int]:
        cipher = self.examples.cipher(dataset_id)
        opened, broken = list[Example](), 0
        connection = example_reader.connect(self.home.db_path)
        try:
            for start in range(0, len(ids), SCAN_CHUNK):
                for values in example_reader.read(
                    connection, dataset_id, ids[start : start + SCAN_CHUNK], contiguous=False
                ):
                    try:
                        opened.append(example_reader.open_values(cipher, values))
                    except DamagedRow:
                        broken += 1
        finally:
            connection.close()
        return opened, broken

    def matching(self, dataset_id: int, wanted: Filter) -> tuple[list[Example], int]:
        """The examples the filter takes, opened, in creation order, and how many rows failed to
        open. Plain conjuncts run in SQL; content is tested after opening the rows SQL left."""
        self.examples.cipher(dataset_id)
        sql, params = wanted.sql()
        with read_session(self.home.engine) as s:
            ids = rows.ids_where(s, dataset_id, sql, params)
        if wanted.needs_content:  # only the fields the test needs are opened, then only the matches in full
            cipher = self.examples.cipher(dataset_id)
            connection = example_reader.connect(self.home.db_path)
            try:
                tested, broken = example_reader.filter_values(
                    connection, cipher, dataset_id, ids, wanted.sealed_columns
                )
            finally:
                connection.close()
            ids = [rid for rid, values in tested if evaluate(wanted.expr, values)]
            opened, more = self._opened(dataset_id, ids)
            return opened, broken + more
        return self._opened(dataset_id, ids)

    def filter_into(self, source: str, where: str, into: str) -> FilterResult:
        """Copies the examples of `source` that `where` takes into a new dataset `into`, in one
        transaction (the new dataset and its examples appear together or not at all)."""
        wanted = parse_filter(where)
        into = check_dataset_name(into)
        user = self.examples.unlocked.user
        source_id = self._dataset_id(source)
        with read_session(self.home.engine) as s:
            total = rows.count(s, source_id)
        opened, broken = self.matching(source_id, wanted)
        with write_session(self.home.engine) as s:
            if dataset_rows.get_by_name(s, user.id, into) is not None:
                raise Conflict(
                    _("There is already a dataset named '{into}'; choose a new name for --into.").format(into=into)
                )
            owner = s.get(User, user.id)
            assert owner is not None
            ds = Dataset(owner_id=user.id, name=into, salt=new_salt(), key_check=owner.key_check)
            s.add(ds)
            s.flush()
            assert ds.id is not None
            cipher = self.examples.unlocked.cipher_for(ds)
            rows.insert_values(s, [rows.sealed_values(cipher, ds.id, e.content, e.meta) for e in opened])
        return FilterResult(source, into, len(opened), total, broken)

    def _dataset_id(self, name: str) -> int:
        with read_session(self.home.engine) as s:
            found = dataset_rows.get_by_name(s, self.examples.unlocked.user.id, name)
        if found is None or found.id is None:
            raise NotFound(_("No dataset named '{name}'.").format(name=name[:60]))
        return found.id

    def stats(self, dataset: str) -> DatasetStats:
        return self.stats_of(self._dataset_id(dataset), dataset)

    def stats_of(self, dataset_id: int, name: str) -> DatasetStats:
        self.examples.cipher(dataset_id)
        with read_session(self.home.engine) as s:
            by_source = rows.counts_by(s, dataset_id, "source")
            by_review = rows.counts_by(s, dataset_id, "review")
            by_model = rows.counts_by(s, dataset_id, "model")
            flags = rows.counts_by(s, dataset_id, "language_flag IS NOT NULL")
            tokens = rows.column_values(s, dataset_id, "completion_tokens")
        connection = example_reader.connect(self.home.db_path)
        try:
            opened, _broken = example_reader.slots_and_outputs(connection, self.examples.cipher(dataset_id), dataset_id)
        finally:
            connection.close()
        total = sum(by_review.values())
        # Counted tokens are shown only when the model counted every answer; a mix would mislead.
        counted = [float(t) for t in tokens] if len(tokens) == total else []
        slots: dict[str, Counter[str]] = {}
        for slot_values, _output in opened:
            for slot, value in slot_values.items():
                slots.setdefault(slot, Counter())[value] += 1
        return DatasetStats(
            dataset=name,
            total=total,
            by_source={str(k): n for k, n in by_source.items()},
            by_review={str(k): n for k, n in by_review.items()},
            by_model={str(k): n for k, n in by_model.items()},
            flagged=flags.get(1, 0),
            slots={slot: top_values(counter) for slot, counter in sorted(slots.items())},
            tokens=histogram(counted if counted else [float(estimated_tokens(output)) for _slots, output in opened]),
            tokens_counted=bool(counted),
            answer_chars=histogram([float(len(output)) for _slots, output in opened]),
        )
