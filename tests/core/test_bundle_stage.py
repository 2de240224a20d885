"""The stage a bundle trains, chosen from the data (or asked for and checked), the chat template
family read from a base model's id, and the YAML the bundles' configs are written in."""

from __future__ import annotations

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with datasets (the test extra); no stubs installed

from forge_tui.core import yaml_text
from forge_tui.core.bundle_manifest import DataCounts, chat_format, choose_stage
from forge_tui.core.bundle_mlx import split
from forge_tui.core.bundle_trainers import TRAINERS, trainer
from forge_tui.core.errors import InvalidInput

TRL = TRAINERS["trl"]
MLX = TRAINERS["mlx-lm"]


def test_stage_follows_the_data() -> None:
    assert choose_stage(DataCounts(10, 0, 0), TRL, None) == "sft"
    assert choose_stage(DataCounts(10, 5, 0), TRL, None) == "dpo"
    assert choose_stage(DataCounts(10, 1, 0), TRL, None) == "sft"  # a few pairs among answers: still sft
    assert choose_stage(DataCounts(10, 0, 10), TRL, None) == "kto"
    assert choose_stage(DataCounts(10, 10, 10), TRL, None) == "dpo"
    assert choose_stage(DataCounts(10, 10, 10), MLX, None) == "sft"  # mlx-lm trains sft only


def test_asked_stage_is_checked_against_data_and_trainer() -> None:
    assert choose_stage(DataCounts(10, 1, 0), TRL, "DPO") == "dpo"
    with pytest.raises(InvalidInput, match="rejected answer"):
        choose_stage(DataCounts(10, 0, 3), TRL, "dpo")
    with pytest.raises(InvalidInput, match="desirability label"):
        choose_stage(DataCounts(10, 3, 0), TRL, "kto")
    with pytest.raises(InvalidInput, match="MLX-LM trains only sft"):
        choose_stage(DataCounts(10, 10, 0), MLX, "dpo")
    with pytest.raises(InvalidInput, match="sft, dpo or kto"):
        choose_stage(DataCounts(10, 0, 0), TRL, "ppo")
    with pytest.raises(InvalidInput, match="trl, llamafactory, mlx-lm, axolotl, unsloth"):
        trainer("torchtune")


def test_chat_format_from_model_id() -> None:
    assert chat_format("google/gemma-3-270m-it") == "gemma3"
    assert chat_format("meta-llama/Llama-3.2-1B-Instruct") == "llama3"
    assert chat_format("Qwen/Qwen2.5-0.5B-Instruct") == "qwen2"
    assert chat_format("Qwen/Qwen3-0.6B") == "qwen3"
    assert chat_format("mistralai/Mistral-7B-Instruct-v0.3") == "mistral"
    assert chat_format("./my-model") == "chatml"


def test_mlx_split_is_seeded_and_never_leaves_valid_empty() -> None:
    assert split(1).valid == [0]
    for count in range(2, 40):
        parts = split(count)
        assert parts.valid and sorted(parts.train + parts.valid + parts.test) == list(range(count))
        assert parts == split(count)


def test_yaml_reads_back() -> None:
    data = {
        "text": "a: b # c",
        "rate": 5e-06,
        "whole": 3.0,
        "flag": False,
        "none": None,
        "names": ["a", 1],
        "nested": {"rank": 8},
        "datasets": [{"path": "data/train.jsonl", "type": {"field_prompt": "prompt"}}],
    }
    assert yaml.safe_load(yaml_text.dump(data, "a header\nof two lines")) == data
