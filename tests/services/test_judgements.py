"""Judgements on examples: the score plain on the row (sortable, exported raw), the reason sealed
with the account's keys, moved by a key rotation, gone with the example."""

from __future__ import annotations

from forge_tui.core.example_filter import ReviewFilter
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.services.accounts import AccountService
from forge_tui.services.exporting import export
from forge_tui.services.home import Home
from forge_tui.services.importing import import_file
from forge_tui.services.key_rotation import rotate_key
from forge_tui.services.workspace import Workspace
from tests.passwords import PASSWORD

REASON = "The answer names the wrong river; otherwise clear."


def judged(score: float) -> Judgement:
    return Judgement(
        rubric="overall", model="judge", score=score, criteria={"format": 9.0}, reason=REASON, verdict=None
    )


def test_a_judgement_is_stored_read_cleared_and_its_reason_sealed(workspace: Workspace) -> None:
    dataset = workspace.datasets.create("rivers").id
    first, second = workspace.examples.add_many(
        dataset, [(ExampleContent(user_prompt=f"Q{i}", output="A"), ExampleMeta()) for i in range(2)]
    )
    assert workspace.examples.set_judgements(dataset, [(first, judged(3.5)), ("nope", judged(5))]) == 1
    assert workspace.examples.get(first).meta.score == 3.5
    assert workspace.examples.get(second).meta.score is None
    assert workspace.examples.judgements(dataset, [first, second]) == {first: judged(3.5)}
    assert REASON.encode() not in workspace.home.db_path.read_bytes()
    workspace.examples.set_judgements(dataset, [(first, None)])
    assert workspace.examples.get(first).meta.score is None
    assert workspace.examples.judgements(dataset, [first]) == {}


def test_scores_survive_a_raw_round_trip_and_a_deleted_example_takes_its_judgement(
    workspace: Workspace, tmp_path: object
) -> None:
    from pathlib import Path

    out = Path(str(tmp_path)) / "raw.jsonl"
    dataset = workspace.datasets.create("scored").id
    (example_id,) = workspace.examples.add_many(dataset, [(ExampleContent(user_prompt="Q", output="A"), ExampleMeta())])
    workspace.examples.set_judgements(dataset, [(example_id, judged(8))])
    export(workspace.examples, dataset, FORMATS["raw"], out, review=ReviewFilter.ALL)
    again = workspace.datasets.create("again").id
    import_file(workspace.examples, again, "again", out)
    (copy,) = [e for e in workspace.examples.scan(again) if isinstance(e, Example)]
    assert copy.meta.score == 8.0
    workspace.examples.delete(dataset, [example_id])
    with workspace.home.engine.connect() as c:
        assert c.exec_driver_sql("SELECT count(*) FROM example_judgement").scalar_one() == 0


def test_a_key_rotation_moves_the_judgements(home: Home) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    workspace = Workspace.open(home, accounts.unlock("alice", PASSWORD))
    dataset = workspace.datasets.create("rivers").id
    (example_id,) = workspace.examples.add_many(dataset, [(ExampleContent(user_prompt="Q", output="A"), ExampleMeta())])
    workspace.examples.set_judgements(dataset, [(example_id, judged(6))])
    rotate_key(home, "alice", PASSWORD, lambda step: None)
    after = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    assert after.examples.judgements(dataset, [example_id]) == {example_id: judged(6)}
