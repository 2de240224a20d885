"""forge-bundle.json, the stage a dataset can feed, and the chat template family of a base model.

The manifest is the contract between `forge-tui bundle` and `forge-tui train`/`deploy`: `command`
runs in the bundle folder, `base_override` (with "{base_model}" replaced) chooses another base model,
and the trainer writes into `output_dir`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from forge_tui.core.bundle_types import OUTPUT_DIR, BundleSettings, Trainer
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

MANIFEST_NAME = "forge-bundle.json"
BUNDLE_FORMAT = 1
STAGES = ("sft", "dpo", "kto")

# Substrings of a model id (lower case) and the chat template family they mean, most specific first.
_FAMILIES = (
    ("gemma-3", "gemma3"),
    ("gemma3", "gemma3"),
    ("gemma", "gemma"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("llama-2", "llama2"),
    ("llama2", "llama2"),
    ("qwen3", "qwen3"),
    ("qwen", "qwen2"),
    ("mistral", "mistral"),
    ("phi-3", "phi3"),
    ("phi3", "phi3"),
)
CHAT_FORMATS = ("gemma3", "gemma", "llama3", "llama2", "qwen3", "qwen2", "mistral", "phi3", "chatml")


def chat_format(base_model: str) -> str:
    """The chat template family of a base model, read from its id; chatml when the id says nothing."""
    lowered = base_model.lower()
    return next((family for part, family in _FAMILIES if part in lowered), "chatml")


@dataclass(frozen=True)
class DataCounts:
    examples: int  # examples written (not rejected)
    pairs: int  # of them, with at least one rejected answer (their own or a rejected sibling's)
    labelled: int  # of them, with a desirability label


def choose_stage(counts: DataCounts, trainer: Trainer, asked: str | None) -> str:
    """The stage asked for, when the data can feed it and the trainer trains it; else the one the data
    says: dpo when at least half the examples have a pair, kto when at least half have a desirability
    label, sft otherwise (or when the trainer trains neither)."""
    if asked is not None:
        stage = asked.strip().lower()
        if stage not in STAGES:
            raise InvalidInput(_("The stage is sft, dpo or kto, not '{stage}'.").format(stage=asked[:40]))
        if stage not in trainer.stages:
            raise InvalidInput(
                _("{trainer} trains only {stages}, not {stage}.").format(
                    trainer=trainer.title, stages=", ".join(trainer.stages), stage=stage
                )
            )
        if stage == "dpo" and not counts.pairs:
            raise InvalidInput(_("The dpo stage needs examples with a rejected answer, and this dataset has none."))
        if stage == "kto" and not counts.labelled:
            raise InvalidInput(_("The kto stage needs examples with a desirability label, and this dataset has none."))
        return stage
    if counts.pairs and counts.pairs * 2 >= counts.examples and "dpo" in trainer.stages:
        return "dpo"
    if counts.labelled and counts.labelled * 2 >= counts.examples and "kto" in trainer.stages:
        return "kto"
    return "sft"


def manifest(trainer: Trainer, settings: BundleSettings) -> dict[str, Any]:
    return {
        "format": BUNDLE_FORMAT,
        "trainer": trainer.name,
        "stage": settings.stage,
        "dataset": settings.dataset,
        "examples": settings.records,
        "base_model": settings.base_model,
        "chat_format": settings.chat_format,
        "command": trainer.command(settings.stage),
        "base_override": list(trainer.base_override),
        "output_dir": OUTPUT_DIR,
        "log": trainer.log,
    }


def manifest_text(trainer: Trainer, settings: BundleSettings) -> str:
    return json.dumps(manifest(trainer, settings), ensure_ascii=False, indent=2) + "\n"
