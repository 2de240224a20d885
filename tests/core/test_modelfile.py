"""The Modelfile and /api/create request of a deployed adapter, for each chat format: Ollama's own template and
stop tokens, the user's parameters typed as Ollama's Options, and the Hugging Face -> Ollama base names."""

from __future__ import annotations

import pytest

from forge_tui.core.base_models import chat_format_for, ollama_name_for
from forge_tui.core.chat_templates import chat_template
from forge_tui.core.errors import InvalidInput
from forge_tui.core.modelfile import ModelfileSpec, create_request, parse_parameter, render_modelfile

LLAMA3 = (
    "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>\n"
    "{{- end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
CHATML = "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"


@pytest.mark.parametrize(
    ("chat_format", "ollama_template", "stops"),
    [
        ("gemma", "gemma3-instruct", ["<end_of_turn>"]),
        ("gemma2", "gemma-instruct", ["<start_of_turn>", "<end_of_turn>"]),
        ("llama3", "llama3-instruct", ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]),
        ("qwen2", "chatml", ["<|im_start|>", "<|im_end|>"]),
        ("chatml", "chatml", ["<|im_start|>", "<|im_end|>"]),
        ("mistral", "mistral-instruct", ["[INST]", "[/INST]"]),
    ],
)
def test_each_chat_format_gets_ollamas_template_and_stops(
    chat_format: str, ollama_template: str, stops: list[str]
) -> None:
    spec = ModelfileSpec(base="llama3.2:1b", adapter=".", chat_format=chat_format, parameters=(("temperature", "0.3"),))
    text = render_modelfile(spec)
    template = chat_template(chat_format)
    assert template.name == ollama_template
    lines = text.splitlines()
    assert lines[1:3] == ["FROM llama3.2:1b", "ADAPTER ."]
    assert f'TEMPLATE """{template.template}"""\n' in text
    assert [line for line in lines if line.startswith("PARAMETER")] == [
        *(f'PARAMETER stop "{s}"' for s in stops),
        "PARAMETER temperature 0.3",
    ]
    body = create_request(spec, "tuned", {"adapter_model.safetensors": "sha256:ab"})
    assert body == {
        "model": "tuned",
        "from": "llama3.2:1b",
        "adapters": {"adapter_model.safetensors": "sha256:ab"},
        "template": template.template,
        "parameters": {"stop": stops, "temperature": 0.3},
        "stream": True,
    }


def test_the_templates_are_ollamas_text() -> None:
    assert chat_template("llama3").template == LLAMA3
    assert chat_template("Qwen2.5").template == CHATML
    assert chat_template("gemma3").template.startswith("{{- range $i, $_ := .Messages }}\n")


def test_parameters_are_checked_and_typed() -> None:
    assert parse_parameter("num_ctx=4096") == ("num_ctx", "4096")
    assert parse_parameter("stop </s>") == ("stop", "</s>")
    spec = ModelfileSpec(
        base="b",
        adapter="./a.gguf",
        chat_format="chatml",
        parameters=(("num_ctx", "4096"), ("stop", "</s>"), ("use_mmap", "false")),
        system="Answer briefly.",
    )
    body = create_request(spec, "m", {})
    assert body["parameters"] == {"stop": ["<|im_start|>", "<|im_end|>", "</s>"], "num_ctx": 4096, "use_mmap": False}
    assert body["system"] == "Answer briefly."
    assert 'SYSTEM """Answer briefly."""' in render_modelfile(spec)
    for bad in ("temprature=1", "num_ctx=lots", "temperature=", "use_mmap=maybe"):
        with pytest.raises(InvalidInput):
            parse_parameter(bad)
    with pytest.raises(InvalidInput, match="chat format 'vicuna'"):
        render_modelfile(ModelfileSpec(base="b", adapter=".", chat_format="vicuna"))


def test_hugging_face_ids_map_to_ollama_names_and_chat_formats() -> None:
    assert ollama_name_for("google/gemma-3-270m-it") == "gemma3:270m"
    assert ollama_name_for("meta-llama/Llama-3.2-1B-Instruct") == "llama3.2:1b"
    assert ollama_name_for("Qwen/Qwen2.5-0.5B-Instruct") == "qwen2.5:0.5b"
    assert ollama_name_for("mistralai/Mistral-7B-Instruct-v0.3") == "mistral:7b"
    assert ollama_name_for("someone/own-model") is None
    assert chat_format_for("google/gemma-3-270m") == "gemma3"
    assert chat_format_for("meta-llama/Meta-Llama-3-8B-Instruct") == "llama3"
    assert chat_format_for("Qwen/Qwen2-1.5B") == "chatml"
    assert chat_format_for("someone/own-model") is None
