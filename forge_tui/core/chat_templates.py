"""Ollama's prompt templates and stop tokens for the chat formats a model is fine-tuned on.

The templates are Ollama's own (`template/<name>.gotmpl` and `.json` in ollama/ollama), so a deployed
adapter is prompted exactly as its base model is in Ollama's library.
"""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

__all__ = ["CHAT_FORMATS", "ChatTemplate", "chat_template"]


@dataclass(frozen=True)
class ChatTemplate:
    name: str  # Ollama's name for it (template/<name>.gotmpl)
    template: str
    stop: tuple[str, ...]


_GEMMA3 = ChatTemplate(
    "gemma3-instruct",
    """{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<start_of_turn>user
{{- if and (eq $i 1) $.System }}
{{ $.System }}
{{ end }}
{{ .Content }}<end_of_turn>
{{ else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}<end_of_turn>
{{ end }}
{{- if $last }}<start_of_turn>model
{{ end }}
{{- end }}
""",
    ("<end_of_turn>",),
)

_GEMMA = ChatTemplate(
    "gemma-instruct",
    """{{- $system := "" }}
{{- range .Messages }}
{{- if eq .Role "system" }}
{{- if not $system }}{{ $system = .Content }}
{{- else }}{{ $system = printf "%s\\n\\n%s" $system .Content }}
{{- end }}
{{- continue }}
{{- else if eq .Role "user" }}<start_of_turn>user
{{- if $system }}
{{ $system }}
{{- $system = "" }}
{{- end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{- end }}
{{ .Content }}<end_of_turn>
{{ end }}<start_of_turn>model
""",
    ("<start_of_turn>", "<end_of_turn>"),
)

_LLAMA3 = ChatTemplate(
    "llama3-instruct",
    """{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}<|start_header_id|>assistant<|end_header_id|>

""",
    ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"),
)

_CHATML = ChatTemplate(
    "chatml",
    """{{- range .Messages }}<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
""",
    ("<|im_start|>", "<|im_end|>"),
)

# mistral-instruct.json lists ChatML's stop tokens (a slip); the mistral model of Ollama's library stops at
# [INST] and [/INST], which is what the template writes.
_MISTRAL = ChatTemplate(
    "mistral-instruct",
    """[INST] {{ range $index, $_ := .Messages }}
{{- if eq .Role "system" }}{{ .Content }}

{{ else if eq .Role "user" }}{{ .Content }}[/INST]
{{- else if eq .Role "assistant" }} {{ .Content }}</s>[INST] {{ end }}
{{- end }}""",
    ("[INST]", "[/INST]"),
)

# A bundle's chat_format (the chat template family it was trained with) -> Ollama's template.
CHAT_FORMATS: dict[str, ChatTemplate] = {
    "gemma": _GEMMA3,
    "gemma3": _GEMMA3,
    "gemma2": _GEMMA,
    "gemma1": _GEMMA,
    "llama3": _LLAMA3,
    "llama3.1": _LLAMA3,
    "llama3.2": _LLAMA3,
    "chatml": _CHATML,
    "qwen": _CHATML,
    "qwen2": _CHATML,
    "qwen2.5": _CHATML,
    "qwen3": _CHATML,
    "smollm2": _CHATML,
    "mistral": _MISTRAL,
}


def chat_template(chat_format: str) -> ChatTemplate:
    """Ollama's template for the chat format trained on; InvalidInput for a format it does not know."""
    found = CHAT_FORMATS.get(chat_format.strip().lower())
    if found is None:
        raise InvalidInput(
            _("There is no Ollama template for the chat format '{chat_format}' (known: {known}).").format(
                chat_format=chat_format[:40], known=", ".join(CHAT_FORMATS)
            )
        )
    return found
