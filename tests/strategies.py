"""Hypothesis strategies for whole examples: any content and metadata an example may hold, extras named
like the example's own fields among them."""

from __future__ import annotations

from hypothesis import strategies as st

from forge_tui.core.models import ExampleContent, ExampleMeta, ExampleSource, ReviewState
from forge_tui.core.raw_records import RAW_NAMES

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
# Extra names: anything, the example's own field names (and "extra") among them.
NAMES = st.one_of(TEXT, st.sampled_from(sorted(RAW_NAMES)))
CALL = st.fixed_dictionaries({"name": TEXT.filter(bool), "arguments": st.dictionaries(TEXT, JSON, max_size=2)})
TURN = st.one_of(
    st.fixed_dictionaries({"role": st.just("user"), "content": TEXT}),
    st.fixed_dictionaries(
        {"role": st.just("assistant"), "content": TEXT},
        optional={"reasoning": TEXT, "tool_calls": st.lists(CALL, min_size=1, max_size=2), "loss_weight": JSON},
    ),
    st.fixed_dictionaries({"role": st.just("tool"), "content": TEXT}, optional={"tool_call_id": TEXT}),
)
CONTENT = st.builds(
    ExampleContent,
    system_prompt=TEXT,
    user_prompt=TEXT,
    slots=st.dictionaries(TEXT, TEXT, max_size=2),
    output=TEXT,
    tool_calls=st.lists(CALL, max_size=2),
    rejected=st.lists(TEXT, max_size=2),
    turns=st.lists(TURN, max_size=4),
    reasoning=TEXT,
    extra=st.dictionaries(NAMES, JSON, max_size=4),
)
META = st.builds(
    ExampleMeta,
    model=TEXT,
    params=st.dictionaries(TEXT, JSON, max_size=2),
    prompt_tokens=st.none() | st.integers(0, 10**6),
    completion_tokens=st.none() | st.integers(0, 10**6),
    desirability=st.none() | st.booleans(),
    source=st.sampled_from(ExampleSource),
    review=st.sampled_from(ReviewState),
    language_flag=st.none() | TEXT.filter(bool),
)
