"""`forge-tui generate`: the plan first, nothing sent unless confirmed, then a real job against the fake."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from forge_tui.core.models import Example, ExampleSource, ReviewState
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"
MODEL = "llama3.2:latest"


def generate(cli: Cli, fake: FakeOllama, *args: str) -> list[str]:
    return ["generate", "--url", fake.base_url, "--model", MODEL, "--password-stdin", *args]


def made(workspace: Workspace, dataset: str) -> list[Example]:
    found = list(workspace.examples.scan(workspace.datasets.get(dataset).id))
    return [e for e in found if isinstance(e, Example)]


def test_without_yes_and_without_a_terminal_the_plan_is_shown_and_nothing_sent(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--count", "6", "--dataset", "new one")
    ran = alice(*args, "--slot", "topic=values:tides|volcanoes", "--seed", "7", input=STDIN)
    assert ran.exit_code == 2, ran.output
    assert "Plan: 6 items of template 'Q&A pair on a topic'" in ran.output
    assert "slot topic: 2 values" in ran.output and "      3  tides" in ran.output
    assert ran.output.count("prompt ") == 5
    assert "Nothing was sent: pass --yes" in ran.output
    assert fake.requests == []
    assert JobService(workspace_of.home, workspace_of.unlocked).list() == []
    assert "new one" not in [d.name for d in workspace_of.datasets.list()]


def test_yes_json_runs_a_job_to_done_with_json_lines(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    workspace_of.datasets.create("made here")
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--count", "6", "--dataset", "made here")
    ran = alice(*args, "--slot", "topic=values:tides|volcanoes|glaciers", "--yes", "--json", input=STDIN)
    assert ran.exit_code == 0, ran.output
    events = [json.loads(line) for line in ran.output.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["items"] == 6
    assert events[0]["spread"]["topic"] == {"tides": 2, "volcanoes": 2, "glaciers": 2}
    assert len(events[0]["prompts"]) == 5 and events[0]["dataset_created"] is False
    assert {e["event"] for e in events[1:-1]} == {"progress"}
    assert events[-1]["event"] == "done" and events[-1]["status"] == "done" and events[-1]["done"] == 6
    examples = made(workspace_of, "made here")
    assert len(examples) == 6
    assert {e.meta.source for e in examples} == {ExampleSource.JOB}
    assert {e.meta.review for e in examples} == {ReviewState.UNREVIEWED}
    assert {e.meta.job_id for e in examples} == {events[-1]["id"]}
    assert sorted(e.content.slots["topic"] for e in examples) == sorted(["tides", "volcanoes", "glaciers"] * 2)


def test_topic_without_a_template_fills_a_new_dataset(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    args = generate(alice, fake, "--topic", "ocean  tides", "--count", "3", "--dataset", "Tides")
    ran = alice(*args, "--yes", input=STDIN)
    assert ran.exit_code == 0, ran.output
    assert "Plan: 3 items of template 'Topic'" in ran.output
    assert "Dataset 'Tides' does not exist yet and will be made." in ran.output
    assert "Dataset 'Tides' made." in ran.output and "3/3 done, 0 failed" in ran.output
    examples = made(workspace_of, "Tides")
    assert len(examples) == 3
    assert all("Explain ocean tides" in e.content.user_prompt for e in examples)


@pytest.mark.parametrize(
    ("slot", "said"),
    [
        ("topic", "'topic' is not slot=default, weighted, combinations, file:PATH[#COLUMN]"),
        ("topic=values:", "'topic=values:' is not slot=default"),
        ("topic=dataset:Other", "'topic=dataset:Other' is not slot=default"),
        ("nope=weighted", "The template has no slot 'nope' to take values for."),
        ("topic=file:/no/such/file.txt", "file.txt"),
    ],
)
def test_a_bad_slot_is_one_sentence_and_exit_2(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, slot: str, said: str
) -> None:
    workspace_of.datasets.create("d")
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--dataset", "d", "--slot", slot, "--yes")
    ran = alice(*args, input=STDIN)
    assert ran.exit_code == 2, ran.output
    assert said in ran.output and "Traceback" not in ran.output
    assert len([line for line in ran.output.splitlines() if line.startswith("forge-tui:")]) == 1
    assert fake.requests == []


def test_tree_out_writes_the_editable_tree_and_the_edited_leaves_plan_the_job(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    tree = tmp_path / "ocean tree.txt"
    args = generate(alice, fake, "--topic", "ocean science", "--subtopics", "3", "--tree-out", str(tree))
    ran = alice(*args, input=STDIN)  # no --yes, no terminal: asking for the tree is the consent
    assert ran.exit_code == 0, ran.output
    assert f"--slot topic=tree:'{tree}'" in ran.output
    lines = tree.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "- ocean science" and len(lines) == 4
    assert all(line.startswith("  - ") for line in lines[1:])
    assert len(fake.requests) == 1  # only the tree: nothing planned, no job
    assert JobService(workspace_of.home, workspace_of.unlocked).list() == []

    tree.write_text("- ocean science\n  - tides\n    - spring tides\n  - reefs\n", encoding="utf-8")
    args = generate(alice, fake, "--topic", "ocean science", "--count", "4", "--dataset", "Ocean", "--seed", "1")
    ran = alice(*args, "--slot", f"topic=tree:{tree}", "--yes", "--json", input=STDIN)
    assert ran.exit_code == 0, ran.output
    plan = json.loads(ran.output.splitlines()[0])
    assert plan["spread"]["topic"] == {"spring tides": 2, "reefs": 2}


def test_tree_out_never_overwrites_a_file_and_asks_nothing(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, tmp_path: Path
) -> None:
    tree = tmp_path / "tree.txt"
    tree.write_text("- my edits\n", encoding="utf-8")
    args = generate(alice, fake, "--topic", "ocean", "--subtopics", "3", "--tree-out", str(tree))
    ran = alice(*args, input=STDIN)
    assert ran.exit_code == 2 and "already exists" in ran.output and "Traceback" not in ran.output
    assert tree.read_text(encoding="utf-8") == "- my edits\n" and fake.requests == []
    ran = alice(*generate(alice, fake, "--topic", "ocean", "--tree-out", str(tmp_path / "t2.txt")), input=STDIN)
    assert ran.exit_code == 2 and "--tree-out writes the tree of --topic TEXT --subtopics K" in ran.output


def test_until_pass_stops_at_n_passing_and_the_cap_fails_with_the_count(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.judge_model = "qwen3:0.6b"
    workspace_of.datasets.create("passing")
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--dataset", "passing", "--seed", "4")
    until = ["--until-pass", "4", "--judge-model", "qwen3:0.6b", "--threshold", "7", "--max-attempts", "12"]
    ran = alice(*args, *until, "--slot", "topic=values:tides|volcanoes", "--quotas", "--yes", input=STDIN)
    assert ran.exit_code == 0, ran.output
    assert "Plan: 12 items" in ran.output
    assert "Until 4 pass: qwen3:0.6b scores 7+ on 'overall', weights held among the passing" in ran.output
    passed = [e for e in made(workspace_of, "passing") if e.meta.review is ReviewState.UNREVIEWED]
    assert sorted(e.content.slots["topic"] for e in passed) == ["tides", "tides", "volcanoes", "volcanoes"]

    fake.judge_fail_every = 1
    workspace_of.datasets.create("hopeless")
    args = generate(
        alice, fake, "--template", "Q&A pair on a topic", "--dataset", "hopeless", "--slot", "topic=values:tides"
    )
    ran = alice(*args, "--until-pass", "3", "--judge-model", "qwen3:0.6b", "--max-attempts", "5", "--yes", input=STDIN)
    assert ran.exit_code == 1, ran.output
    assert "0 of 3 passed after 5 attempts: the judge threshold or dedup may be too strict." in ran.output
    assert len(made(workspace_of, "hopeless")) == 5


def test_target_flags_without_until_pass_are_one_sentence_and_exit_2(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--count", "3", "--quotas", "--yes")
    ran = alice(*args, input=STDIN)
    assert ran.exit_code == 2, ran.output
    assert "--quotas and --max-attempts go with --until-pass N." in ran.output
    assert fake.requests == []


def test_a_judge_without_a_target_judges_each_example_as_it_is_made(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    fake.judge_model = "qwen3:0.6b"
    fake.judge_fail_every = 2  # chosen by a hash of the answer: with 9 at every 3rd, none low was a 1-in-40 chance
    workspace_of.datasets.create("inline")
    args = generate(alice, fake, "--template", "Q&A pair on a topic", "--dataset", "inline", "--count", "16")
    ran = alice(*args, "--judge-model", "qwen3:0.6b", "--threshold", "7", "--yes", input=STDIN)
    assert ran.exit_code == 0, ran.output
    examples = made(workspace_of, "inline")
    assert len(examples) == 16 and all(e.meta.score is not None for e in examples)
    low = [e for e in examples if e.meta.score is not None and e.meta.score < 7]
    assert low and all(e.meta.review is ReviewState.REJECTED for e in low)
    assert all(e.meta.review is ReviewState.UNREVIEWED for e in examples if e not in low)


def test_on_a_terminal_the_progress_line_is_redrawn_in_place(alice: Cli, fast_home_dir: Path, fake: FakeOllama) -> None:
    """stderr a terminal: the progress line starts with a real carriage return each time (the control
    character escaping of other output must not turn it into the text `\\u000d`)."""
    command = [sys.executable, "-c", "from forge_tui.cli import main; main()", "--home", str(fast_home_dir)]
    command += generate(alice, fake, "--template", "Q&A pair on a topic", "--count", "5", "--yes")
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    child = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=follower, env=env, text=True
    )
    os.close(follower)
    out, _err = child.communicate(STDIN, timeout=60)
    shown = b""
    with contextlib.suppress(OSError):
        while chunk := os.read(leader, 65536):
            shown += chunk
    os.close(leader)
    assert child.returncode == 0, out
    text = shown.decode()
    assert "\\u000d" not in text and "\r" in text, text[-500:]
    assert any(part.strip().startswith("job 1: 5/5 done") for part in text.split("\r")), text[-500:]
