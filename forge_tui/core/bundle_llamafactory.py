"""LLaMA-Factory bundles: the data in its ShareGPT or Alpaca shape, `data/dataset_info.json` as its
data/README.md documents it, and `train.yaml` for `llamafactory-cli train`.

Every record holds every column that dataset_info.json names (an empty system prompt or tool list
where the example has none), so the columns exist in each record. Preference records hold the prompt
turns (ending with the user's) and one chosen and one rejected answer; KTO records the whole
conversation and a boolean `kto_tag`. KTO data is always ShareGPT: LLaMA-Factory documents it there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from forge_tui.core import yaml_text
from forge_tui.core.bundle_readme import Setting, readme
from forge_tui.core.bundle_types import DATA_DIR, OUTPUT_DIR, BundleSettings, DataFile, Trainer
from forge_tui.core.export_formats import FORMATS, ExportFormat, Record
from forge_tui.core.models import Example
from forge_tui.i18n import N_

SHAPES = ("sharegpt", "alpaca")
DATA_FILE = "train.jsonl"
TEMPLATES = {  # chat template family -> LLaMA-Factory's template name
    "gemma3": "gemma3",
    "gemma": "gemma",
    "llama3": "llama3",
    "llama2": "llama2",
    "qwen3": "qwen3",
    "qwen2": "qwen",
    "mistral": "mistral",
    "phi3": "phi",
    "chatml": "chatml",
}
SHAREGPT_TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}
LEARNING_RATE = {"sft": 1e-4, "dpo": 5e-6, "kto": 5e-6}


def _sharegpt(example: Example) -> Record:
    record = next(FORMATS["sharegpt"].render(example))
    return {
        "conversations": _alternating(record["conversations"]),
        "system": record.get("system", ""),
        "tools": record.get("tools", ""),
    }


def _alternating(turns: list[Record]) -> list[Record]:
    """LLaMA-Factory drops a conversation whose assistant turns (gpt, function_call) do not alternate
    with the user's (human, observation): an answer's text just before its tool call is left out,
    since its ShareGPT has no place for both in one turn."""
    kept: list[Record] = []
    for turn in turns:
        if turn["from"] == "function_call" and kept and kept[-1]["from"] == "gpt":
            kept.pop()
        kept.append(turn)
    return kept


def _prompt_turns(record: Record) -> list[Record]:
    """The conversation without the answer's turn (its text, or its function call: _alternating)."""
    turns: list[Record] = record["conversations"]
    return turns[:-1]


def _sharegpt_sft(example: Example) -> Iterator[Record]:
    yield _sharegpt(example)


def _sharegpt_dpo(example: Example) -> Iterator[Record]:
    record = _sharegpt(example)
    prompt = _prompt_turns(record)
    for rejected in example.content.rejected:
        yield {
            **record,
            "conversations": prompt,
            "chosen": {"from": "gpt", "value": example.content.output},
            "rejected": {"from": "gpt", "value": rejected},
        }


def _sharegpt_kto(example: Example) -> Iterator[Record]:
    if example.meta.desirability is not None:
        yield {**_sharegpt(example), "kto_tag": example.meta.desirability}


def _alpaca(example: Example) -> Record:
    record = next(FORMATS["alpaca"].render(example))
    record.setdefault("system", "")
    record.setdefault("history", [])
    return record


def _alpaca_sft(example: Example) -> Iterator[Record]:
    yield _alpaca(example)


def _alpaca_dpo(example: Example) -> Iterator[Record]:
    record = _alpaca(example)
    chosen = record.pop("output")
    for rejected in example.content.rejected:
        yield {**record, "chosen": chosen, "rejected": rejected}


def _format(name: str, render: Any, stage: str) -> ExportFormat:
    return ExportFormat(
        name, N_("LLaMA-Factory bundle data"), render, preference=stage == "dpo", labelled=stage == "kto"
    )


RENDERERS = {
    ("sharegpt", "sft"): _format("llamafactory-sharegpt", _sharegpt_sft, "sft"),
    ("sharegpt", "dpo"): _format("llamafactory-sharegpt-ranking", _sharegpt_dpo, "dpo"),
    ("sharegpt", "kto"): _format("llamafactory-sharegpt-kto", _sharegpt_kto, "kto"),
    ("alpaca", "sft"): _format("llamafactory-alpaca", _alpaca_sft, "sft"),
    ("alpaca", "dpo"): _format("llamafactory-alpaca-ranking", _alpaca_dpo, "dpo"),
}


def shape_for(settings: BundleSettings) -> str:
    return "sharegpt" if settings.stage == "kto" else settings.shape


