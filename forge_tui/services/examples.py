"""Examples of a dataset: sealed on the way in, opened on the way out."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from forge_tui.core.desirability import DesirabilityFilter
from forge_tui.core.errors import Conflict, DamagedRow, NotFound
from forge_tui.core.example_filter import ExampleFilter, ExampleOrder
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.i18n import _
from forge_tui.services.accounts import Unlocked
from forge_tui.services.home import Home
from forge_tui.store import example_reader
from forge_tui.store import examples as rows
from forge_tui.store import judgements as judgement_rows
from forge_tui.store.datasets import count_examples
from forge_tui.store.db import read_session, write_session
from forge_tui.store.key_rotation import KeyChanged, dataset_check, reseal_row
from forge_tui.store.staged_inserts import StagedInsert
from forge_tui.store.tables import Dataset
from forge_tui.store.vault import FieldCipher, dataset_key

SCAN_CHUNK = 1000  # examples read at once when the whole dataset is opened
RESEAL_CHUNK = 500  # legacy rows re-sealed in one write transaction
# Examples deleted per transaction: each holds the write lock for some tens of milliseconds only.
DELETE_CHUNK = 2000
# In each row delete() returns: the fingerprint of the key the dataset was sealed with when the row
# was deleted (the row is kept as stored, sealed under that key). Not a column: undo_delete drops it.
SEALED_WITH = "_sealed_with"
# What the filter parameters take: a DesirabilityFilter alone, or every filter (core.example_filter).
Wanted = ExampleFilter | DesirabilityFilter
ALL = ExampleFilter()


@dataclass(frozen=True)
class BrokenExample:
    """A row that cannot be read (a seal that fails to open, a damaged or missing field); `reason`
    names the row and the field."""

    id: str
    reason: str


class ExampleService:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked
        # Per dataset: its cipher, and the fingerprint of the key it was derived from (a write checks
        # that the dataset is still sealed with it: a key rotation may have moved it meanwhile).
        self._ciphers: dict[int, tuple[FieldCipher, bytes]] = {}

    def _keyed(self, dataset_id: int) -> tuple[FieldCipher, bytes]:
        keyed = self._ciphers.get(dataset_id)
        if keyed is None:
            with read_session(self.home.engine) as s:
                ds = s.get(Dataset, dataset_id)
            if ds is None or ds.owner_id != self.unlocked.user.id:
                raise NotFound(_("No dataset with id {dataset_id}.").format(dataset_id=dataset_id))
            if not self.unlocked.can_open(ds):
                raise Conflict(
                    _(
                        "Dataset '{name}' was sealed with a key this account no longer has (the password was "
                        "reset without the recovery key), or with one a key rotation made after you unlocked "
                        "(unlock again)."
                    ).format(name=ds.name)
                )
            keyed = self._ciphers[dataset_id] = (self.unlocked.cipher_for(ds), ds.key_check)
        return keyed

    def _cipher(self, dataset_id: int) -> FieldCipher:
        return self.cipher(dataset_id)

    def _require_key(self, session: Session, dataset_id: int, check: bytes) -> None:
        """In a write transaction: raises KeyChanged (and forgets the cipher) when the dataset is no
        longer sealed with the key `check` names, so nothing sealed with the old key is written."""
        if dataset_check(session, dataset_id) != check:
            self._ciphers.pop(dataset_id, None)
            raise KeyChanged(dataset_id)

    def cipher(self, dataset_id: int) -> FieldCipher:
        """The dataset's field cipher (checks that the dataset is this account's and can be opened,
        and that it is still sealed with the key the cipher was derived from)."""
        cipher, check = self._keyed(dataset_id)
        with read_session(self.home.engine) as s:
            if dataset_check(s, dataset_id) == check:
                return cipher
        self._ciphers.pop(dataset_id, None)
        return self._keyed(dataset_id)[0]

    def ids(self, dataset_id: int, wanted: Wanted = ALL) -> list[str]:
        self._cipher(dataset_id)
        with read_session(self.home.engine) as s:
            return rows.ids(s, dataset_id, ExampleFilter.of(wanted))

    def review_counts(self, dataset_id: int) -> dict[ReviewState, int]:
        """How many examples of the dataset are in each review state."""
        self._cipher(dataset_id)
        with read_session(self.home.engine) as s:
            return rows.review_counts(s, dataset_id)

    def set_review(self, example_ids: Sequence[str], state: ReviewState) -> int:
        """Accepts, rejects or un-reviews the examples (any of this account's datasets) in one
        transaction; returns how many were found. Ids not found (deleted meanwhile) are skipped."""
        with write_session(self.home.engine) as s:
            return rows.set_review(s, self.unlocked.user.id, example_ids, state)

    def set_judgements(self, dataset_id: int, items: Sequence[tuple[str, Judgement | None]]) -> int:
        """Stores each example's judgement (its score on the row, the rest sealed), or clears it with
        None; returns how many of the examples were found in the dataset."""
        _cipher, check = self._keyed(dataset_id)
        with write_session(self.home.engine) as s:
            self._require_key(s, dataset_id, check)
            return judgement_rows.write(s, self.unlocked.keys_in(s), dataset_id, items)

    def judgements(self, dataset_id: int, example_ids: Sequence[str]) -> dict[str, Judgement]:
        """The judgements of those examples that have one."""
        with read_session(self.home.engine) as s:
            return judgement_rows.read(s, self.unlocked.keys_in(s), dataset_id, example_ids)

    def forget_keys(self) -> None:
        self._ciphers.clear()

    def add(self, dataset_id: int, content: ExampleContent, meta: ExampleMeta | None = None) -> str:
        return self.add_many(dataset_id, [(content, meta or ExampleMeta())])[0]

    def add_many(self, dataset_id: int, items: Sequence[tuple[ExampleContent, ExampleMeta]]) -> list[str]:
        """Adds all the examples in one transaction. When a key rotation moved the dataset since its
        key was derived, they are sealed again with the new key (once)."""
        for attempt in (1, 2):
            cipher, check = self._keyed(dataset_id)
            sealed = [rows.sealed_values(cipher, dataset_id, content, meta) for content, meta in items]
            try:
                with write_session(self.home.engine) as s:
                    self._require_key(s, dataset_id, check)
                    rows.insert_values(s, sealed)
            except KeyChanged:
                if attempt == 2:
                    raise
                continue
            break
        return [values["id"] for values in sealed]

    def get(self, example_id: str) -> Example:
        """Raises DamagedRow (a ForgeError naming the row and field) for a row that cannot be read."""
        with read_session(self.home.engine) as s:
            row = rows.get(s, example_id)
        if row is None:
            raise NotFound(_("No example with id {example_id}.").format(example_id=example_id))
        if type(row[1]) is not int:
            raise DamagedRow("example", "dataset_id", example_id, _("does not name a dataset"))
        return rows.open_row(self._cipher(row[1]), row)

    def page(self, dataset_id: int, after: str | None = None, limit: int = 100) -> list[Example | BrokenExample]:
        return self.window(dataset_id, 0, limit, after)

    def scan(self, dataset_id: int, wanted: Wanted = ALL) -> Iterator[Example | BrokenExample]:
        """Every example (of those `wanted`) in creation order; a row that fails to open is yielded
        as BrokenExample. Read as export reads (store.example_reader), a chunk of ids at a time."""
        cipher = self._cipher(dataset_id)
        ids = self.ids(dataset_id, wanted)
        connection = example_reader.connect(self.home.db_path)
        try:
            for start in range(0, len(ids), SCAN_CHUNK):
                for values in example_reader.read(connection, dataset_id, ids[start : start + SCAN_CHUNK]):
                    try:
                        yield example_reader.open_values(cipher, values)
                    except DamagedRow as exc:
                        yield BrokenExample(id=str(values[0]), reason=str(exc))
        finally:
            connection.close()

    def count(self, dataset_id: int, wanted: Wanted = ALL) -> int:
        self._cipher(dataset_id)
        chosen = ExampleFilter.of(wanted)
        with read_session(self.home.engine) as s:
            return count_examples(s, dataset_id) if chosen.takes_all else rows.count(s, dataset_id, chosen)

    def window(
        self,
        dataset_id: int,
        offset: int,
        limit: int,
        after: str | None = None,
        wanted: Wanted = ALL,
        order: ExampleOrder = ExampleOrder.TIME,
    ) -> list[Example | BrokenExample]:
        """Examples `offset` .. `offset + limit` in creation order, or by score with the unjudged
        last (of those `wanted`); only these are opened. `after` is for creation order only."""
        cipher = self._cipher(dataset_id)
        with read_session(self.home.engine) as s:
            found = rows.window(s, dataset_id, offset, limit, after, ExampleFilter.of(wanted), order)
        return [self._open(cipher, row) for row in found]

    def open_ids(self, dataset_id: int, example_ids: Sequence[str]) -> list[Example | BrokenExample]:
        cipher = self._cipher(dataset_id)
        with read_session(self.home.engine) as s:
            found = rows.plain_by_ids(s, example_ids)
        return [self._open(cipher, row) for row in found if row[1] == dataset_id]

    def delete(self, dataset_id: int, example_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Deletes DELETE_CHUNK examples per transaction, so other processes write in between;
        returns what undo_delete() needs to put them back. When a chunk fails, the chunks already
        deleted are put back before the error is raised."""
        self._cipher(dataset_id)
        removed: list[dict[str, Any]] = []
        try:
            for start in range(0, len(example_ids), DELETE_CHUNK):
                with write_session(self.home.engine) as s:
                    check = dataset_check(s, dataset_id)
                    deleted = rows.delete_ids(s, dataset_id, example_ids[start : start + DELETE_CHUNK])
                removed += [{**values, SEALED_WITH: check} for values in deleted]
        except BaseException:
            if removed:
                self.undo_delete(removed)
            raise
        return removed

    def undo_delete(self, removed: Sequence[dict[str, Any]]) -> None:
        """Puts deleted examples back, all shown at once, written DELETE_CHUNK per transaction. Rows
        deleted before a key rotation moved their dataset are re-sealed under the new key when this
        session holds both keys; otherwise Conflict says the undo is no longer possible."""
        by_key: dict[tuple[int, bytes | None], list[dict[str, Any]]] = {}
        for values in removed:
            stored = {name: value for name, value in values.items() if name != SEALED_WITH}
            by_key.setdefault((values["dataset_id"], values.get(SEALED_WITH)), []).append(stored)
        for (dataset_id, sealed_with), of_dataset in by_key.items():
            with read_session(self.home.engine) as s:
                ds = s.get(Dataset, dataset_id)
            if ds is None or ds.owner_id != self.unlocked.user.id:
                raise NotFound(_("No dataset with id {dataset_id}.").format(dataset_id=dataset_id))
            if sealed_with is None:  # not recorded: the key the session opens the dataset with
                sealed_with = self._keyed(dataset_id)[1]
            if ds.key_check != sealed_with:
                of_dataset = self._resealed(ds, sealed_with, of_dataset)
                sealed_with = ds.key_check
            chunks = [of_dataset[at : at + DELETE_CHUNK] for at in range(0, len(of_dataset), DELETE_CHUNK)]
            # The first write checks that the dataset is still sealed with the rows' key.
            with StagedInsert(self.home.engine, dataset_id, rows.restore_values, sealed_with) as staged:
                for chunk in chunks[:-1]:
                    staged.add(chunk)
                staged.publish(chunks[-1])

    def _resealed(self, ds: Dataset, sealed_with: bytes, stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Deleted rows sealed with the key `sealed_with` names, re-sealed with the dataset's key now
        (a key rotation moved it since); Conflict unless this session holds both keys."""
        old_key, new_key = self.unlocked.key_with(sealed_with), self.unlocked.key_with(ds.key_check)
        if old_key is None or new_key is None:
            raise Conflict(
                _(
                    "Undo is no longer possible: the key of dataset '{name}' was rotated since the "
                    "examples were deleted (forge-tui user rotate-key), and they are sealed with the old "
                    "one."
                ).format(name=ds.name)
            )
        old, new = FieldCipher(dataset_key(old_key, ds.salt)), FieldCipher(dataset_key(new_key, ds.salt))
        resealed = []
        for values in stored:
            sealed, _whole = reseal_row(old, new, [values[name] for name in example_reader.COLUMNS])
            resealed.append({**values, **sealed})
        return resealed

    def update(
        self, example: Example, content: ExampleContent, desirability: bool | rows.Keep | None = rows.KEEP
    ) -> Example:
        """Saves new content, and the desirability (KTO label) unless it is rows.KEEP."""
        cipher, check = self._keyed(example.dataset_id)
        with write_session(self.home.engine) as s:
            self._require_key(s, example.dataset_id, check)
            try:
                rows.replace_content(s, cipher, example.id, content, desirability)
            except LookupError:
                raise NotFound(
                    _("Example {example_id} is gone (deleted elsewhere?).").format(example_id=example.id)
                ) from None
        return self.get(example.id)

    def replace(self, example: Example, content: ExampleContent, meta: ExampleMeta) -> Example:
        """Saves new content and how it was made (model, parameters, template, token counts, review
        state, desirability) in one transaction; where it came from (source, job) stays."""
        cipher, check = self._keyed(example.dataset_id)
        with write_session(self.home.engine) as s:
            self._require_key(s, example.dataset_id, check)
            try:
                rows.replace_content(s, cipher, example.id, content, meta.desirability)
                rows.replace_making(s, cipher, example.id, meta)
            except LookupError:
                raise NotFound(
                    _("Example {example_id} is gone (deleted elsewhere?).").format(example_id=example.id)
                ) from None
        return self.get(example.id)

    def search(self, dataset_id: int, text: str, wanted: Wanted = ALL) -> Iterator[Example | BrokenExample]:
        """Examples (of those `wanted`) with `text` (any case) in any field, in creation order, and
        every row that cannot be read (it could not be searched). Every row has to be opened to look:
        run it in a worker and take the matches as they come."""
        needle = text.casefold()
        for item in self.scan(dataset_id, wanted):
            if isinstance(item, BrokenExample) or needle in searchable(item).casefold():
                yield item

    def reseal_legacy(self, dataset_id: int) -> int:
        """Binds the presence marker into rows sealed before it existed (example_reader.ANCHOR);
        returns how many were re-sealed. From then on a field set to NULL in them is noticed."""
        cipher = self._cipher(dataset_id)
        done, after = 0, ""
        while True:
            with write_session(self.home.engine) as s:
                count, last = rows.reseal_legacy(s, cipher, dataset_id, after, RESEAL_CHUNK)
            done += count
            if not last:
                return done
            after = last

    @staticmethod
    def _open(cipher: FieldCipher, row: Any) -> Example | BrokenExample:
        try:
            return rows.open_row(cipher, row)
        except DamagedRow as exc:
            return BrokenExample(id=str(row[0]), reason=str(exc))


def searchable(example: Example) -> str:
    content = example.content
    parts = [content.system_prompt, content.user_prompt, content.output, content.reasoning, example.meta.model]
    parts += content.slots.values()
    parts += content.rejected
    if content.tool_calls:
        parts.append(json.dumps(content.tool_calls, ensure_ascii=False))
    if content.turns:
        parts += [str(t.get("content", "")) for t in content.turns]
    return "\n".join(parts)
