"""Axolotl bundles: `axolotl.yaml` with the `datasets:` section filled in, as axolotl's docs describe
it: `type: chat_template` over `messages` for SFT, `chat_template.default` (messages, chosen,
rejected) with `rl: dpo`, and `user_defined.default` (system, prompt, completion, label) with
`rl: kto`. The chat template is the tokenizer's (`chat_template: tokenizer_default`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from forge_tui.core import yaml_text
from forge_tui.core.bundle_chat import CHAT
from forge_tui.core.bundle_readme import Setting, readme
from forge_tui.core.bundle_types import DATA_DIR, OUTPUT_DIR, BundleSettings, DataFile, Trainer
from forge_tui.core.conversation import prompt_messages
from forge_tui.core.export_formats import FORMATS, ExportFormat, Record
from forge_tui.core.models import Example
from forge_tui.i18n import N_

TRAIN_FILE = f"{DATA_DIR}/train.jsonl"
LEARNING_RATE = {"sft": 2e-4, "dpo": 5e-6, "kto": 5e-6}
ROLE_MAPPING = {"role": "role", "content": "content"}


def _dpo(example: Example) -> Iterator[Record]:
    for record in FORMATS["trl-preference"].render(example):
        yield {"messages": record["prompt"], "chosen": record["chosen"][0], "rejected": record["rejected"][0]}


def _kto(example: Example) -> Iterator[Record]:
    label = example.meta.desirability
    if label is None:
        return
    messages = prompt_messages(example.content)
    users = [m.get("content", "") for m in messages if m["role"] == "user"]
    yield {
        "system": example.content.system_prompt,
        "prompt": users[-1] if users else example.content.user_prompt,
        "completion": example.content.output,
        "label": label,
    }


FORMATS_BY_STAGE = {
    "sft": CHAT,
    "dpo": ExportFormat("axolotl-dpo", N_("Axolotl bundle data"), _dpo, preference=True),
    "kto": ExportFormat("axolotl-kto", N_("Axolotl bundle data"), _kto, labelled=True),
}


def data(settings: BundleSettings) -> list[DataFile]:
    return [DataFile(TRAIN_FILE, FORMATS_BY_STAGE[settings.stage])]


def dataset_entry(stage: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": TRAIN_FILE, "ds_type": "json", "split": "train"}
    if stage == "sft":
        return entry | {
            "type": "chat_template",
            "field_messages": "messages",
            "message_property_mappings": dict(ROLE_MAPPING),
            "roles_to_train": ["assistant"],
        }
    if stage == "dpo":
        return entry | {
            "type": "chat_template.default",
            "field_messages": "messages",
            "field_chosen": "chosen",
            "field_rejected": "rejected",
            "message_property_mappings": dict(ROLE_MAPPING),
            "roles": {"user": ["user"], "assistant": ["assistant"], "system": ["system"]},
        }
    return entry | {
        "type": {
            "field_prompt": "prompt",
            "field_system": "system",
            "field_completion": "completion",
            "field_label": "label",
            "prompt_format": "{prompt}",
            "completion_format": "{completion}",
        }
    }


def config(settings: BundleSettings) -> dict[str, Any]:
    stage = settings.stage
    values: dict[str, Any] = {"base_model": settings.base_model, "chat_template": "tokenizer_default"}
    if stage != "sft":
        values["rl"] = stage
    if stage == "kto":
        values["remove_unused_columns"] = False
    return values | {
        "datasets": [dataset_entry(stage)],
        "dataset_prepared_path": "prepared",
        "val_set_size": 0.0,
        "output_dir": OUTPUT_DIR,
        "adapter": "lora",
        "lora_r": settings.lora_rank,
        "lora_alpha": settings.lora_rank * 2,
        "lora_dropout": 0.05,
        "lora_target_linear": True,
        "sequence_len": 2048,
        "micro_batch_size": 1,
        "gradient_accumulation_steps": 4,
        "num_epochs": settings.epochs,
        "optimizer": "adamw_torch",
        "lr_scheduler": "cosine",
        "learning_rate": LEARNING_RATE[stage],
        "logging_steps": 1,
        "saves_per_epoch": 1,
    }


def command(stage: str) -> list[str]:
    return ["axolotl", "train", "axolotl.yaml"]


def files(settings: BundleSettings) -> dict[str, str]:
    header = f"Axolotl {settings.stage.upper()} with LoRA, written by forge-tui: axolotl train axolotl.yaml"
    shapes = {"sft": "messages", "dpo": "messages, chosen, rejected", "kto": "system, prompt, completion, label"}
    notes = ["Any setting can be given on the command line too, e.g. `--num-epochs 1`."]
    if settings.stage == "kto":
        notes.insert(0, "KTO records hold the last user message as the prompt: earlier turns are not written.")
    return {
        "axolotl.yaml": yaml_text.dump(config(settings), header),
        "README.md": readme(
            TRAINER,
            settings,
            [(TRAIN_FILE, f"the data ({shapes[settings.stage]})"), ("axolotl.yaml", "the trainer's settings")],
            [
                Setting("Base model", "", "`base_model` in `axolotl.yaml`, or `--base-model MODEL`"),
                Setting("LoRA rank", str(settings.lora_rank), "`lora_r` (and `lora_alpha`) in `axolotl.yaml`"),
                Setting("Epochs", str(settings.epochs), "`num_epochs` in `axolotl.yaml`"),
            ],
            notes,
        ),
    }


TRAINER = Trainer(
    name="axolotl",
    title="Axolotl",
    stages=("sft", "dpo", "kto"),
    default_base="Qwen/Qwen2.5-0.5B-Instruct",
    log="hf-trainer",
    install="pip install axolotl",
    data=data,
    files=files,
    command=command,
    base_override=("--base-model", "{base_model}"),
)
