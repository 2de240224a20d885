"""`forge-tui datasets filter` and `forge-tui datasets stats` in scripts (--json, exit codes)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def _imported(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [{"prompt": f"question {i}", "completion": "yes " * (i + 1), "topic": "ab"[i % 2]} for i in range(10)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = alice("import", str(source), "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output


def test_filter_into_a_new_dataset_then_stats(alice: Cli, tmp_path: Path) -> None:
    _imported(alice, tmp_path)
    taken = alice(
        "datasets", "filter", "default", "--where", "source = import and prompt =~ 'question [0-4]$'",
        "--into", "first half", "--json", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.stdout) == {"source": "default", "into": "first half", "taken": 5, "total": 10, "broken": 0}
    stats = alice("datasets", "stats", "first half", "--json", "--password-stdin", input=PASSWORD + "\n")
    assert stats.exit_code == 0, stats.output
    figures = json.loads(stats.stdout)
    assert figures["total"] == 5 and figures["by_source"] == {"import": 5}
    assert figures["answer_chars"]["low"] == 4 and figures["answer_chars"]["high"] == 20
    text = alice("datasets", "stats", "default", "--password-stdin", input=PASSWORD + "\n")
    assert text.exit_code == 0 and text.stdout.startswith("default: 10 examples, 0 with a language flag")
    assert "answer length 4..40:" in text.stdout


def test_a_bad_expression_exits_2_with_one_sentence(alice: Cli) -> None:
    bad = alice("datasets", "filter", "default", "--where", "scroe >= 7", "--into", "x")
    assert bad.exit_code == 2
    assert bad.stderr.strip().startswith("forge-tui: Unknown column 'scroe' at 1: the columns are score, review")
    assert "Traceback" not in bad.output
    missing = alice("datasets", "stats", "nope", "--password-stdin", input=PASSWORD + "\n")
    assert missing.exit_code == 5 and "No dataset named 'nope'" in missing.stderr
