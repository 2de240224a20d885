"""The raw bytes of a data directory's database files, and what text they hold in any encoding a grep
would try."""

from __future__ import annotations

import uuid
from pathlib import Path

from forge_tui.services.home import Home


def marker() -> str:
    return f"PLAINMARK{uuid.uuid4().hex.upper()}"


def encodings(text: str) -> dict[str, bytes]:
    return {
        "utf-8": text.encode("utf-8"),
        "utf-16-le": text.encode("utf-16-le"),
        "utf-16-be": text.encode("utf-16-be"),
    }


def db_files(home: Home) -> dict[str, bytes]:
    """The raw bytes of forge.db and, where present, its -wal and -shm files."""
    files = {}
    for suffix in ("", "-wal", "-shm"):
        path = Path(f"{home.db_path}{suffix}")
        if path.exists():
            files[path.name] = path.read_bytes()
    return files


def found_in(files: dict[str, bytes], text: str) -> list[str]:
    return [
        f"{name} ({enc})" for name, data in files.items() for enc, needle in encodings(text).items() if needle in data
    ]
