"""`forge-tui export --min-score T` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def test_export_min_score(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.workspace import Workspace

    home = open_home(fast_home_dir)
    try:
        workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
        dataset = workspace.datasets.current()
        assert dataset is not None
        scores = [8.0, 4.0, None, 7.5]
        items = [
            (ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), ExampleMeta(score=s)) for i, s in enumerate(scores)
        ]
        workspace.examples.add_many(dataset.id, items)
    finally:
        home.close()
    out = tmp_path / "out.jsonl"
    result = alice("export", "-f", "raw", "-o", str(out), "--min-score", "7.5", "--json", "--password-stdin",
                   input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["output"] for line in out.read_text().splitlines()] == ["a0", "a3"]
    assert json.loads(result.stdout)["below_score"] == 2
    wrong = alice("export", "-f", "raw", "-o", str(out), "--min-score", "eleven")  # refused before the password
    assert wrong.exit_code == 2 and "--min-score: 'eleven' is not a number" in wrong.stderr
