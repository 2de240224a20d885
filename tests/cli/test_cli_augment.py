"""`forge-tui augment`: nothing started unless confirmed, a preview with a word diff, a job into
NAME-augmented whose failed item keeps its value and whose counts `jobs show` repeats, an in-place
job undone once, and bad input as one sentence."""

from __future__ import annotations

import json

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"
MODEL = "llama3.2:latest"


def stock(workspace: Workspace, fake: FakeOllama) -> list[str]:
    fake.replies_by_prompt_substring = {"FAILS": "", "WORKS": "short answer"}
    dataset_id = workspace.datasets.create("qa").id
    marks = ["WORKS", "FAILS", "WORKS", "WORKS"]
    items = [
        (ExampleContent(user_prompt=f"Q{i}?", output=f"long answer {m}"), ExampleMeta()) for i, m in enumerate(marks)
    ]
    return workspace.examples.add_many(dataset_id, items)


def augment(fake: FakeOllama, *args: str) -> list[str]:
    return [
        "augment",
        "qa",
        "--field",
        "answer",
        "--instruction",
        "Make {{ answer }} shorter.",
        "--url",
        fake.base_url,
        "--model",
        MODEL,
        "--password-stdin",
        *args,
    ]


def outputs(workspace: Workspace, name: str) -> list[str]:
    dataset_id = workspace.datasets.get(name).id
    return [e.content.output for e in workspace.examples.scan(dataset_id) if isinstance(e, Example)]


def test_without_yes_nothing_starts_and_the_preview_marks_the_diff(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--preview"), input=STDIN)
    assert ran.exit_code == 2, ran.output
    assert "Augment answer of 4 examples of 'qa' into 'qa-augmented'" in ran.output
    assert "[-long-]{+short+} answer[- WORKS-]" in ran.output, ran.output
    assert "The model gave an empty answer." in ran.output
    assert "The job was not started: pass --yes" in ran.output
    assert len(fake.requests) == 3
    assert "qa-augmented" not in [d.name for d in workspace_of.datasets.list()]


def test_into_a_new_dataset_keeps_failed_values_and_counts(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--yes"), input=STDIN)
    assert ran.exit_code == 1, ran.output  # an item failed
    assert "Augmented: 4 processed, 3 changed, 0 unchanged, 1 failed in " in ran.output
    assert sorted(outputs(workspace_of, "qa-augmented")) == ["long answer FAILS", *["short answer"] * 3]
    assert sorted(outputs(workspace_of, "qa")) == sorted(["long answer WORKS"] * 3 + ["long answer FAILS"])
    shown = alice("jobs", "show", "1", "--password-stdin", input=STDIN)
    assert "counts    4 processed, 3 changed, 0 unchanged, 1 failed in " in shown.output
    assert "The model gave an empty answer." in shown.output


def test_in_place_with_json_then_undo_once(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--in-place", "--keep-as-rejected", "--yes", "--json"), input=STDIN)
    events = [json.loads(line) for line in ran.output.splitlines()]
    assert events[0]["event"] == "plan" and events[0]["in_place"] is True
    assert events[-1]["event"] == "done" and events[-1]["results"]["augment_changed"] == 3
    assert outputs(workspace_of, "qa").count("short answer") == 3
    undone = alice("augment", "undo", "1", "--password-stdin", input=STDIN)
    assert undone.exit_code == 0 and "Job 1 undone: 3 examples restored." in undone.output
    assert "short answer" not in outputs(workspace_of, "qa")
    again = alice("augment", "undo", "1", "--password-stdin", input=STDIN)
    assert again.exit_code != 0 and "Job 1 was undone already." in again.output


def test_bad_input_is_one_sentence(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--yes")[:3], "colour", "--instruction", "x", "--password-stdin", input=STDIN)
    assert ran.exit_code == 2 and "Unknown field 'colour'" in ran.output and "Traceback" not in ran.output
    ran = alice(*augment(fake, "--yes", "--field", "user_prompt", "--keep-as-rejected"), input=STDIN)
    assert ran.exit_code == 2 and "--keep-as-rejected works only with the answer field." in ran.output
    ran = alice(*augment(fake, "--yes")[:5], "{{ broken", "--password-stdin", "--yes", input=STDIN)
    assert ran.exit_code == 2 and "Traceback" not in ran.output
    assert fake.requests == []


def prompts_and_outputs(workspace: Workspace, name: str) -> dict[str, str]:
    dataset_id = workspace.datasets.get(name).id
    found = workspace.examples.scan(dataset_id)
    return {e.content.user_prompt: e.content.output for e in found if isinstance(e, Example)}


def test_where_changes_only_the_matching_examples(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--in-place", "--where", "prompt =~ 'Q[02]'", "--yes"), input=STDIN)
    assert ran.exit_code == 0, ran.output
    assert "Augment answer of 2 examples of 'qa' in place" in ran.output
    assert prompts_and_outputs(workspace_of, "qa") == {
        "Q0?": "short answer",
        "Q1?": "long answer FAILS",
        "Q2?": "short answer",
        "Q3?": "long answer WORKS",
    }
    assert len(fake.requests) == 2


def test_a_bad_where_names_the_column_and_where_with_only_ids_is_refused(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    stock(workspace_of, fake)
    ran = alice(*augment(fake, "--where", "scroe >= 7", "--yes"), input=STDIN)
    assert ran.exit_code == 2 and "Unknown column 'scroe' at 1" in ran.output and "Traceback" not in ran.output
    ran = alice(*augment(fake, "--where", "score >= 7", "--only-ids", "x", "--yes"), input=STDIN)
    assert ran.exit_code == 2 and "--where or by --only-ids, not both" in ran.output
    assert fake.requests == [] and "qa-augmented" not in [d.name for d in workspace_of.datasets.list()]


def test_a_saved_config_with_a_flag_over_it(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    from forge_tui.core.job_configs import AugmentConfig
    from forge_tui.services.job_configs import JobConfigService

    stock(workspace_of, fake)
    config = AugmentConfig(
        name="shorter",
        instruction="Shorten it, CONFIGURED: {{ answer }}",
        model=MODEL,
        language="zh-TW",
        where="prompt = 'Q0?'",
        in_place=True,
        keep_as_rejected=True,
        concurrency="2",
    )
    JobConfigService(workspace_of.home, workspace_of.unlocked).save(config)
    args = ["augment", "qa", "--config", "shorter", "--url", fake.base_url, "--password-stdin", "--yes", "--json"]
    ran = alice(*args, "--where", "prompt = 'Q2?'", input=STDIN)  # the flag wins over the configuration's filter
    assert ran.exit_code == 0, ran.output
    plan = json.loads(ran.output.splitlines()[0])
    assert (plan["examples"], plan["in_place"], plan["concurrency"]) == (1, True, 2)
    assert prompts_and_outputs(workspace_of, "qa")["Q2?"] == "short answer"
    assert prompts_and_outputs(workspace_of, "qa")["Q0?"] == "long answer WORKS"
    [request] = fake.requests
    sent = json.dumps(request, ensure_ascii=False)
    assert "CONFIGURED" in sent and "zh-TW" in sent
    assert [e.content.rejected for e in workspace_of.examples.scan(workspace_of.datasets.get("qa").id)
            if isinstance(e, Example) and e.content.user_prompt == "Q2?"] == [["long answer WORKS"]]  # fmt: skip
    wrong = alice("augment", "qa", "--config", "nope", "--password-stdin", "--yes", input=STDIN)
    assert wrong.exit_code != 0 and "No saved configuration named 'nope'." in wrong.output
