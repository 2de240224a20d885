"""Several OS processes on one data directory (DESIGN §2–3): the rate limit and writers share the file."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from forge_tui.core.models import Example
from forge_tui.services.accounts import AccountService
from forge_tui.services.datasets import DatasetService
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import open_home
from tests.passwords import PASSWORD

pytestmark = pytest.mark.slow

CHILD_TIMEOUT = 120


@dataclass
class ChildResult:
    returncode: int
    stdout: str
    stderr: str

    def last_json(self) -> Any:
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1])


def run_together(script: str, args: list[list[str]]) -> list[ChildResult]:
    """Starts one child per argument list; each imports what it needs, prints READY and waits for GO on
    stdin, so the interesting part runs in all of them at the same moment."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(script), *a],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    try:
        for child in children:
            assert child.stdout is not None
            line = child.stdout.readline()
            if line.strip() != "READY":
                _, err = child.communicate(timeout=CHILD_TIMEOUT)
                raise AssertionError(f"child did not start: {line!r}\n{err}")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("GO\n")
            child.stdin.flush()
        results = []
        for child in children:
            out, err = child.communicate(timeout=CHILD_TIMEOUT)
            results.append(ChildResult(child.returncode, out, err))
        return results
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


UNLOCK_CHILD = """
import json, sys
from forge_tui.services.accounts import AccountService, AuthFailed, TooManyAttempts
from forge_tui.services.home import open_home

home = open_home(sys.argv[1])
accounts = AccountService(home)
print("READY", flush=True)
sys.stdin.readline()
outcomes = []
for _ in range(5):
    try:
        accounts.unlock("alice", "not the password")
        outcomes.append("ok")
    except TooManyAttempts as exc:
        outcomes.append("TooManyAttempts")
    except AuthFailed:
        outcomes.append("AuthFailed")
home.close()
print(json.dumps(outcomes), flush=True)
"""


def test_rate_limit_holds_across_processes(fast_home_dir: Path) -> None:
    home = open_home(fast_home_dir)
    try:
        AccountService(home).create_user("alice", "", PASSWORD)
    finally:
        home.close()

    results = run_together(UNLOCK_CHILD, [[str(fast_home_dir)], [str(fast_home_dir)]])

    for r in results:
        assert r.returncode == 0, r.stderr
        assert "database is locked" not in r.stderr
    outcomes = [o for r in results for o in r.last_json()]
    assert len(outcomes) == 10
    assert outcomes.count("AuthFailed") == 5, outcomes
    assert outcomes.count("TooManyAttempts") == 5, outcomes

    home = open_home(fast_home_dir)
    try:
        assert AccountService(home).wait_seconds("alice") > 0
    finally:
        home.close()


INSERT_CHILD = """
import json, sys, time
from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService
from forge_tui.services.examples import ExampleService
from forge_tui.services.home import open_home

path, dataset_id, tag, count, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
home = open_home(path)
unlocked = AccountService(home).unlock("alice", password)
service = ExampleService(home, unlocked)
print("READY", flush=True)
sys.stdin.readline()
started = time.time()
for n in range(count):
    service.add(
        dataset_id,
        ExampleContent(user_prompt=f"{tag} question {n}", output=f"{tag} answer {n}", slots={"n": str(n)}),
        ExampleMeta(model=tag),
    )
finished = time.time()
home.close()
print(json.dumps({"started": started, "finished": finished}), flush=True)
"""


def test_two_processes_insert_into_one_dataset(fast_home_dir: Path) -> None:
    per_child = 500
    home = open_home(fast_home_dir)
    try:
        accounts = AccountService(home)
        accounts.create_user("alice", "", PASSWORD)
        unlocked = accounts.unlock("alice", PASSWORD)
        current = DatasetService(home, unlocked.user).current()
        assert current is not None
        dataset_id = current.id
    finally:
        home.close()

    results = run_together(
        INSERT_CHILD,
        [[str(fast_home_dir), str(dataset_id), tag, str(per_child), PASSWORD] for tag in ("left", "right")],
    )

    for r in results:
        assert r.returncode == 0, r.stderr
        assert "database is locked" not in r.stderr, r.stderr
    spans = [r.last_json() for r in results]
    # The two writers really ran at the same time.
    assert max(s["started"] for s in spans) < min(s["finished"] for s in spans), spans

    home = open_home(fast_home_dir)
    try:
        unlocked = AccountService(home).unlock("alice", PASSWORD)
        assert DatasetService(home, unlocked.user).get(dataset_id).example_count == 2 * per_child
        items = list(ExampleService(home, unlocked).scan(dataset_id))
    finally:
        home.close()
    assert len(items) == 2 * per_child
    examples = [i for i in items if isinstance(i, Example)]
    assert len(examples) == len(items), [i for i in items if not isinstance(i, Example)][:3]
    assert len({e.id for e in examples}) == 2 * per_child
    for tag in ("left", "right"):
        outputs = {e.content.output for e in examples if e.meta.model == tag}
        assert outputs == {f"{tag} answer {n}" for n in range(per_child)}
