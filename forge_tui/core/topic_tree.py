"""A topic tree: a seed topic, its subtopics and theirs; the leaves become a slot's values. The user
edits it as an indented list, one topic a line (no I/O)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from forge_tui.core.bounded_text import clip
from forge_tui.core.generation import SlotSource

INDENT = "  "
_MARK = re.compile(r"^(?:[-*•]|\d+[.)])\s+")


@dataclass
class TopicNode:
    topic: str
    children: list[TopicNode] = field(default_factory=list)

    def leaves(self) -> list[str]:
        """The topics without subtopics, in order, each once."""
        if not self.children:
            return [self.topic]
        return list(dict.fromkeys(leaf for child in self.children for leaf in child.leaves()))


def tree_text(roots: list[TopicNode]) -> str:
    """The tree as an indented list: two spaces a level, a "- " before each topic."""
    lines: list[str] = []

    def walk(node: TopicNode, depth: int) -> None:
        lines.append(f"{INDENT * depth}- {node.topic}")
        for child in node.children:
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return "\n".join(lines) + ("\n" if lines else "")


def parse_tree(text: str) -> list[TopicNode]:
    """The trees of an indented list (spaces or tabs; "-", "*" or "1." marks optional). A line
    indented deeper than the one before it is its subtopic, however deep; every line is kept."""
    roots: list[TopicNode] = []
    stack: list[tuple[int, TopicNode]] = []
    for line in text.expandtabs(4).splitlines():
        topic = _MARK.sub("", line.strip()).strip()
        if not topic:
            continue
        depth = len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())
        node = TopicNode(topic)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        (stack[-1][1].children if stack else roots).append(node)
        stack.append((depth, node))
    return roots


def leaves(roots: list[TopicNode]) -> list[str]:
    return list(dict.fromkeys(leaf for root in roots for leaf in root.leaves()))


def topic_source(roots: list[TopicNode]) -> SlotSource:
    """The leaves as a slot's values."""
    seeds = ", ".join(f"'{clip(root.topic)}'" for root in roots[:3]) + (", …" if len(roots) > 3 else "")
    return SlotSource.of_values(leaves(roots), origin=f"topic tree of {seeds}")
