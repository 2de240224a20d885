"""Damage done to a forge.db from outside, as a failing disk, a bad copy or another program would."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def allow_nulls(db_path: Path) -> None:
    """Drops the NOT NULL constraints of the example table, as a damaged schema would."""
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute("PRAGMA writable_schema = ON")
        (sql,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'example'"
        ).fetchone()
        connection.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'example'",
            (sql.replace(" NOT NULL", ""),),
        )
        connection.execute("PRAGMA writable_schema = OFF")
    finally:
        connection.close()


def damage(db_path: Path, row_id: str, column: str, value: Any) -> None:
    if value is None:
        allow_nulls(db_path)
    connection = sqlite3.connect(db_path, isolation_level=None)
    try:
        connection.execute(f"UPDATE example SET {column} = ? WHERE id = ?", (value, row_id))
    finally:
        connection.close()


def zero_page(db: Path, table: str) -> None:
    with sqlite3.connect(db) as connection:
        (root,) = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        (page_size,) = connection.execute("PRAGMA page_size").fetchone()
    connection.close()
    with db.open("r+b") as raw:
        raw.seek((root - 1) * page_size)
        raw.write(b"\xff" * page_size)
