"""Model management (services.models) against real fake servers: the list of every endpoint with what
is loaded, details, pull with progress, cancel, a missing name, a full disk, delete, copy, unload, and
choosing a default model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import InvalidInput
from forge_tui.core.model_catalog import PullBoard, PullProgress
from forge_tui.services.models import DiskFull, ModelNotFound, ModelService, use_as_default
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeModel, FakeOllama, pull_layers, registry_models


async def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"the condition never held in {timeout:g} s"
        await asyncio.sleep(0.02)


def one(fake: FakeOllama) -> ModelService:
    return ModelService(BackendSettings(base_url=fake.base_url))


async def test_the_list_holds_every_model_of_every_endpoint_and_what_is_loaded(fake: FakeOllama) -> None:
    with FakeOllama(models=[FakeModel(name="gemma3:270m", family="gemma3", context_length=32_768)]) as other:
        settings = BackendSettings(
            endpoints=[
                Endpoint(name="gpu1", kind="ollama", url=fake.base_url),
                Endpoint(name="vllm", kind="openai", url=other.base_url + "/v1"),
                Endpoint(name="gone", kind="ollama", url="http://127.0.0.1:9"),
            ]
        )
        service = ModelService(settings)
        httpx.post(f"{fake.base_url}/api/generate", json={"model": "qwen3:0.6b"})  # loads it
        catalog = await service.catalog()
    by_name = {(e.endpoint, e.name): e for e in catalog.entries}
    assert set(by_name) == {("gpu1", "llama3.2:latest"), ("gpu1", "qwen3:0.6b"), ("vllm", "gemma3:270m")}
    qwen = by_name["gpu1", "qwen3:0.6b"]
    assert qwen.loaded and qwen.size_vram == 522_653_767 and qwen.expires_at
    assert (qwen.parameter_size, qwen.quantization, qwen.family) == ("751.63M", "Q4_K_M", "qwen3")
    assert qwen.context_length == 4096  # as loaded; /api/show says 40960
    llama = by_name["gpu1", "llama3.2:latest"]
    assert not llama.loaded and llama.context_length == 131_072 and llama.modified_at
    assert by_name["vllm", "gemma3:270m"].kind == "openai"
    assert [name for name, _ in catalog.problems] == ["gone"] and "127.0.0.1:9" in catalog.problems[0][1]


async def test_details_come_from_api_show(fake: FakeOllama) -> None:
    fake.models.append(registry_models()[1])  # llava: vision, with a license
    details = await one(fake).details("llava:7b")
    assert details.capabilities == ["completion", "vision"]
    assert details.license == "Apache License 2.0" and "{{ .Content }}" in details.template
    assert details.context_length == 32_768 and details.endpoint == "default"
    with pytest.raises(ModelNotFound, match=f"The server at {fake.base_url} has no model 'nope'"):
        await one(fake).details("nope")


async def test_a_pull_streams_every_layer_then_the_model_is_there(fake: FakeOllama) -> None:
    board = PullBoard()
    lines = [line async for line in one(fake).pull("gemma3:270m")]
    for i, line in enumerate(lines):
        board.add(line, float(i))
    assert [line.status for line in lines[:1] + lines[-3:]] == [
        "pulling manifest",
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    layers = pull_layers(registry_models()[0])
    assert list(board.layers) == [digest for digest, _ in layers]
    assert all(
        layer.completed == layer.total == size for layer, (_, size) in zip(board.layers.values(), layers, strict=True)
    )
    assert board.done and board.layers[layers[0][0]].rate > 0
    assert lines[1].status == f"pulling {layers[0][0][7:19]}"
    assert fake.model("gemma3:270m") is not None and fake.pulls == [("gemma3:270m", "success")]


async def test_a_pull_of_a_name_the_registry_lacks_or_onto_a_full_disk_says_so(fake: FakeOllama) -> None:
    with pytest.raises(ModelNotFound, match=f"registry of the server at {fake.base_url} has no model 'nosuch'"):
        async for _line in one(fake).pull("nosuch"):
            pass
    fake.disk_full = True
    seen: list[PullProgress] = []
    with pytest.raises(DiskFull, match=f"The server at {fake.base_url} ran out of disk space while pulling"):
        async for line in one(fake).pull("gemma3:270m"):
            seen.append(line)
    assert seen and fake.model("gemma3:270m") is None
    with pytest.raises(InvalidInput, match="has no spaces"):
        async for _line in one(fake).pull("two words"):
            pass


async def test_a_pull_is_cancelled_by_closing_it(fake: FakeOllama) -> None:
    fake.pull_delay, fake.pull_steps = 0.05, 20
    pulling = one(fake).pull("llava:7b")
    seen = [await anext(pulling) for _ in range(3)]
    await pulling.aclose()
    assert seen[0].status == "pulling manifest"
    await wait_until(lambda: fake.pulls == [("llava:7b", "cancelled")])
    assert fake.model("llava:7b") is None


async def test_a_pull_task_that_is_cancelled_stops_the_pull(fake: FakeOllama) -> None:
    fake.pull_delay, fake.pull_steps = 0.05, 20

    async def follow() -> None:
        async for _line in one(fake).pull("llava:7b"):
            pass

    task = asyncio.create_task(follow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: fake.pulls == [("llava:7b", "cancelled")])


async def test_delete_copy_and_unload(fake: FakeOllama) -> None:
    service = one(fake)
    await service.copy("llama3.2", "mine:v1")
    assert fake.model("mine:v1") is not None
    await service.delete("mine:v1")
    assert fake.model("mine:v1") is None
    with pytest.raises(ModelNotFound, match="has no model 'mine:v1'"):
        await service.delete("mine:v1")
    with pytest.raises(ModelNotFound, match="has no model 'ghost'"):
        await service.copy("ghost", "other")
    httpx.post(f"{fake.base_url}/api/generate", json={"model": "qwen3:0.6b"})  # load it
    assert [m.name for m in await service.running()] == ["qwen3:0.6b"]
    assert await service.unload("qwen3:0.6b")
    assert await service.running() == []


async def test_an_openai_server_lists_models_but_does_not_pull(fake: FakeOllama) -> None:
    service = ModelService(BackendSettings(kind="openai", base_url=fake.base_url + "/v1"))
    details = await service.details("qwen3:0.6b")
    assert details.name == "qwen3:0.6b" and details.template == ""
    assert await service.running() == [] and not await service.unload("qwen3:0.6b")
    with pytest.raises(InvalidInput, match="only Ollama pulls"):
        await service.delete("qwen3:0.6b")


def test_a_model_becomes_the_default_of_a_role(workspace: Workspace) -> None:
    use_as_default(workspace.settings, "judge", "qwen3:0.6b")
    use_as_default(workspace.settings, "paraphrase", "llama3.2:latest")
    saved = workspace.settings.backend()
    assert (saved.judge_model, saved.paraphrase_model) == ("qwen3:0.6b", "llama3.2:latest")
    with pytest.raises(InvalidInput):
        use_as_default(workspace.settings, "chef", "x")  # type: ignore[arg-type]
