"""MLX-LM bundles: `train.jsonl`, `valid.jsonl` (and `test.jsonl`) in mlx-lm's chat shape
(`messages`), and `lora_config.yaml` for `mlx_lm.lora --config` with the keys of mlx_lm/lora.py's
CONFIG_DEFAULTS. mlx-lm trains SFT only.

mlx-lm reads each of the three files it finds and fails on an empty one, and needs at least one
batch of each of train and valid: the split keeps valid non-empty from two records on, writes test
only when there are records to spare, and the batch size fits the smaller of train and valid.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from forge_tui.core import yaml_text
from forge_tui.core.bundle_chat import CHAT
from forge_tui.core.bundle_readme import Setting, readme
from forge_tui.core.bundle_types import DATA_DIR, OUTPUT_DIR, BundleSettings, DataFile, Trainer

ALL_FILE = f"{DATA_DIR}/all.jsonl"  # written first, then split; not left in the bundle
SPLIT_NAMES = ("train", "valid", "test")
BATCH_SIZE = 4
LEARNING_RATE = 1e-5


@dataclass(frozen=True)
class Split:
    train: list[int]
    valid: list[int]
    test: list[int]


def split(count: int, seed: int = 0) -> Split:
    """Record numbers per file: a tenth (at least one) to valid and, from three records on, a tenth (at
    least one) to test; a single record is both train and valid."""
    if count == 1:
        return Split([0], [0], [])
    order = list(range(count))
    random.Random(seed).shuffle(order)
    held = max(1, count // 10) if count >= 2 else 0
    tested = max(1, count // 10) if count >= 3 else 0
    valid, test, train = order[:held], order[held : held + tested], order[held + tested :]
    return Split(sorted(train), sorted(valid), sorted(test))


def sizes(settings: BundleSettings) -> Split:
    return split(settings.records)


def data(settings: BundleSettings) -> list[DataFile]:
    return [DataFile(ALL_FILE, CHAT)]


def config(settings: BundleSettings) -> dict[str, Any]:
    parts = sizes(settings)
    batch = max(1, min(BATCH_SIZE, len(parts.train), len(parts.valid)))
    iters = max(1, settings.epochs * math.ceil(len(parts.train) / batch))
    return {
        "model": settings.base_model,
        "train": True,
        "fine_tune_type": "lora",
        "optimizer": "adam",
        "data": DATA_DIR,
        "seed": 0,
        "num_layers": 16,
        "batch_size": batch,
        "iters": iters,
        "val_batches": 25,
        "learning_rate": LEARNING_RATE,
        "steps_per_report": 1,
        "steps_per_eval": min(200, iters),
        "adapter_path": OUTPUT_DIR,
        "save_every": 100,
        "test": bool(parts.test),
        "max_seq_length": 2048,
        "grad_checkpoint": False,
        "mask_prompt": False,
        "lora_parameters": {"rank": settings.lora_rank, "dropout": 0.0, "scale": 20.0},
    }


def command(stage: str) -> list[str]:
    return ["mlx_lm.lora", "--config", "lora_config.yaml"]


def files(settings: BundleSettings) -> dict[str, str]:
    parts = sizes(settings)
    values = config(settings)
    header = "MLX-LM LoRA fine-tuning, written by forge-tui: mlx_lm.lora --config lora_config.yaml"
    listed = [(f"{DATA_DIR}/train.jsonl", f"{len(parts.train)} training records (`messages`)"),
              (f"{DATA_DIR}/valid.jsonl", f"{len(parts.valid)} validation records")]  # fmt: skip
    if parts.test:
        listed.append((f"{DATA_DIR}/test.jsonl", f"{len(parts.test)} test records"))
    return {
        "lora_config.yaml": yaml_text.dump(values, header),
        "README.md": readme(
            TRAINER,
            settings,
            [*listed, ("lora_config.yaml", "the trainer's settings")],
            [
                Setting("Base model", "", "`model` in `lora_config.yaml`, or `--model MODEL`"),
                Setting("LoRA rank", str(settings.lora_rank), "`lora_parameters.rank` in `lora_config.yaml`"),
                Setting(
                    "Epochs",
                    f"{settings.epochs} ({values['iters']} iterations of {values['batch_size']})",
                    "`iters` in `lora_config.yaml`, or `--iters N`",
                ),
                Setting("Layers tuned", "16", "`num_layers` in `lora_config.yaml`"),
            ],
            [
                "mlx-lm runs on Apple silicon. The base model's tokenizer supplies the chat template; "
                "mlx-community's converted models load fastest.",
                "train, valid and test are a seeded split of the records (seed 0).",
            ],
        ),
    }


TRAINER = Trainer(
    name="mlx-lm",
    title="MLX-LM",
    stages=("sft",),
    default_base="mlx-community/Qwen2.5-0.5B-Instruct-4bit",
    log="mlx-lm",
    install="pip install mlx-lm",
    data=data,
    files=files,
    command=command,
    base_override=("--model", "{base_model}"),
    split=True,
)