def dataset_key(name: str) -> str:
    """The dataset's name in dataset_info.json (`dataset:` is a comma-separated list of them)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_") or "forge_dataset"


def data(settings: BundleSettings) -> list[DataFile]:
    return [DataFile(f"{DATA_DIR}/{DATA_FILE}", RENDERERS[shape_for(settings), settings.stage])]


def dataset_info(settings: BundleSettings) -> dict[str, Any]:
    stage = settings.stage
    entry: dict[str, Any] = {"file_name": DATA_FILE}
    if shape_for(settings) == "sharegpt":
        entry["formatting"] = "sharegpt"
        columns = {"messages": "conversations", "system": "system", "tools": "tools"}
    else:
        entry["formatting"] = "alpaca"
        columns = {"prompt": "instruction", "query": "input", "system": "system", "history": "history"}
        if stage == "sft":
            columns["response"] = "output"
    if stage == "dpo":
        entry["ranking"] = True
        columns |= {"chosen": "chosen", "rejected": "rejected"}
    if stage == "kto":
        columns["kto_tag"] = "kto_tag"
    entry["columns"] = columns
    if entry["formatting"] == "sharegpt":
        entry["tags"] = dict(SHAREGPT_TAGS)
    return {dataset_key(settings.dataset): entry}


def template(chat_format: str) -> str:
    return TEMPLATES.get(chat_format, "chatml")


def train_config(settings: BundleSettings) -> dict[str, Any]:
    stage = settings.stage
    values: dict[str, Any] = {
        "model_name_or_path": settings.base_model,
        "trust_remote_code": True,
        "stage": stage,
        "do_train": True,
        "finetuning_type": "lora",
        "lora_rank": settings.lora_rank,
        "lora_target": "all",
    }
    if stage in ("dpo", "kto"):
        values["pref_beta"] = 0.1
    if stage == "dpo":
        values["pref_loss"] = "sigmoid"
    values |= {
        "dataset": dataset_key(settings.dataset),
        "dataset_dir": DATA_DIR,
        "template": template(settings.chat_format),
        "cutoff_len": 2048,
        "output_dir": OUTPUT_DIR,
        "logging_steps": 1,
        "save_strategy": "epoch",
        "plot_loss": True,
        "overwrite_output_dir": True,
        "report_to": "none",
        "per_device_train_batch_size": 1,
        "gradient_accumulation_steps": 8,
        "learning_rate": LEARNING_RATE[stage],
        "num_train_epochs": float(settings.epochs),
        "lr_scheduler_type": "cosine",
        "warmup_ratio": 0.1,
    }
    return values


def command(stage: str) -> list[str]:
    return ["llamafactory-cli", "train", "train.yaml"]


def files(settings: BundleSettings) -> dict[str, str]:
    shape = shape_for(settings)
    header = (
        f"LLaMA-Factory {settings.stage.upper()} with LoRA, written by forge-tui: llamafactory-cli train train.yaml"
    )
    return {
        f"{DATA_DIR}/dataset_info.json": json.dumps(dataset_info(settings), ensure_ascii=False, indent=2) + "\n",
        "train.yaml": yaml_text.dump(train_config(settings), header),
        "README.md": readme(
            TRAINER,
            settings,
            [
                (f"{DATA_DIR}/{DATA_FILE}", f"the data in LLaMA-Factory's {shape} shape"),
                (f"{DATA_DIR}/dataset_info.json", f"the dataset's description ({dataset_key(settings.dataset)})"),
                ("train.yaml", "the trainer's settings"),
            ],
            [
                Setting("Base model", "", "`model_name_or_path` in `train.yaml`, or `model_name_or_path=MODEL`"),
                Setting("Chat template", f"`{template(settings.chat_format)}`", "`template` in `train.yaml`"),
                Setting("LoRA rank", str(settings.lora_rank), "`lora_rank` in `train.yaml`"),
                Setting("Epochs", str(settings.epochs), "`num_train_epochs` in `train.yaml`"),
            ],
            [
                "`template` must match the base model: change it with the model "
                "(LLaMA-Factory's README lists the template of each model).",
                "Any setting can be given after the file as KEY=VALUE, e.g. `max_steps=3`.",
                "An answer's text just before its tool call is left out: LLaMA-Factory's ShareGPT holds "
                "either a function_call or a gpt turn there.",
            ],
        ),
    }


TRAINER = Trainer(
    name="llamafactory",
    title="LLaMA-Factory",
    stages=("sft", "dpo", "kto"),
    default_base="Qwen/Qwen2.5-0.5B-Instruct",
    log="hf-trainer",
    install="pip install llamafactory",
    data=data,
    files=files,
    command=command,
    base_override=("model_name_or_path={base_model}",),
)
