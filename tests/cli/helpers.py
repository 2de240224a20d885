"""What the CLI tests share."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def stocked(alice: Cli, tmp_path: Path, count: int = 400) -> None:
    """Enough examples that the file spans many pages."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        "".join(
            json.dumps({"prompt": f"question {i} " * 20, "completion": f"answer {i} " * 20}) + "\n"
            for i in range(count)
        ),
        encoding="utf-8",
    )
    assert alice("import", str(source), "--password-stdin", input=PASSWORD + "\n").exit_code == 0
