"""TRL bundles: `trl sft|dpo|kto --config <stage>_config.yaml` on the data in TRL's own dataset types.

SFT data is conversational (`messages`, with `tools`), DPO data conversational preference (`prompt`,
`chosen`, `rejected`), KTO data conversational unpaired preference (`prompt`, `completion`, `label`).
The chat template is the base model's tokenizer's: none is written here.
"""

from __future__ import annotations

from typing import Any

from forge_tui.core import yaml_text
from forge_tui.core.bundle_chat import CHAT
from forge_tui.core.bundle_readme import Setting, readme
from forge_tui.core.bundle_types import DATA_DIR, OUTPUT_DIR, BundleSettings, DataFile, Trainer
from forge_tui.core.export_formats import FORMATS

DATA_FORMAT = {"sft": CHAT, "dpo": FORMATS["trl-preference"], "kto": FORMATS["trl-kto"]}
LEARNING_RATE = {"sft": 2e-4, "dpo": 5e-6, "kto": 5e-6}
TRAIN_FILE = f"{DATA_DIR}/train.jsonl"


def config_name(stage: str) -> str:
    return f"{stage}_config.yaml"


def data(settings: BundleSettings) -> list[DataFile]:
    return [DataFile(TRAIN_FILE, DATA_FORMAT[settings.stage])]


def command(stage: str) -> list[str]:
    return ["trl", stage, "--config", config_name(stage)]


def config(settings: BundleSettings) -> dict[str, Any]:
    stage = settings.stage
    values: dict[str, Any] = {
        "model_name_or_path": settings.base_model,
        "dataset_name": DATA_DIR,  # a local folder: datasets reads train.jsonl as the train split
        "output_dir": OUTPUT_DIR,
        "use_peft": True,
        "lora_r": settings.lora_rank,
        "lora_alpha": settings.lora_rank * 2,
        "lora_dropout": 0.05,
        "num_train_epochs": settings.epochs,
        "learning_rate": LEARNING_RATE[stage],
        "per_device_train_batch_size": 2,
        "gradient_accumulation_steps": 4,
        "logging_steps": 1,
        "save_strategy": "epoch",
        "report_to": "none",
    }
    if stage == "dpo":
        values["beta"] = 0.1
    return values


def files(settings: BundleSettings) -> dict[str, str]:
    name = config_name(settings.stage)
    header = (
        f"TRL {settings.stage.upper()} with a LoRA adapter, written by forge-tui: trl {settings.stage} --config {name}"
    )
    shapes = {
        "sft": "conversational records: messages (and tools)",
        "dpo": "conversational preference records: prompt, chosen, rejected",
        "kto": "conversational unpaired preference records: prompt, completion, label",
    }
    return {
        name: yaml_text.dump(config(settings), header),
        "README.md": readme(
            TRAINER,
            settings,
            [(TRAIN_FILE, f"the data, TRL {shapes[settings.stage]}"), (name, "the trainer's settings")],
            [
                Setting("Base model", "", f"`model_name_or_path` in `{name}`, or `--model_name_or_path`"),
                Setting("LoRA rank", str(settings.lora_rank), f"`lora_r` (and `lora_alpha`) in `{name}`"),
                Setting("Epochs", str(settings.epochs), f"`num_train_epochs` in `{name}`"),
                Setting("Learning rate", str(LEARNING_RATE[settings.stage]), f"`learning_rate` in `{name}`"),
            ],
            [
                "The chat template is the base model's own (its tokenizer's `chat_template`): choose an "
                "instruct or chat model, or one whose tokenizer has a template.",
                "Any key of TRL's config classes can be added to the YAML or given on the command line "
                "(e.g. `--max_steps 3`); on a machine without a GPU add `--use_cpu true --bf16 false`.",
            ],
        ),
    }


TRAINER = Trainer(
    name="trl",
    title="TRL",
    stages=("sft", "dpo", "kto"),
    default_base="Qwen/Qwen2.5-0.5B-Instruct",
    log="hf-trainer",
    install="pip install trl peft",
    data=data,
    files=files,
    command=command,
    base_override=("--model_name_or_path", "{base_model}"),
)
