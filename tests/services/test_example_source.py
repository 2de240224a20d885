"""Where an example came from and its review state are stored with it, plain, and checked on reading."""

from __future__ import annotations

from forge_tui.core.models import Example, ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.services.examples import BrokenExample
from forge_tui.services.workspace import Workspace


def test_source_job_review_and_language_flag_round_trip(workspace: Workspace) -> None:
    dataset = workspace.datasets.current()
    assert dataset is not None
    meta = ExampleMeta(source=ExampleSource.JOB, job_id=7, review=ReviewState.UNREVIEWED, language_flag="Simplified")
    made = workspace.examples.add(dataset.id, ExampleContent(user_prompt="q", output="a"), meta)
    kept = workspace.examples.add(dataset.id, ExampleContent(user_prompt="q2", output="b"))
    found = {e.id: e.meta for e in workspace.examples.scan(dataset.id) if isinstance(e, Example)}
    assert (found[made].source, found[made].job_id, found[made].review, found[made].language_flag) == (
        ExampleSource.JOB, 7, ReviewState.UNREVIEWED, "Simplified",
    )  # fmt: skip
    assert (found[kept].source, found[kept].review, found[kept].job_id) == (
        ExampleSource.AUDITION, ReviewState.ACCEPTED, None,
    )  # fmt: skip


def test_an_unknown_review_state_is_named_as_damage(workspace: Workspace) -> None:
    dataset = workspace.datasets.current()
    assert dataset is not None
    made = workspace.examples.add(dataset.id, ExampleContent(user_prompt="q", output="a"))
    with workspace.home.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE example SET review = 'maybe' WHERE id = ?", (made,))
    (broken,) = [e for e in workspace.examples.scan(dataset.id) if isinstance(e, BrokenExample)]
    assert "review" in broken.reason and "accepted" in broken.reason
