"""What a trainer bundle is made of: the settings it is written with, its data files and its trainer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from forge_tui.core.export_formats import ExportFormat

LORA_RANK = 8
EPOCHS = 3
CUTOFF_LEN = 2048
OUTPUT_DIR = "output"  # the folder, inside the bundle, where the trainer writes the adapter
DATA_DIR = "data"


@dataclass(frozen=True)
class BundleSettings:
    dataset: str  # the dataset's name
    stage: str  # sft, dpo or kto
    base_model: str
    chat_format: str  # the chat template family (core.bundle_manifest.chat_format)
    records: int = 0  # records written for training (all splits together); 0 before the data is written
    lora_rank: int = LORA_RANK
    epochs: int = EPOCHS
    shape: str = "sharegpt"  # LLaMA-Factory's data shape: sharegpt or alpaca (KTO data is always sharegpt)


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the bundle folder
    fmt: ExportFormat


@dataclass(frozen=True)
class Trainer:
    name: str
    title: str  # as its project names itself
    stages: tuple[str, ...]  # the stages it trains, sft first
    default_base: str  # a small instruct model it loads as it is
    log: str  # hf-trainer or mlx-lm: how its log lines read
    install: str  # the pip command that installs it
    data: Callable[[BundleSettings], list[DataFile]]  # the data files
    files: Callable[[BundleSettings], dict[str, str]]  # config files and README, by relative path
    command: Callable[[str], list[str]]  # stage -> argv, run in the bundle folder
    base_override: tuple[str, ...]  # argv with "{base_model}" that chooses another base model
    split: bool = False  # the data is split into train/valid/test (mlx-lm)
