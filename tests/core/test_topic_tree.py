"""A topic tree edited as an indented list: leaves, round trips, and lines kept whatever their indent."""

from __future__ import annotations

from forge_tui.core.topic_tree import TopicNode, leaves, parse_tree, topic_source, tree_text

TREE = [
    TopicNode(
        "Astronomy", [TopicNode("Tides", [TopicNode("Spring tides"), TopicNode("Neap tides")]), TopicNode("Comets")]
    )
]


def test_the_leaves_are_the_topics_without_subtopics() -> None:
    assert leaves(TREE) == ["Spring tides", "Neap tides", "Comets"]
    source = topic_source(TREE)
    assert source.values == ["Spring tides", "Neap tides", "Comets"]
    assert source.origin == "topic tree of 'Astronomy'"


def test_a_tree_round_trips_through_its_text() -> None:
    text = tree_text(TREE)
    assert text == "- Astronomy\n  - Tides\n    - Spring tides\n    - Neap tides\n  - Comets\n"
    assert parse_tree(text) == TREE


def test_an_edited_list_keeps_every_line() -> None:
    edited = "Astronomy\n\t* Tides\n\t\t1. Spring tides\n   Comets\n        Long-period comets\n\n- Geology\n"
    roots = parse_tree(edited)
    assert [r.topic for r in roots] == ["Astronomy", "Geology"]
    assert leaves(roots) == ["Spring tides", "Long-period comets", "Geology"]
    assert parse_tree("") == [] and tree_text([]) == ""
