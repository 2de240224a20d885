"""Bundle folders for the train tests: forge-bundle.json (the contract with services.bundles) whose
command runs tests/fake_trainer.py with this Python."""

from __future__ import annotations

import json
import sys
from pathlib import Path

FAKE_TRAINER = Path(__file__).resolve().parent.parent / "fake_trainer.py"


def fake_bundle(folder: Path, dataset: str = "d", command: list[str] | None = None, trainer: str = "trl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": 1,
        "trainer": trainer,
        "stage": "sft",
        "dataset": dataset,
        "examples": 3,
        "base_model": "google/gemma-3-270m-it",
        "chat_format": "gemma",
        "command": command if command is not None else [sys.executable, str(FAKE_TRAINER)],
        "base_override": ["--model_name_or_path", "{base_model}"],
        "output_dir": "output",
        "log": "hf-trainer",
    }
    (folder / "forge-bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder
