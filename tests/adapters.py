"""Small adapter files for deploy tests: a PEFT LoRA folder (safetensors written by hand, in the format's
own layout: an 8-byte header length, a JSON header, the tensor bytes) and a GGUF adapter's first bytes."""

from __future__ import annotations

import json
import struct
from pathlib import Path

GGUF_ADAPTER = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + b"\x00" * 64


def safetensors_bytes(names: tuple[str, ...] = ("base_model.model.layers.0.self_attn.q_proj.lora_A.weight",)) -> bytes:
    """A valid safetensors file: each tensor 2×4 float32 of zeros."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    size = 2 * 4 * 4
    for i, name in enumerate(names):
        header[name] = {"dtype": "F32", "shape": [2, 4], "data_offsets": [i * size, (i + 1) * size]}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"\x00" * (size * len(names))


def peft_adapter(folder: Path, base_model: str = "meta-llama/Llama-3.2-1B-Instruct") -> Path:
    """adapter_config.json and adapter_model.safetensors as PEFT's save_pretrained writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "base_model_name_or_path": base_model,
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "v_proj"],
    }
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    (folder / "adapter_model.safetensors").write_bytes(safetensors_bytes())
    return folder
