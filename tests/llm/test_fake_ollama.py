"""The fake Ollama server against Ollama's wire format, through plain httpx (sync and async)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fake_ollama import BUSY_ERROR, FakeModel, FakeOllama

REPO = Path(__file__).resolve().parents[2]
USER = [{"role": "user", "content": "Tell me about rivers and bridges"}]

CHUNK_KEYS = {"model", "created_at", "message", "done"}
FINAL_KEYS = CHUNK_KEYS | {
    "done_reason",
    "total_duration",
    "load_duration",
    "prompt_eval_count",
    "prompt_eval_duration",
    "eval_count",
    "eval_duration",
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather for a location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city"},
                "format": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "threshold": {"type": "number"},
                "alerts": {"type": "boolean"},
            },
            "required": ["location", "format"],
        },
    },
}


@pytest.fixture
def client(fake: FakeOllama) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=fake.base_url, timeout=10) as http:
        yield http


def chat_body(**extra: Any) -> dict[str, Any]:
    return {"model": "llama3.2:latest", "messages": USER, **extra}


def stream_lines(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    with client.stream("POST", "/api/chat", json=body) as response:
        assert response.status_code == 200
        return [json.loads(line) for line in response.iter_lines() if line]


def text_of(lines: list[dict[str, Any]]) -> str:
    return "".join(line["message"]["content"] for line in lines if "message" in line)


async def wait_for(predicate: Any, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------------------------- simple routes


def test_root_version_and_unknown_routes(client: httpx.Client) -> None:
    root = client.get("/")
    assert (root.status_code, root.text) == (200, "Ollama is running")
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert client.get("/api/version").json() == {"version": "0.12.6"}
    for response in (client.get("/nope"), client.get("/api/chat"), client.post("/api/generatex")):
        assert (response.status_code, response.text) == (404, "404 page not found")


def test_tags_lists_models_with_details(client: httpx.Client) -> None:
    models = client.get("/api/tags").json()["models"]
    by_name = {m["name"]: m for m in models}
    assert {"llama3.2:latest", "qwen3:0.6b"} <= set(by_name)
    qwen = by_name["qwen3:0.6b"]
    assert set(qwen) == {"name", "model", "modified_at", "size", "digest", "details"}
    assert qwen["model"] == "qwen3:0.6b" and isinstance(qwen["size"], int) and len(qwen["digest"]) == 64
    datetime.fromisoformat(qwen["modified_at"])
    assert qwen["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen3",
        "families": ["qwen3"],
        "parameter_size": "751.63M",
        "quantization_level": "Q4_K_M",
    }


def test_show_known_model_alias_and_unknown(client: httpx.Client) -> None:
    shown = client.post("/api/show", json={"model": "qwen3:0.6b"}).json()
    assert {"modelfile", "parameters", "template", "details", "model_info", "capabilities"} <= set(shown)
    assert "thinking" in shown["capabilities"] and "tools" in shown["capabilities"]
    info = shown["model_info"]
    assert info["general.architecture"] == "qwen3"
    assert info["qwen3.context_length"] == 40_960
    assert isinstance(info["general.parameter_count"], int) and info["general.parameter_count"] > 0

    llama = client.post("/api/show", json={"name": "llama3.2"}).json()  # deprecated key, tag defaulted
    assert llama["details"]["family"] == "llama" and llama["model_info"]["llama.context_length"] == 131_072

    missing = client.post("/api/show", json={"model": "ghost:1b"})
    assert (missing.status_code, missing.json()) == (404, {"error": "model 'ghost:1b' not found"})


def test_custom_models() -> None:
    model = FakeModel("tiny:1m", family="gemma3", parameter_size="1M", capabilities=["completion"])
    with FakeOllama([model]) as fake, httpx.Client(base_url=fake.base_url) as http:
        assert [m["name"] for m in http.get("/api/tags").json()["models"]] == ["tiny:1m"]
        assert http.post("/api/show", json={"model": "tiny:1m"}).json()["model_info"]["gemma3.context_length"]
        no_tools = http.post("/api/chat", json={"model": "tiny:1m", "messages": USER, "tools": [WEATHER_TOOL]})
        assert no_tools.status_code == 400 and "does not support tools" in no_tools.json()["error"]


# ---------------------------------------------------------------------------------------- /api/chat


def test_streaming_chunk_shape_and_final_counts(fake: FakeOllama, client: httpx.Client) -> None:
    with client.stream("POST", "/api/chat", json=chat_body()) as response:
        assert response.headers["content-type"] == "application/x-ndjson"
        assert response.headers["transfer-encoding"] == "chunked"
        lines = [json.loads(line) for line in response.iter_lines() if line]
    *chunks, final = lines
    assert 20 <= len(chunks) <= 60
    for chunk in chunks:
        assert set(chunk) == CHUNK_KEYS and chunk["done"] is False
        assert chunk["model"] == "llama3.2:latest"
        assert chunk["message"]["role"] == "assistant" and chunk["message"]["content"]
        datetime.fromisoformat(chunk["created_at"])
    assert set(final) == FINAL_KEYS
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert final["eval_count"] == len(chunks)
    assert final["prompt_eval_count"] == len(USER[0]["content"].split())
    for key in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        assert isinstance(final[key], int) and final[key] > 0
    assert final["total_duration"] >= final["load_duration"] + final["eval_duration"]
    assert fake.requests == [chat_body()]


def test_non_streaming_matches_the_stream(client: httpx.Client) -> None:
    streamed = stream_lines(client, chat_body())
    whole = client.post("/api/chat", json=chat_body(stream=False))
    assert whole.headers["content-type"].startswith("application/json")
    body = whole.json()
    assert set(body) == FINAL_KEYS and body["done"] is True
    assert body["message"] == {"role": "assistant", "content": text_of(streamed)}
    assert body["eval_count"] == streamed[-1]["eval_count"]


def test_same_request_same_answer_and_seed_changes_it(client: httpx.Client) -> None:
    def answer(**extra: Any) -> str:
        return str(client.post("/api/chat", json=chat_body(stream=False, **extra)).json()["message"]["content"])

    assert answer(options={"seed": 7}) == answer(options={"seed": 7, "temperature": 0.9})
    assert answer(options={"seed": 7}) != answer(options={"seed": 8})
    other_prompt = client.post(
        "/api/chat", json={"model": "llama3.2", "messages": [{"role": "user", "content": "x"}], "stream": False}
    )
    assert other_prompt.json()["message"]["content"] != answer()
    assert other_prompt.json()["model"] == "llama3.2"  # the name is echoed as sent


def test_num_predict_and_stop(client: httpx.Client) -> None:
    cut = stream_lines(client, chat_body(options={"num_predict": 5}))
    assert len(cut) == 6 and cut[-1]["done_reason"] == "length" and cut[-1]["eval_count"] == 5
    full = text_of(stream_lines(client, chat_body()))
    stop_word = full.split()[3]
    stopped = stream_lines(client, chat_body(options={"stop": [stop_word]}))
    assert text_of(stopped) == full[: full.index(stop_word)]
    assert stopped[-1]["done_reason"] == "stop"


def test_endless_streams_until_num_predict_or_for_good(fake: FakeOllama, client: httpx.Client) -> None:
    fake.endless = True
    capped = stream_lines(client, chat_body(options={"num_predict": 500}))
    assert len(capped) == 501 and capped[-1]["done_reason"] == "length" and capped[-1]["eval_count"] == 500
    with client.stream("POST", "/api/chat", json=chat_body()) as response:
        lines = response.iter_lines()
        assert all(not json.loads(next(lines))["done"] for _ in range(1000))
    with pytest.raises(httpx.ReadTimeout):  # asked for whole, an endless answer never comes
        client.post("/api/chat", json=chat_body(stream=False), timeout=0.3)


def test_fixed_reply_is_streamed_in_pieces(fake: FakeOllama, client: httpx.Client) -> None:
    fake.fixed_reply = "not json at all, sorry"
    lines = stream_lines(client, chat_body(format="json"))
    assert text_of(lines) == "not json at all, sorry" and len(lines) > 3


def test_format_schema_gives_json_list_of_strings(client: httpx.Client) -> None:
    wrapped = {
        "type": "object",
        "properties": {"paraphrases": {"type": "array", "items": {"type": "string"}, "minItems": 5, "maxItems": 5}},
        "required": ["paraphrases"],
    }
    value = json.loads(text_of(stream_lines(client, chat_body(format=wrapped))))
    assert list(value) == ["paraphrases"]
    assert len(value["paraphrases"]) == 5 and len(set(value["paraphrases"])) == 5
    assert all(isinstance(s, str) and s for s in value["paraphrases"])

    bare = {"type": "array", "items": {"type": "string"}}
    listed = json.loads(
        client.post("/api/chat", json=chat_body(format=bare, stream=False)).json()["message"]["content"]
    )
    assert isinstance(listed, list) and len(listed) == 3 and len(set(listed)) == 3

    obj = {
        "type": "object",
        "properties": {"question": {"type": "string"}, "answer": {"type": "string"}},
        "required": ["question", "answer"],
    }
    pair = json.loads(client.post("/api/chat", json=chat_body(format=obj, stream=False)).json()["message"]["content"])
    assert set(pair) == {"question", "answer"} and all(isinstance(v, str) and v for v in pair.values())

    plain_json = json.loads(
        client.post("/api/chat", json=chat_body(format="json", stream=False)).json()["message"]["content"]
    )
    assert isinstance(plain_json, dict) and plain_json

    bad = client.post("/api/chat", json=chat_body(format="xml"))
    assert bad.status_code == 500 and "invalid format" in bad.json()["error"]


def test_tool_calls_carry_object_arguments(client: httpx.Client) -> None:
    lines = stream_lines(client, chat_body(tools=[WEATHER_TOOL]))
    assert len(lines) == 2 and lines[-1]["done"] is True
    message = lines[0]["message"]
    assert message["content"] == "" and lines[0]["done"] is False
    (call,) = message["tool_calls"]
    assert call["function"]["name"] == "get_current_weather" and call["function"]["index"] == 0
    args = call["function"]["arguments"]
    assert isinstance(args, dict)
    assert isinstance(args["location"], str) and args["location"]
    assert args["format"] in ("celsius", "fahrenheit")
    assert isinstance(args["days"], int) and 1 <= args["days"] <= 7
    assert isinstance(args["threshold"], float) and isinstance(args["alerts"], bool)

    whole = client.post("/api/chat", json=chat_body(tools=[WEATHER_TOOL], stream=False)).json()
    assert whole["message"]["tool_calls"] == message["tool_calls"] and whole["message"]["content"] == ""

    # After the tool answered, the model replies in text.
    followup = [*USER, {"role": "assistant", "content": "", "tool_calls": message["tool_calls"]}]
    followup.append({"role": "tool", "content": "21 degrees", "tool_name": "get_current_weather"})
    text = client.post(
        "/api/chat", json={"model": "llama3.2", "messages": followup, "tools": [WEATHER_TOOL], "stream": False}
    ).json()["message"]
    assert text["content"] and "tool_calls" not in text


def test_thinking_model(client: httpx.Client) -> None:
    body = {"model": "qwen3:0.6b", "messages": USER}
    thinking = stream_lines(client, {**body, "think": True})
    thoughts = [line for line in thinking if line["message"].get("thinking")]
    assert thoughts and thinking.index(thoughts[-1]) < len(thoughts)  # thinking pieces come first
    assert all(line["message"]["content"] == "" for line in thoughts)
    assert "<think>" not in text_of(thinking) and text_of(thinking)

    with client.stream("POST", "/api/chat", json=body) as response:
        raw = response.read()
    assert b"\\u003cthink\\u003e" in raw  # Go's encoding/json escapes < and >
    content = text_of([json.loads(line) for line in raw.splitlines() if line])
    assert content.startswith("<think>") and "</think>" in content
    assert content.split("</think>", 1)[1].strip()

    no_think = client.post("/api/chat", json={**body, "think": False, "stream": False}).json()["message"]
    assert no_think["content"].startswith("<think>\n\n</think>")

    refused = client.post("/api/chat", json=chat_body(think=True))
    assert (refused.status_code, refused.json()) == (400, {"error": '"llama3.2:latest" does not support thinking'})


def test_errors_before_streaming(fake: FakeOllama, client: httpx.Client) -> None:
    missing = client.post("/api/chat", json={"model": "ghost", "messages": USER})
    assert missing.status_code == 404
    assert missing.json() == {"error": 'model "ghost" not found, try pulling it first'}

    malformed = client.post(
        "/api/chat", content=b'{"model": "llama3.2", ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["error"]
    assert client.post("/api/chat", content=b"").json() == {"error": "missing request body"}
    assert client.post("/api/chat", json={"messages": USER}).json() == {"error": "model is required"}

    loaded = client.post("/api/chat", json={"model": "llama3.2"}).json()
    assert loaded["done"] is True and loaded["done_reason"] == "load"

    fake.busy = True
    busy = client.post("/api/chat", json=chat_body())
    assert (busy.status_code, busy.json()) == (503, {"error": BUSY_ERROR})
    assert busy.json()["error"] == "server busy, please try again.  maximum pending requests exceeded"
    fake.busy = False
    assert client.post("/api/chat", json=chat_body(stream=False)).status_code == 200


def test_fail_after_chunks_ends_with_an_error_line(fake: FakeOllama, client: httpx.Client) -> None:
    fake.fail_after_chunks = 3
    lines = stream_lines(client, chat_body())
    assert len(lines) == 4 and all(line["done"] is False for line in lines[:3])
    assert set(lines[-1]) == {"error"}
    whole = client.post("/api/chat", json=chat_body(stream=False))
    assert whole.status_code == 500 and "error" in whole.json()
    fake.fail_after_chunks = None
    assert stream_lines(client, chat_body())[-1]["done"] is True  # the connection is still usable


def test_drop_after_chunks_cuts_the_stream(fake: FakeOllama, client: httpx.Client) -> None:
    fake.drop_after_chunks = 2
    received: list[dict[str, Any]] = []
    with pytest.raises(httpx.RemoteProtocolError), client.stream("POST", "/api/chat", json=chat_body()) as response:
        received.extend(json.loads(line) for line in response.iter_lines() if line)
    assert len(received) == 2 and not any(line["done"] for line in received)
    assert fake.disconnects == 0  # the server hung up, not the client
    fake.drop_after_chunks = None
    assert stream_lines(client, chat_body())[-1]["done"] is True


def test_keep_alive_reuses_one_connection(fake: FakeOllama, client: httpx.Client) -> None:
    for _ in range(3):
        stream_lines(client, chat_body())
        client.get("/api/tags")
    client.post("/api/chat", json=chat_body(stream=False))
    assert fake.connections_accepted == 1


# ------------------------------------------------------------------------------------ concurrency


async def test_async_stream_and_parallel_limit() -> None:
    with FakeOllama(parallel=2, token_latency=0.005) as fake:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=10) as http:

            async def one(i: int) -> list[dict[str, Any]]:
                body = chat_body(options={"seed": i, "num_predict": 8})
                async with http.stream("POST", "/api/chat", json=body) as response:
                    return [json.loads(line) async for line in response.aiter_lines() if line]

            started = time.perf_counter()
            results = await asyncio.gather(*(one(i) for i in range(8)))
            elapsed = time.perf_counter() - started
        assert all(r[-1]["done"] and r[-1]["eval_count"] == 8 for r in results)
        # The server frees a slot just after its last chunk is sent: the client can see "done" first.
        deadline = time.monotonic() + 2
        while fake.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert fake.max_in_flight == 2 and fake.in_flight == 0 and len(fake.requests) == 8
        assert elapsed >= 4 * 8 * 0.005  # four waves of eight chunks


async def test_raising_parallel_releases_the_queue() -> None:
    with FakeOllama(parallel=1, first_byte_delay=0.3) as fake:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=10) as http:
            tasks = [asyncio.create_task(http.post("/api/chat", json=chat_body(stream=False))) for _ in range(4)]
            await wait_for(lambda: fake.queued == 3)
            fake.parallel = 4
            await wait_for(lambda: fake.in_flight == 4)
            assert all(r.status_code == 200 for r in await asyncio.gather(*tasks))
        assert fake.max_in_flight == 4


async def test_client_disconnect_is_counted_and_frees_the_slot() -> None:
    with FakeOllama(parallel=1, token_latency=0.05) as fake:
        async with httpx.AsyncClient(base_url=fake.base_url, timeout=10) as http:
            async with http.stream("POST", "/api/chat", json=chat_body()) as response:
                lines = response.aiter_lines()
                await anext(lines)
                await anext(lines)
            await wait_for(lambda: fake.disconnects == 1)
            assert fake.in_flight == 0
            # Leaving while queued counts too, and does not leak the slot.
            slow = asyncio.create_task(http.post("/api/chat", json=chat_body(stream=False, options={"num_predict": 4})))
            await wait_for(lambda: fake.in_flight == 1)
            queued = asyncio.create_task(http.post("/api/chat", json=chat_body()))
            await wait_for(lambda: fake.queued == 1)
            queued.cancel()
            await wait_for(lambda: fake.disconnects == 2)
            assert (await slow).json()["done"] is True
            fake.token_latency = 0
            assert (await http.post("/api/chat", json=chat_body(stream=False))).status_code == 200


async def test_hundreds_of_concurrent_connections() -> None:
    # 300 connections open at once, all holding a slot during first_byte_delay. The requests are spread
    # over ten clients: one httpx pool with hundreds of connections is slow on the client side (~4 s).
    clients, per_client = 10, 30
    count = clients * per_client
    with FakeOllama(parallel=count, first_byte_delay=0.5) as fake:
        https = [
            httpx.AsyncClient(base_url=fake.base_url, timeout=20, limits=httpx.Limits(max_connections=per_client))
            for _ in range(clients)
        ]
        body = chat_body(stream=False, options={"num_predict": 3})
        try:
            responses = await asyncio.gather(
                *(http.post("/api/chat", json=body) for http in https for _ in range(per_client))
            )
        finally:
            await asyncio.gather(*(http.aclose() for http in https))
        assert all(r.status_code == 200 and r.json()["eval_count"] == 3 for r in responses)
        assert fake.connections_accepted == count and fake.max_in_flight == count


# --------------------------------------------------------------------------------------- lifecycle


def test_stop_is_fast_and_closes_live_streams() -> None:
    fake = FakeOllama(token_latency=0.5).start()
    errors: list[BaseException] = []
    got_first = threading.Event()

    def reader() -> None:
        try:
            with (
                httpx.Client(base_url=fake.base_url, timeout=10) as http,
                http.stream("POST", "/api/chat", json=chat_body()) as response,
            ):
                for _ in response.iter_lines():
                    got_first.set()
        except httpx.HTTPError as exc:
            errors.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    assert got_first.wait(5)
    started = time.perf_counter()
    fake.stop()
    assert time.perf_counter() - started < 1.0
    thread.join(5)
    assert not thread.is_alive() and errors
    assert not [t for t in threading.enumerate() if t.name == "fake-ollama"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{fake.port}/", timeout=1)
    fake.stop()  # idempotent


@pytest.mark.slow
def test_command_line_runs_in_the_foreground() -> None:
    command = [sys.executable, "-m", "tests.fake_ollama", "--port", "0", "--token-latency", "0"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=env) as process:
        try:
            assert process.stdout is not None
            base_url = process.stdout.readline().strip()
            assert base_url.startswith("http://127.0.0.1:")
            assert httpx.get(base_url + "/", timeout=5).text == "Ollama is running"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            if process.poll() is None:
                process.kill()


# ------------------------------------------------------------------------- load and unload (/api/generate)


def ps_names(client: httpx.Client) -> list[str]:
    return [m["name"] for m in client.get("/api/ps").json()["models"]]


def test_generate_with_keep_alive_0_unloads_and_without_it_loads(fake: FakeOllama, client: httpx.Client) -> None:
    """Ollama's GenerateHandler for an empty prompt (docs/api.md "Load a model" / "Unload a model")."""
    name = fake.models[0].name
    client.post("/api/chat", json=chat_body(model=name, stream=False))
    assert ps_names(client) == [name]

    unloaded = client.post("/api/generate", json={"model": name, "keep_alive": 0})
    assert unloaded.status_code == 200
    body = unloaded.json()
    assert set(body) == {"model", "created_at", "response", "done", "done_reason"}
    assert (body["model"], body["response"], body["done"], body["done_reason"]) == (name, "", True, "unload")
    assert ps_names(client) == []

    loaded = client.post("/api/generate", json={"model": name})
    assert loaded.status_code == 200 and loaded.json()["done_reason"] == "load"
    assert ps_names(client) == [name]
    again = client.post("/api/generate", json={"model": name, "keep_alive": "0s"})
    assert again.json()["done_reason"] == "unload" and ps_names(client) == []

    assert [(r.model, r.unload) for r in fake.keep_alive_requests] == [(name, True), (name, False), (name, True)]
    assert fake.keep_alive_requests[0].body == {"model": name, "keep_alive": 0}
    assert all(r.chats_received == 1 and r.chats_in_flight == 0 for r in fake.keep_alive_requests)


def test_generate_for_a_missing_model_is_404(fake: FakeOllama, client: httpx.Client) -> None:
    missing = client.post("/api/generate", json={"model": "no-such-model", "keep_alive": 0})
    assert missing.status_code == 404 and missing.json() == {"error": "model 'no-such-model' not found"}
    assert client.post("/api/generate", json={}).status_code == 400
    assert fake.keep_alive_requests == []
