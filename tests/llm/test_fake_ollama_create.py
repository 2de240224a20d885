"""The fake's /api/blobs/:digest and /api/create in Ollama's wire format (server/routes.go HeadBlobHandler and
CreateBlobHandler, server/create.go CreateHandler): blobs by digest, a create streamed as NDJSON status lines,
errors as Ollama gives them, and the created model in /api/tags and /api/show."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from tests.fake_ollama import PULL_UNKNOWN_ERROR, FakeOllama

CONFIG = b'{"r": 8, "lora_alpha": 16, "peft_type": "LORA"}'
WEIGHTS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(range(64))
GGUF = b"GGUF\x03\x00\x00\x00" + bytes(32)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def upload(fake: FakeOllama, data: bytes) -> str:
    response = httpx.post(f"{fake.base_url}/api/blobs/{digest(data)}", content=data)
    assert response.status_code == 201, response.text
    return digest(data)


def create(fake: FakeOllama, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    with httpx.stream("POST", f"{fake.base_url}/api/create", json=body) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line]
        return response.status_code, lines


def test_blobs_head_404_then_upload_201_then_200(fake: FakeOllama) -> None:
    url = f"{fake.base_url}/api/blobs/{digest(WEIGHTS)}"
    assert httpx.head(url).status_code == 404
    assert httpx.post(url, content=WEIGHTS).status_code == 201
    assert httpx.head(url).status_code == 200
    assert httpx.head(url.replace("sha256:", "sha256-")).status_code == 200  # the path's spelling
    assert httpx.post(url, content=WEIGHTS).status_code == 200  # held already
    assert fake.blobs == {digest(WEIGHTS): WEIGHTS}
    assert [method for method, _ in fake.blob_requests] == ["HEAD", "POST", "HEAD", "HEAD", "POST"]


def test_a_body_whose_sha256_differs_is_refused(fake: FakeOllama) -> None:
    wanted = digest(WEIGHTS)
    refused = httpx.post(f"{fake.base_url}/api/blobs/{wanted}", content=WEIGHTS[:-1])
    assert refused.status_code == 400
    assert refused.json() == {"error": f'digest mismatch, expected "{wanted}", got "{digest(WEIGHTS[:-1])}"'}
    assert fake.blobs == {}
    bad = httpx.post(f"{fake.base_url}/api/blobs/sha256:abc", content=b"x")
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid digest format"})


def test_create_from_a_base_with_a_peft_adapter_streams_and_installs(fake: FakeOllama) -> None:
    adapters = {"adapter_config.json": upload(fake, CONFIG), "adapter_model.safetensors": upload(fake, WEIGHTS)}
    template = "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"
    status, lines = create(
        fake,
        {
            "model": "tuned",
            "from": "llama3.2",
            "adapters": adapters,
            "template": template,
            "parameters": {"stop": ["<|eot_id|>"], "temperature": 0.2},
        },
    )
    assert status == 200
    said = [line["status"] for line in lines]
    assert said[0].startswith("using existing layer sha256:") and "converting adapter" in said
    assert said[-2:] == ["writing manifest", "success"]
    assert fake.creates[-1]["adapters"] == adapters
    tags = httpx.get(f"{fake.base_url}/api/tags").json()["models"]
    assert "tuned:latest" in [m["name"] for m in tags]
    shown = httpx.post(f"{fake.base_url}/api/show", json={"model": "tuned"}).json()
    assert shown["template"] == template
    assert shown["details"]["parent_model"] == "llama3.2:latest"
    assert 'stop                           "<|eot_id|>"' in shown["parameters"]
    assert "temperature                    0.2" in shown["parameters"]
    blob_path = "/usr/share/ollama/.ollama/models/blobs/sha256-"
    assert f"ADAPTER {blob_path}{hashlib.sha256(CONFIG).hexdigest()}" in shown["modelfile"]


def test_create_errors_as_ollama_gives_them(fake: FakeOllama) -> None:
    missing = digest(b"never uploaded")
    status, lines = create(fake, {"model": "x", "from": "llama3.2", "adapters": {"lora.gguf": missing}})
    assert status == 200 and lines[-1] == {
        "error": f"open /usr/share/ollama/.ollama/models/blobs/sha256-{missing[7:]}: no such file or directory"
    }
    status, lines = create(fake, {"model": "x", "from": "nosuch-model", "adapters": {"lora.gguf": missing}})
    assert lines == [{"status": "pulling manifest"}, {"error": PULL_UNKNOWN_ERROR}]
    not_gguf = upload(fake, b"plain bytes")
    status, lines = create(fake, {"model": "x", "from": "llama3.2", "adapters": {"lora.gguf": not_gguf}})
    assert lines[-1] == {"error": "supplied file was not in GGUF format"}
    peft = {"adapter_config.json": upload(fake, CONFIG), "adapter_model.safetensors": upload(fake, WEIGHTS)}
    status, lines = create(fake, {"model": "x", "from": "qwen3:0.6b", "adapters": peft})
    assert lines[-1] == {"error": "unsupported architecture"}  # Ollama converts llama and gemma2 adapters only
    neither = httpx.post(f"{fake.base_url}/api/create", json={"model": "x"})
    assert (neither.status_code, neither.json()) == (400, {"error": "neither 'from' or 'files' was specified"})
    whole = httpx.post(f"{fake.base_url}/api/create", json={"model": "x", "from": "nosuch", "stream": False})
    assert (whole.status_code, whole.json()) == (500, {"error": PULL_UNKNOWN_ERROR})
    assert "x:latest" not in [m.canonical for m in fake.models]


def test_create_with_a_gguf_adapter_whole(fake: FakeOllama) -> None:
    lora = upload(fake, GGUF)
    done = httpx.post(
        f"{fake.base_url}/api/create",
        json={"model": "g", "from": "qwen3:0.6b", "adapters": {"lora.gguf": lora}, "stream": False},
    )
    assert (done.status_code, done.json()) == (200, {"status": "success"})
    created = fake.model("g")
    assert created is not None and created.adapters == [lora] and created.family == "qwen3"


def test_create_takes_system_license_messages_and_refuses_quantizing_a_quantized_base(fake: FakeOllama) -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    body = {"model": "m", "from": "llama3.2", "system": "Be brief.", "license": ["MIT"], "messages": messages}
    status, lines = create(fake, body)
    assert status == 200 and lines[-1] == {"status": "success"}
    shown = httpx.post(f"{fake.base_url}/api/show", json={"model": "m"}).json()
    assert (shown["system"], shown["license"], shown["messages"]) == ("Be brief.", "MIT", messages)
    assert 'SYSTEM """Be brief."""' in shown["modelfile"]
    status, lines = create(fake, {"model": "q", "from": "llama3.2", "quantize": "q4_K_M"})
    assert lines[-1] == {"error": "quantization is only supported for F16, BF16 and F32 models"}
