"""What a job with a target ("until N pass") has made so far: its passing examples (those not
rejected) with their planned slot values, read back to continue the count after a resume."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from forge_tui.core.models import Example
from forge_tui.store.example_reader import COLUMNS
from forge_tui.store.examples import open_row
from forge_tui.store.jobs import item_row_id
from forge_tui.store.vault import FieldCipher

_PASSED = "e.job_id = ? AND e.review != 'rejected'"


@dataclass(frozen=True)
class Passed:
    idx: int
    slots: dict[str, str]  # the item's planned slot values
    example: Example


def passed_count(conn: Connection, job_id: int) -> int:
    """How many of the job's examples count towards its target (every one not rejected)."""
    found = conn.exec_driver_sql(f"SELECT count(*) FROM example AS e WHERE {_PASSED}", (job_id,))
    return int(found.scalar_one())


def passed(conn: Connection, job_id: int, example_cipher: FieldCipher, item_cipher: FieldCipher) -> list[Passed]:
    """The job's passing examples with their items' slot values, in item order."""
    columns = ", ".join(f"e.{c}" for c in COLUMNS)
    found = conn.exec_driver_sql(
        f"SELECT j.idx, j.inputs, {columns} FROM job_item AS j JOIN example AS e ON e.id = j.example_id "
        f"WHERE j.job_id = ? AND {_PASSED} ORDER BY j.idx",
        (job_id, job_id),
    ).fetchall()
    return [
        Passed(
            int(row[0]),
            json.loads(item_cipher.open("inputs", item_row_id(job_id, int(row[0])), row[1])),
            open_row(example_cipher, row[2:]),
        )
        for row in found
    ]


def passed_inputs(conn: Connection, job_id: int, item_cipher: FieldCipher) -> list[dict[str, str]]:
    """The planned slot values of the job's passing items (only those are opened)."""
    found = conn.exec_driver_sql(
        f"SELECT j.idx, j.inputs FROM job_item AS j JOIN example AS e ON e.id = j.example_id "
        f"WHERE j.job_id = ? AND {_PASSED}",
        (job_id, job_id),
    ).fetchall()
    return [json.loads(item_cipher.open("inputs", item_row_id(job_id, int(idx)), inputs)) for idx, inputs in found]
