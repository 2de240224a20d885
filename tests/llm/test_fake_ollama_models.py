"""The fake's model management in Ollama's wire format (server/routes.go, server/images.go): /api/pull
streamed and whole, /api/delete, /api/copy, /api/ps after a keep_alive unload, /api/show's details."""

from __future__ import annotations

import json

import httpx

from tests.fake_ollama import DISK_FULL_ERROR, PULL_UNKNOWN_ERROR, FakeOllama, pull_layers, registry_models


def test_pull_streams_ndjson_progress_as_ollama_does(fake: FakeOllama) -> None:
    fake.pull_steps = 2
    with httpx.stream("POST", f"{fake.base_url}/api/pull", json={"model": "gemma3:270m"}) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    (digest, total), *_ = pull_layers(registry_models()[0])
    assert lines[:4] == [
        {"status": "pulling manifest"},
        {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total},
        {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total, "completed": total // 2},
        {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total, "completed": total},
    ]
    assert lines[-3:] == [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]
    names = [m["name"] for m in httpx.get(f"{fake.base_url}/api/tags").json()["models"]]
    assert "gemma3:270m" in names


def test_pull_errors_streamed_and_whole(fake: FakeOllama) -> None:
    with httpx.stream("POST", f"{fake.base_url}/api/pull", json={"model": "nosuch"}) as response:
        assert response.status_code == 200
        lines = [json.loads(line) for line in response.iter_lines() if line]
    assert lines == [{"status": "pulling manifest"}, {"error": PULL_UNKNOWN_ERROR}]
    whole = httpx.post(f"{fake.base_url}/api/pull", json={"model": "nosuch", "stream": False})
    assert (whole.status_code, whole.json()) == (500, {"error": PULL_UNKNOWN_ERROR})
    ok = httpx.post(f"{fake.base_url}/api/pull", json={"model": "llava:7b", "stream": False})
    assert (ok.status_code, ok.json()) == (200, {"status": "success"})
    fake.disk_full = True
    full = httpx.post(f"{fake.base_url}/api/pull", json={"model": "gemma3:270m", "stream": False})
    digest = pull_layers(registry_models()[0])[0][0]
    assert (full.status_code, full.json()) == (500, {"error": DISK_FULL_ERROR.format(digest=digest[7:])})
    assert "no space left on device" in full.json()["error"]


def test_delete_and_copy(fake: FakeOllama) -> None:
    copied = httpx.post(f"{fake.base_url}/api/copy", json={"source": "llama3.2", "destination": "mine"})
    assert (copied.status_code, copied.text) == (200, "")
    missing = httpx.post(f"{fake.base_url}/api/copy", json={"source": "ghost", "destination": "x"})
    assert (missing.status_code, missing.json()) == (404, {"error": 'model "ghost" not found'})
    gone = httpx.request("DELETE", f"{fake.base_url}/api/delete", json={"model": "mine"})
    assert (gone.status_code, gone.text) == (200, "")
    again = httpx.request("DELETE", f"{fake.base_url}/api/delete", json={"model": "mine"})
    assert (again.status_code, again.json()) == (404, {"error": "model 'mine' not found"})
    assert httpx.post(f"{fake.base_url}/api/delete", json={"model": "x"}).status_code == 404  # DELETE only


def test_ps_follows_a_chat_and_a_keep_alive_unload(fake: FakeOllama) -> None:
    chat = {"model": "qwen3:0.6b", "messages": [{"role": "user", "content": "hi"}], "stream": False}
    httpx.post(f"{fake.base_url}/api/chat", json=chat)
    (loaded,) = httpx.get(f"{fake.base_url}/api/ps").json()["models"]
    assert loaded["name"] == "qwen3:0.6b" and loaded["size_vram"] > 0 and loaded["expires_at"]
    httpx.post(f"{fake.base_url}/api/chat", json={"model": "qwen3:0.6b", "messages": [], "keep_alive": 0})
    assert httpx.get(f"{fake.base_url}/api/ps").json()["models"] == []
