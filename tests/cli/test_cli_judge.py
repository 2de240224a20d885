"""`forge-tui judge`: nothing sent unless confirmed, then a judge job against the fake whose scores are
known, ending with the counts; `jobs show` tells the same counts."""

from __future__ import annotations

import json

from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.judge_replies import verdict_json
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"
MODEL = "llama3.2:latest"


def stock(workspace: Workspace, fake: FakeOllama) -> list[str]:
    fake.replies_by_prompt_substring = {
        "REASON-LOW": "Rewritten MARK-FIXED.",
        "MARK-FIXED": verdict_json(9, "good now"),
        "MARK-LOW": verdict_json(3, "REASON-LOW"),
        "MARK-HIGH": verdict_json(8, "fine"),
    }
    dataset_id = workspace.datasets.create("scored").id
    marks = ["MARK-HIGH", "MARK-LOW", "MARK-LOW", "MARK-HIGH"]
    items = [
        (ExampleContent(user_prompt=f"Q{i}?", output=f"A{i} {m}"), ExampleMeta(review=ReviewState.UNREVIEWED))
        for i, m in enumerate(marks)
    ]
    return workspace.examples.add_many(dataset_id, items)


def judge(fake: FakeOllama, *args: str) -> list[str]:
    return [
        "judge",
        "scored",
        "--rubric",
        "overall",
        "--url",
        fake.base_url,
        "--model",
        MODEL,
        "--password-stdin",
        *args,
    ]


def test_without_yes_and_without_a_terminal_nothing_is_sent(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    stock(workspace_of, fake)
    ran = alice(*judge(fake), input=STDIN)
    assert ran.exit_code == 2, ran.output
    assert "Judge 4 unreviewed examples of 'scored' with overall" in ran.output
    assert "Nothing was sent: pass --yes" in ran.output
    assert fake.requests == []


def test_reject_below_the_threshold_prints_the_counts(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    ids = stock(workspace_of, fake)
    ran = alice(*judge(fake, "--action", "reject", "--yes"), input=STDIN)
    assert ran.exit_code == 0, ran.output
    assert "Judged: processed 4, kept 2, fixed 0, removed 2, mean score 5.5." in ran.output
    dataset_id = workspace_of.datasets.get("scored").id
    found = {e.id: e for e in workspace_of.examples.scan(dataset_id) if isinstance(e, Example)}
    assert [found[i].meta.review for i in ids] == [
        ReviewState.UNREVIEWED, ReviewState.REJECTED, ReviewState.REJECTED, ReviewState.UNREVIEWED
    ]  # fmt: skip
    shown = alice("jobs", "show", "1", "--password-stdin", input=STDIN)
    assert "counts    processed 4, kept 2, fixed 0, removed 2, mean score 5.5" in shown.output
    as_json = json.loads(alice("jobs", "show", "1", "--password-stdin", "--json", input=STDIN).output)
    assert as_json["results"] == {"processed": 4, "kept": 2, "removed": 2, "score_sum": 22}


def test_fix_with_json_ends_with_the_counts(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    stock(workspace_of, fake)
    ran = alice(*judge(fake, "--action", "fix", "--only", "all", "--yes", "--json"), input=STDIN)
    assert ran.exit_code == 0, ran.output
    events = [json.loads(line) for line in ran.output.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["examples"] == 4 and events[0]["action"] == "fix"
    assert events[-1]["event"] == "done" and events[-1]["results"]["fixed"] == 2


def test_an_unknown_rubric_is_one_sentence(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    stock(workspace_of, fake)
    ran = alice(*judge(fake, "--yes")[:3], "nope", "--password-stdin", "--yes", input=STDIN)
    assert ran.exit_code == 5, ran.output  # not found
    assert "No rubric named 'nope'" in ran.output and "Traceback" not in ran.output


def test_few_shots_show_the_judge_examples_you_decided_on(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    stock(workspace_of, fake)
    dataset_id = workspace_of.datasets.get("scored").id
    decided = [
        (ExampleContent(user_prompt="Kept Q?", output="KEPT-ANSWER"), ExampleMeta(review=ReviewState.ACCEPTED)),
        (ExampleContent(user_prompt="Bad Q?", output="TURNED-DOWN"), ExampleMeta(review=ReviewState.REJECTED)),
    ]
    workspace_of.examples.add_many(dataset_id, decided)
    ran = alice(*judge(fake, "--few-shots", "2", "--yes"), input=STDIN)
    assert ran.exit_code == 0, ran.output
    asked = " ".join(str(m["content"]) for m in fake.requests[0]["messages"])
    assert "KEPT-ANSWER" in asked and "TURNED-DOWN" in asked
    fake.requests.clear()
    alice(*judge(fake, "--yes", "--only", "all"), input=STDIN)
    assert "KEPT-ANSWER" not in " ".join(str(m["content"]) for m in fake.requests[0]["messages"][:-1])


def test_calibrate_prints_how_often_the_judge_agrees_with_you(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    ids = stock(workspace_of, fake)
    alice(*judge(fake, "--yes"), input=STDIN)  # stores scores 8, 3, 3, 8
    workspace_of.examples.set_review([ids[0], ids[1]], ReviewState.ACCEPTED)
    workspace_of.examples.set_review([ids[2], ids[3]], ReviewState.REJECTED)
    ran = alice(*judge(fake, "--calibrate", "--json"), input=STDIN)
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.output)
    assert report["total"] == 4 and report["accuracy"] == 0.5
