"""Which endpoints serve a model (core.endpoints.serves / chosen): Ollama's names without a tag mean
':latest'; Anthropic lists dated ids and takes the alias without the date."""

from __future__ import annotations

import pytest

from forge_tui.core.endpoints import Endpoint, chosen, serves
from forge_tui.core.errors import NotFound

LISTED = ["claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-20250514", "claude-x"]
CLAUDE = Endpoint(name="claude", kind="anthropic", models=LISTED)
OLLAMA = Endpoint(name="gpu1", models=["llama3.2:latest", "claude-sonnet-4-5:7b"])


@pytest.mark.parametrize(
    ("endpoint", "model", "expected"),
    [
        (CLAUDE, "claude-sonnet-4-5-20250929", True),
        (CLAUDE, "claude-sonnet-4-5", True),  # the alias
        (CLAUDE, "claude-opus-4-0", True),
        (CLAUDE, "claude-opus-4-latest", True),
        (CLAUDE, "claude-x", True),
        (CLAUDE, "claude-sonnet-4", False),  # not an alias of claude-sonnet-4-5
        (CLAUDE, "claude-opus-4-1", False),
        (CLAUDE, "claude-sonnet-4-5-2025", False),
        (OLLAMA, "llama3.2", True),
        (OLLAMA, "claude-sonnet-4-5", False),  # Ollama: the tag is :latest, which it does not have
    ],
)
def test_serves(endpoint: Endpoint, model: str, expected: bool) -> None:
    assert serves(endpoint, model) is expected


def test_the_pool_of_an_alias_is_the_anthropic_endpoint() -> None:
    assert chosen([OLLAMA, CLAUDE], "claude-haiku-4-5", None) == [CLAUDE]
    with pytest.raises(NotFound, match="No configured endpoint serves 'claude-opus-4-1'"):
        chosen([OLLAMA, CLAUDE], "claude-opus-4-1", None)
