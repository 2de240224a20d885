"""`forge-tui rubrics list | show | save | delete`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import Result

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD

BODY = "Is {{ output }} polite? Give a score from 1 to 10 and a reason.\n"


def rubrics(cli: Cli, *args: str) -> Result:
    """`forge-tui rubrics ARGS` for the unlocked account: custom rubrics are sealed."""
    return cli("rubrics", *args, "--password-stdin", input=PASSWORD + "\n")


def test_save_list_show_delete(alice: Cli, tmp_path: Path) -> None:
    body = tmp_path / "polite.j2"
    body.write_text(BODY, encoding="utf-8")
    saved = rubrics(alice, "save", "Politeness", "--body", str(body), "--few-shots", "4")
    assert saved.exit_code == 0, saved.output
    assert saved.stdout == "Saved rubric 'Politeness'.\n"

    listed = rubrics(alice, "list", "--json")
    assert json.loads(listed.stdout) == [
        {"name": "overall", "kind": "overall", "builtin": True, "few_shots": 0},
        {"name": "pairwise", "kind": "pairwise", "builtin": True, "few_shots": 0},
        {"name": "tool_call", "kind": "tool_call", "builtin": True, "few_shots": 0},
        {"name": "Politeness", "kind": "custom", "builtin": False, "few_shots": 4},
    ]
    plain = rubrics(alice, "list").stdout.splitlines()
    assert "Politeness  custom (custom, 4 few-shot examples)" in plain
    assert "overall     built in (overall)" in plain

    assert rubrics(alice, "show", "Politeness").stdout == BODY
    shown = json.loads(rubrics(alice, "show", "overall", "--json").stdout)
    assert shown["schema"]["required"] == ["criteria", "score", "reason"] and "{{ output }}" in shown["template"]

    refused = rubrics(alice, "delete", "Politeness")
    assert refused.exit_code == 2 and "without --yes" in refused.stderr
    deleted = rubrics(alice, "delete", "Politeness", "--yes", "--json")
    assert deleted.exit_code == 0 and json.loads(deleted.stdout) == {"deleted": "Politeness"}
    missing = rubrics(alice, "show", "Politeness")
    assert missing.exit_code == 5 and missing.stderr.startswith("forge-tui: No rubric named 'Politeness'")


def test_a_bad_rubric_is_refused_in_one_line_and_nothing_is_saved(alice: Cli, tmp_path: Path) -> None:
    body = tmp_path / "bad.j2"
    for text, said in [
        ("Is {{ output }} good?", "A rubric must ask for a score"),
        ("Score {{ outptu }}", "does not render for a sample example"),
        ("Score {% if %}", "line 1:"),
    ]:
        body.write_text(text, encoding="utf-8")
        refused = rubrics(alice, "save", "Bad", "--body", str(body))
        assert refused.exit_code == 2, refused.output
        assert said in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert "Traceback" not in refused.output
    body.write_text(BODY, encoding="utf-8")
    builtin = rubrics(alice, "save", "overall", "--body", str(body))
    assert builtin.exit_code == 2 and "built-in rubric" in builtin.stderr
    kept = rubrics(alice, "delete", "overall", "--yes")
    assert kept.exit_code == 2 and "cannot be deleted" in kept.stderr
    assert [r["name"] for r in json.loads(rubrics(alice, "list", "--json").stdout)] == [
        "overall",
        "pairwise",
        "tool_call",
    ]
