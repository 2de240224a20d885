"""`forge-tui dedup DATASET`: runs as a job (listed by `forge-tui jobs` with its counts, --detach),
lists clusters, --dry-run changes nothing, --yes rejects all but the kept one, --json events for
scripts, bad flags are one sentence."""

from __future__ import annotations

import json
import random
import re
import time
from typing import Any

from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.dedup_texts import reword, text
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD


def planted(workspace: Workspace) -> tuple[list[str], list[str]]:
    rng = random.Random(2)
    dataset = workspace.datasets.get("default").id
    base, other = text(rng, 50, 60), text(rng, 50, 60)
    answers = [base, other, reword(rng, base), "Short answer here.", base.upper()]
    ids = workspace.examples.add_many(
        dataset,
        [(ExampleContent(user_prompt="Q", output=a), ExampleMeta(review=ReviewState.UNREVIEWED)) for a in answers],
    )
    return ids, answers


def events(stdout: str) -> dict[str, dict[str, Any]]:
    """The JSON lines of a run by event (the last of each)."""
    return {line["event"]: line for line in map(json.loads, stdout.splitlines())}


def clusters_of(stdout: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = events(stdout)["clusters"]["clusters"]
    return found


def test_dry_run_lists_the_cluster_and_changes_nothing(alice: Cli, workspace_of: Workspace) -> None:
    ids, answers = planted(workspace_of)
    listed = alice("dedup", "default", "--dry-run", "--password-stdin", input=PASSWORD + "\n")
    assert listed.exit_code == 0, listed.output
    assert re.search(r"Cluster 1: 3 examples, similarity 0\.[89]\d\+\n", listed.stdout)
    assert f"  keep {ids[0]}  {answers[0][:40]}" in listed.stdout
    assert f"  drop {ids[2]}" in listed.stdout and f"  drop {ids[4]}" in listed.stdout
    assert ids[1] not in listed.stdout
    assert "default: 1 clusters, 2 examples to reject." in listed.stdout
    assert workspace_of.examples.review_counts(workspace_of.datasets.get("default").id)[ReviewState.REJECTED] == 0


def test_yes_rejects_all_but_the_kept_one_and_json_lists_pairs(alice: Cli, workspace_of: Workspace) -> None:
    ids, _answers = planted(workspace_of)
    refused = alice("dedup", "default", "--password-stdin", input=PASSWORD + "\n")
    assert refused.exit_code == 2 and "pass --yes" in refused.stderr
    done = alice("dedup", "default", "--keep", "longest", "--yes", "--json", "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    shown = events(done.stdout)
    assert shown["plan"]["examples"] == 5 and shown["done"]["status"] == "done"
    assert shown["done"]["results"] == {"examples": 5, "clusters": 1, "dropped": 2}
    (cluster,) = clusters_of(done.stdout)
    assert cluster["size"] == 3 and not cluster["exact"] and cluster["kept"] in (ids[0], ids[4])
    assert {(p["a"], p["b"]) for p in cluster["pairs"]} >= {(ids[0], ids[4])}
    states = {i: workspace_of.examples.get(i).meta.review for i in ids}
    assert [i for i, s in states.items() if s is ReviewState.REJECTED] == [
        m for m in (ids[0], ids[2], ids[4]) if m != cluster["kept"]
    ]


def test_exact_only_and_bad_flags(alice: Cli, workspace_of: Workspace) -> None:
    ids, _answers = planted(workspace_of)
    exact = alice("dedup", "default", "--exact-only", "--dry-run", "--json", "--password-stdin", input=PASSWORD + "\n")
    assert [[m["id"] for m in c["members"]] for c in clusters_of(exact.stdout)] == [[ids[0], ids[4]]]
    bad = alice("dedup", "default", "--keep", "shortest", "--password-stdin", input=PASSWORD + "\n")
    assert bad.exit_code == 2 and "--keep takes first, best-score or longest" in bad.stderr
    threshold = alice("dedup", "default", "--threshold", "3", "--password-stdin", input=PASSWORD + "\n")
    assert threshold.exit_code == 2 and "threshold must be between" in threshold.stderr
    missing = alice("dedup", "nope", "--password-stdin", input=PASSWORD + "\n")
    assert missing.exit_code == 5


def test_the_job_is_listed_with_its_counts_and_detach_runs_it_in_its_own_process(
    alice: Cli, workspace_of: Workspace
) -> None:
    planted(workspace_of)
    done = alice("dedup", "default", "--yes", "--password-stdin", input=PASSWORD + "\n")
    assert done.exit_code == 0, done.output
    assert "Dedup: 5 examples, 1 clusters, 2 dropped." in done.stdout
    assert "default: 1 clusters, 2 examples rejected." in done.stdout
    listed = alice("jobs", "list", "--password-stdin", input=PASSWORD + "\n")
    assert re.search(r"Dedup 5 examples \(similarity 0\.8\+\)  \(5 examples, 1 clusters, 2 dropped\)", listed.stdout)
    shown = alice("jobs", "show", "1", "--password-stdin", input=PASSWORD + "\n")
    assert "counts    5 examples, 1 clusters, 2 dropped" in shown.stdout

    detached = alice("dedup", "default", "--dry-run", "--detach", "--json", "--password-stdin", input=PASSWORD + "\n")
    assert detached.exit_code == 0, detached.output
    job_id = events(detached.stdout)["detached"]["id"]
    deadline = time.monotonic() + 30
    while True:
        state = alice("jobs", "show", str(job_id), "--json", "--password-stdin", input=PASSWORD + "\n")
        if json.loads(state.stdout)["status"] == "done":
            break
        assert time.monotonic() < deadline, state.stdout
        time.sleep(0.2)
    assert json.loads(state.stdout)["results"] == {"examples": 3, "clusters": 0, "dropped": 0}


def test_embeddings_ask_the_server(alice: Cli, workspace_of: Workspace, fake: FakeOllama) -> None:
    ids, _answers = planted(workspace_of)
    args = ("dedup", "default", "--embeddings", "llama3.2", "--url", fake.base_url, "--threshold", "0.9")
    listed = alice(*args, "--dry-run", "--json", "--password-stdin", input=PASSWORD + "\n")
    assert listed.exit_code == 0, listed.output
    assert [[m["id"] for m in c["members"]] for c in clusters_of(listed.stdout)] == [[ids[0], ids[2], ids[4]]]
    missing = alice(*args[:3], "nope", *args[4:], "--dry-run", "--password-stdin", input=PASSWORD + "\n")
    assert missing.exit_code == 6 and "nope" in missing.stderr
