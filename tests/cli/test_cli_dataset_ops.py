"""`forge-tui datasets merge|sample|split|copy|move` through the real command line."""

from __future__ import annotations

import json
from collections import Counter

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"


def stock(workspace: Workspace, name: str, count: int) -> list[str]:
    ds = workspace.datasets.create(name)
    items = [
        (ExampleContent(user_prompt=f"{name} q{i}", output=f"{name} a{i}", slots={"tone": "a" if i % 4 else "b"},
                        reasoning=f"why {i}", extra={"k": i}), ExampleMeta(model="m", score=7.0))
        for i in range(count)
    ]  # fmt: skip
    return workspace.examples.add_many(ds.id, items)


def outputs(workspace: Workspace, name: str) -> list[Example]:
    return [e for e in workspace.examples.scan(workspace.datasets.get(name).id) if isinstance(e, Example)]


def test_merge_sample_split_with_json_and_yes(alice: Cli, workspace_of: Workspace) -> None:
    stock(workspace_of, "a", 12)
    stock(workspace_of, "b", 8)
    merged = alice("datasets", "merge", "a", "b", "--into", "c", "--json", "--password-stdin", input=STDIN)
    assert merged.exit_code == 0, merged.output
    assert json.loads(merged.stdout) == {
        "dataset": "c", "examples": 20, "created": True, "replaced": 0, "duplicates": 0, "damaged": 0,
    }  # fmt: skip
    c = outputs(workspace_of, "c")
    assert c[0].content.reasoning == "why 0" and c[0].content.extra == {"k": 0} and c[0].meta.score == 7.0

    again = alice("datasets", "merge", "a", "b", "--into", "c", "--password-stdin", input=STDIN)
    assert again.exit_code == 1 and "--yes replaces" in again.stderr and "Traceback" not in again.output
    assert len(outputs(workspace_of, "c")) == 20

    sample = ["datasets", "sample", "c", "--n", "8", "--stratify", "slot:tone", "--seed", "7", "--into", "s"]
    sampled = alice(*sample, "--password-stdin", input=STDIN)
    assert sampled.exit_code == 0, sampled.output
    assert sampled.stdout.strip() == "s: 8 examples (created)."
    first = [e.content.output for e in outputs(workspace_of, "s")]
    assert Counter(e.content.slots["tone"] for e in outputs(workspace_of, "s")) == {"a": 6, "b": 2}
    replaced = alice(*sample, "--yes", "--password-stdin", input=STDIN)
    assert replaced.exit_code == 0 and "8 replaced" in replaced.stdout
    assert [e.content.output for e in outputs(workspace_of, "s")] == first

    split = alice("datasets", "split", "c", "--valid", "0.1", "--test", "0.1", "--seed", "7", "--json",
                  "--password-stdin", input=STDIN)  # fmt: skip
    assert split.exit_code == 0, split.output
    assert [(p["dataset"], p["examples"]) for p in json.loads(split.stdout)] == [
        ("c-train", 16), ("c-valid", 2), ("c-test", 2),
    ]  # fmt: skip

    bad = alice("datasets", "sample", "c", "--n", "3", "--stratify", "colour", "--into", "z", "--password-stdin",
                input=STDIN)  # fmt: skip
    assert bad.exit_code == 2 and "Cannot stratify by 'colour'" in bad.stderr


def test_copy_and_move_ids(alice: Cli, workspace_of: Workspace) -> None:
    ids = stock(workspace_of, "a", 4)
    copied = alice("datasets", "copy", "--ids", f"{ids[0]},{ids[1]}", "--to", "b", "--password-stdin", input=STDIN)
    assert copied.exit_code == 0, copied.output
    moved = alice("datasets", "move", "--ids", ids[3], "--to", "b", "--json", "--password-stdin", input=STDIN)
    assert moved.exit_code == 0 and json.loads(moved.stdout)["examples"] == 1
    assert sorted(e.content.output for e in outputs(workspace_of, "b")) == ["a a0", "a a1", "a a3"]
    assert [e.id for e in outputs(workspace_of, "a")] == ids[:3]
    missing = alice("datasets", "move", "--ids", "nope", "--to", "b", "--password-stdin", input=STDIN)
    assert missing.exit_code != 0 and "No example with id nope." in missing.stderr
