"""`slot=tree:PATH`: a topic tree written as an indented list gives its leaves to a slot, through the
same grammar as the form and the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.core.generation import TOPIC_TEMPLATE, SourceType
from forge_tui.services.generation_jobs import JobForm, generation_plan, parse_sources, spec_from_form

TREE = """\
- ocean science
  - tides
    - spring tides
    - neap tides
  - currents
* volcanoes
\t1. lava
"""


def form(sources: str, count: int = 8) -> JobForm:
    return JobForm(template_id=None, dataset_id=1, count=str(count), model="m", seed="3", sources=sources)


def test_the_leaves_of_a_tree_file_are_the_slots_values(tmp_path: Path) -> None:
    path = tmp_path / "topics.md"
    path.write_text(TREE, encoding="utf-8")
    spec = spec_from_form(form(f"topic=tree:{path}"), TOPIC_TEMPLATE)
    source = spec.sources["topic"]
    assert source.type is SourceType.VALUES
    assert source.values == ["spring tides", "neap tides", "currents", "lava"]
    plan = generation_plan(spec)
    assert dict(plan.spread["topic"]) == {"spring tides": 2, "neap tides": 2, "currents": 2, "lava": 2}


def test_tree_is_parsed_as_a_file_reference_not_refused() -> None:
    sources, refs = parse_sources("topic=tree: ~/trees/ocean.txt ")
    assert sources == {} and refs["topic"].origin == "tree" and refs["topic"].where == "~/trees/ocean.txt"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (None, "there is no such file"),
        ("\n   \n", "holds no topics"),
    ],
)
def test_a_missing_or_empty_tree_is_one_sentence(tmp_path: Path, text: str | None, said: str) -> None:
    path = tmp_path / "tree.txt"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ForgeError, match=said) as raised:
        spec_from_form(form(f"topic=tree:{path}"), TOPIC_TEMPLATE)
    assert "\n" not in str(raised.value)


def test_tree_without_a_path_is_refused_with_the_grammar() -> None:
    with pytest.raises(InvalidInput, match="tree:PATH"):
        parse_sources("topic=tree:")
