"""Datasets for the bundle tests: plain answers (with a system prompt, tools, several turns and
reasoning among them), preference pairs, and desirability labels."""

from __future__ import annotations

from forge_tui.core.models import ExampleContent, ExampleMeta
from forge_tui.services.workspace import Workspace

TOOLS = [
    {
        "type": "function",
        "function": {"name": "lookup", "description": "Look a word up.", "parameters": {"type": "object"}},
    }
]
Item = tuple[ExampleContent, ExampleMeta]


def chat_items(count: int = 12) -> list[Item]:
    items: list[Item] = []
    for i in range(count):
        content = ExampleContent(user_prompt=f"Question {i}?", output=f"Answer {i}.")
        meta = ExampleMeta()
        if i % 3 == 0:
            content = content.model_copy(update={"system_prompt": "You are terse."})
        if i == 1:
            content = content.model_copy(update={"reasoning": "Think first."})
        if i == 2:
            turns = [
                {"role": "user", "content": "Hello?"},
                {"role": "assistant", "content": "Hi."},
                {"role": "user", "content": "Question 2?"},
            ]
            content = content.model_copy(update={"turns": turns})
        if i == 4:
            calls = [{"name": "lookup", "arguments": {"word": "river"}}]
            content = content.model_copy(update={"output": "", "tool_calls": calls})
            meta = ExampleMeta(params={"tools": TOOLS})
        if i == 5:  # text and a tool call in one answer
            calls = [{"name": "lookup", "arguments": {"word": "lake"}}]
            content = content.model_copy(update={"output": "Let me look.", "tool_calls": calls})
            meta = ExampleMeta(params={"tools": TOOLS})
        items.append((content, meta))
    return items


def pair_items(count: int = 10) -> list[Item]:
    return [
        (
            ExampleContent(
                system_prompt="You are terse." if i % 2 else "",
                user_prompt=f"Pick {i}?",
                output=f"Good {i}.",
                rejected=[f"Bad {i}."],
            ),
            ExampleMeta(),
        )
        for i in range(count)
    ]


def labelled_items(count: int = 10) -> list[Item]:
    return [
        (
            ExampleContent(user_prompt=f"Rate {i}?", output=f"Reply {i}."),
            ExampleMeta(desirability=i % 3 != 0),
        )
        for i in range(count)
    ]


def stock(workspace: Workspace) -> dict[str, int]:
    """Three datasets, by name: chat, pairs, labels."""
    made = {}
    for name, items in (("chat", chat_items()), ("pairs", pair_items()), ("labels", labelled_items())):
        made[name] = workspace.datasets.create(name).id
        workspace.examples.add_many(made[name], items)
    return made
