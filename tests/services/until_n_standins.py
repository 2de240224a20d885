"""Private stand-ins for the parts of issue 18 written in parallel with "until N pass", installed only
while the real modules are absent from this branch (remove at merge): JUDGE-CORE's
`forge_tui.core.rubrics.builtin_rubrics` and `forge_tui.services.judging.judge_example`, and DEDUP's
`forge_tui.core.dedup.NearDuplicateIndex` (on datasketch's MinHash LSH, as DEDUP's is). With the real
modules present, `install` changes nothing and the tests run against them."""

from __future__ import annotations

import importlib
import json
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from forge_tui.core.chat import ChatMessage, ChatRequest
from forge_tui.core.judging import Judgement
from forge_tui.core.models import Example
from forge_tui.services.model_client import ModelClient

# Untyped, so imported by name (no stubs to give mypy here).
_datasketch = importlib.import_module("datasketch")


@dataclass(frozen=True)
class StandInRubric:
    name: str
    kind: str = "overall"


def builtin_rubrics() -> dict[str, StandInRubric]:
    return {"overall": StandInRubric("overall")}


async def judge_example(
    client: ModelClient,
    rubric: StandInRubric,
    example: Example,
    model: str,
    few_shots: Sequence[Example] = (),
    *,
    max_tokens: int | None = None,
) -> Judgement:
    prompt = f"Score this answer from 1 to 10 as JSON.\nPrompt: {example.content.user_prompt}\n"
    prompt += f"Answer: {example.content.output}"
    request = ChatRequest(model=model, messages=[ChatMessage(role="user", content=prompt)], max_tokens=max_tokens)
    reply = (await client.complete(request)).content
    found = json.loads(reply[reply.index("{") : reply.rindex("}") + 1])
    return Judgement(rubric=rubric.name, model=model, score=found["score"], reason=found.get("reason", ""))


class NearDuplicateIndex:
    def __init__(self, threshold: float = 0.8, num_perm: int = 128) -> None:
        self.num_perm = num_perm
        self.lsh = _datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.hashes: dict[str, Any] = {}

    def add(self, key: str, text: str) -> list[tuple[str, float]]:
        words = re.findall(r"\w+", text.lower())
        shingles = {" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))}
        minhash = _datasketch.MinHash(num_perm=self.num_perm)
        for shingle in shingles:
            minhash.update(shingle.encode())
        found = [(other, minhash.jaccard(self.hashes[other])) for other in self.lsh.query(minhash)]
        self.lsh.insert(key, minhash)
        self.hashes[key] = minhash
        return found


def _module(name: str, **members: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for attribute, value in members.items():
        setattr(module, attribute, value)
    return module


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, module in _missing().items():
        monkeypatch.setitem(sys.modules, name, module)


def install_for_process() -> None:
    """For a child process of its own (tests/until_n_child.py), which ends with its stand-ins."""
    sys.modules.update(_missing())


def _missing() -> dict[str, types.ModuleType]:
    standins = {
        "forge_tui.core.rubrics": _module("forge_tui.core.rubrics", builtin_rubrics=builtin_rubrics),
        "forge_tui.services.judging": _module("forge_tui.services.judging", judge_example=judge_example),
        "forge_tui.core.dedup": _module("forge_tui.core.dedup", NearDuplicateIndex=NearDuplicateIndex),
    }
    missing = {}
    for name, module in standins.items():
        try:
            importlib.import_module(name)
        except ModuleNotFoundError:
            missing[name] = module
    return missing
