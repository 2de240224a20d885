"""The Ollama model that matches a Hugging Face base model id, and the chat format its family uses.

A run is trained on a Hugging Face id (google/gemma-3-270m-it); Ollama serves the same weights under its
own name (gemma3:270m), which is what a Modelfile's FROM needs. Only the common families are known; for
any other the user names the Ollama model.
"""

from __future__ import annotations

import re

__all__ = ["chat_format_for", "ollama_name_for"]

_SIZE = r"(\d+(?:\.\d+)?[mb])"
# (pattern on the part after the organisation, Ollama's name with {size})
_NAMES: tuple[tuple[str, str], ...] = (
    (rf"gemma-3-{_SIZE}(?:-it|-pt)?", "gemma3:{size}"),
    (rf"gemma-2-{_SIZE}(?:-it)?", "gemma2:{size}"),
    (rf"gemma-{_SIZE}(?:-it)?", "gemma:{size}"),
    (rf"llama-3\.2-{_SIZE}(?:-instruct)?", "llama3.2:{size}"),
    (rf"(?:meta-)?llama-3\.1-{_SIZE}(?:-instruct)?", "llama3.1:{size}"),
    (rf"meta-llama-3-{_SIZE}(?:-instruct)?", "llama3:{size}"),
    (rf"qwen2\.5-{_SIZE}(?:-instruct)?", "qwen2.5:{size}"),
    (rf"qwen2-{_SIZE}(?:-instruct)?", "qwen2:{size}"),
    (rf"qwen3-{_SIZE}", "qwen3:{size}"),
    (rf"smollm2-{_SIZE}(?:-instruct)?", "smollm2:{size}"),
    (r"mistral-7b-instruct-v0\.\d", "mistral:7b"),
    (r"tinyllama-1\.1b-chat-v1\.0", "tinyllama:1.1b"),
)
# (prefix of the part after the organisation, chat format)
_FORMATS: tuple[tuple[str, str], ...] = (
    ("gemma-3", "gemma3"),
    ("gemma-2", "gemma2"),
    ("gemma", "gemma1"),
    ("llama-3", "llama3"),
    ("meta-llama-3", "llama3"),
    ("qwen", "chatml"),
    ("smollm2", "chatml"),
    ("mistral", "mistral"),
    ("tinyllama", "chatml"),
)


def _model_part(hf_id: str) -> str:
    return hf_id.strip().rsplit("/", 1)[-1].lower()


def ollama_name_for(hf_id: str) -> str | None:
    """Ollama's name for the Hugging Face model (None: not a family this knows)."""
    part = _model_part(hf_id)
    for pattern, name in _NAMES:
        match = re.fullmatch(pattern, part)
        if match:
            return name.format(size=match.group(1) if match.groups() else "")
    return None


def chat_format_for(hf_id: str) -> str | None:
    """The chat format of the Hugging Face model's family (None: unknown)."""
    part = _model_part(hf_id)
    return next((fmt for prefix, fmt in _FORMATS if part.startswith(prefix)), None)
