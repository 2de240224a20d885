"""The Examples detail of a grounded example: its passage beside the answer, where it came from in the
title, and the passage's slot not repeated among the slots."""

from __future__ import annotations

from datetime import UTC, datetime

from textual.widgets import Label, Static, TextArea

from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from tests.ui.test_dialogs_zh_tw import Harness

PASSAGE = "Brew green tea at 75 degrees for two minutes."


def grounded(params: dict[str, object]) -> Example:
    now = datetime.now(UTC)
    content = ExampleContent(
        user_prompt=f"Passage from green.md:\n\n{PASSAGE}\n\nWrite one question.",
        output="Question: How hot? Answer: 75 degrees.",
        slots={"chunk": PASSAGE, "source": "green.md"},
    )
    meta = ExampleMeta(model="m", params=params)
    return Example(id="e1", dataset_id=1, content=content, meta=meta, created_at=now, updated_at=now)


async def test_the_passage_is_shown_beside_the_answer() -> None:
    passage = {"set": "tea", "document": "green.md", "position": 1, "line": 5, "slot": "chunk"}
    example = grounded({"seed": 1, "passage": passage})
    dialog = ExampleDetail(example, lambda *_args: example)
    async with Harness(dialog).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        shown = dialog.query_one("#d-passage", TextArea)
        answer = dialog.query_one("#d-output", TextArea)
        assert shown.text == PASSAGE and shown.read_only
        assert shown.region.y == answer.region.y and shown.region.right <= answer.region.x  # side by side
        labels = [str(label.render()) for label in dialog.query(Label)]
        assert "Passage (green.md, line 5)" in labels
        slots = [str(s.render()) for s in dialog.query(Static) if "source = green.md" in str(s.render())]
        assert slots and PASSAGE not in slots[0]


async def test_an_example_without_a_passage_shows_the_answer_alone() -> None:
    example = grounded({"seed": 1})
    dialog = ExampleDetail(example, lambda *_args: example)
    async with Harness(dialog).run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not dialog.query("#d-passage")
        assert dialog.query_one("#d-output", TextArea).text.startswith("Question:")
