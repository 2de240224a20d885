"""Unsloth bundles: a short Python script that loads the base model with Unsloth, adds a LoRA adapter
and trains it with TRL's trainer for the stage, on the data in TRL's dataset types (as a TRL bundle)."""

from __future__ import annotations

import json

from forge_tui.core.bundle_readme import Setting, readme
from forge_tui.core.bundle_trl import DATA_FORMAT, LEARNING_RATE, TRAIN_FILE
from forge_tui.core.bundle_types import OUTPUT_DIR, BundleSettings, DataFile, Trainer

SCRIPT = "train_unsloth.py"
TRAINER_CLASSES = {
    "sft": ("SFTConfig", "SFTTrainer"),
    "dpo": ("DPOConfig", "DPOTrainer"),
    "kto": ("KTOConfig", "KTOTrainer"),
}

_SCRIPT = '''"""{stage_upper} of a LoRA adapter with Unsloth on {records} records of "{dataset}" (written by forge-tui).

Run from this folder: python {script} [--base-model MODEL] [--lora-rank N] [--epochs N] [--max-steps N]
"""

import argparse

from unsloth import FastLanguageModel  # first: Unsloth patches transformers and TRL when imported

from datasets import load_dataset
from trl import {config_class}, {trainer_class}

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--base-model", default={base_model})
parser.add_argument("--lora-rank", type=int, default={lora_rank})
parser.add_argument("--epochs", type=float, default={epochs})
parser.add_argument("--max-steps", type=int, default=-1)
parser.add_argument("--max-seq-length", type=int, default=2048)
parser.add_argument("--learning-rate", type=float, default={learning_rate})
args = parser.parse_args()

model, tokenizer = FastLanguageModel.from_pretrained(
    model_name=args.base_model, max_seq_length=args.max_seq_length, load_in_4bit=True
)
model = FastLanguageModel.get_peft_model(
    model,
    r=args.lora_rank,
    lora_alpha=args.lora_rank * 2,
    lora_dropout=0,
    target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    use_gradient_checkpointing="unsloth",
)
dataset = load_dataset("json", data_files={data_file}, split="train")
trainer = {trainer_class}(
    model=model,
    processing_class=tokenizer,
    train_dataset=dataset,
    args={config_class}(
        output_dir={output_dir},
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=2,
        gradient_accumulation_steps=4,
        logging_steps=1,
        save_strategy="epoch",
        report_to="none",
    ),
)
trainer.train()
model.save_pretrained({output_dir})
tokenizer.save_pretrained({output_dir})
'''


def data(settings: BundleSettings) -> list[DataFile]:
    return [DataFile(TRAIN_FILE, DATA_FORMAT[settings.stage])]


def script(settings: BundleSettings) -> str:
    config_class, trainer_class = TRAINER_CLASSES[settings.stage]
    return _SCRIPT.format(
        stage_upper=settings.stage.upper(),
        records=settings.records,
        dataset=settings.dataset.replace('"', "'").replace("\\", "/"),
        script=SCRIPT,
        config_class=config_class,
        trainer_class=trainer_class,
        base_model=json.dumps(settings.base_model),
        lora_rank=settings.lora_rank,
        epochs=float(settings.epochs),
        learning_rate=LEARNING_RATE[settings.stage],
        data_file=json.dumps(TRAIN_FILE),
        output_dir=json.dumps(OUTPUT_DIR),
    )


def command(stage: str) -> list[str]:
    return ["python", SCRIPT]


def files(settings: BundleSettings) -> dict[str, str]:
    return {
        SCRIPT: script(settings),
        "README.md": readme(
            TRAINER,
            settings,
            [(TRAIN_FILE, "the data in TRL's dataset types"), (SCRIPT, "the training script")],
            [
                Setting("Base model", "", "`--base-model MODEL`"),
                Setting("LoRA rank", str(settings.lora_rank), "`--lora-rank N`"),
                Setting("Epochs", str(settings.epochs), "`--epochs N` (or `--max-steps N`)"),
            ],
            ["Unsloth needs an NVIDIA, AMD or Intel GPU; the model loads in 4 bits."],
        ),
    }


TRAINER = Trainer(
    name="unsloth",
    title="Unsloth",
    stages=("sft", "dpo", "kto"),
    default_base="unsloth/Qwen2.5-0.5B-Instruct",
    log="hf-trainer",
    install="pip install unsloth",
    data=data,
    files=files,
    command=command,
    base_override=("--base-model", "{base_model}"),
)
