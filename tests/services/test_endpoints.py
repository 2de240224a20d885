"""Endpoints in Settings (services.endpoints): added with the models their server lists (two real fake
Ollama servers), checked, changed, refreshed and removed, and the endpoint choice of Audition and jobs."""

from __future__ import annotations

import socket

import pytest

from forge_tui.core.endpoints import Endpoint
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.jobs import endpoint_of
from forge_tui.services.endpoints import EndpointService, checked_choice, new_endpoint, with_endpoint
from forge_tui.services.jobs import JobService
from forge_tui.services.settings import SettingsService
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeModel, FakeOllama
from tests.job_recipe import plan


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def endpoints(workspace: Workspace) -> EndpointService:
    return EndpointService(workspace.settings)


async def test_an_endpoint_is_added_with_the_models_its_server_lists(
    endpoints: EndpointService, workspace: Workspace
) -> None:
    with FakeOllama() as one, FakeOllama(models=[FakeModel(name="gemma3:270m")]) as two:
        url = one.base_url
        first = await endpoints.add(new_endpoint("gpu1", "ollama", url + "/", max_concurrency=64))
        second = await endpoints.add(new_endpoint("gpu2", "openai", two.base_url + "/v1"))
    assert first.problem is None and first.endpoint.models == ["llama3.2:latest", "qwen3:0.6b"]
    assert first.endpoint.url == url and first.endpoint.max_concurrency == 64  # no trailing slash
    assert second.endpoint.models == ["gemma3:270m"]  # read from /v1/models
    saved = SettingsService(workspace.home, workspace.user).backend()
    assert [(e.name, e.kind, e.models) for e in saved.endpoints] == [
        ("gpu1", "ollama", ["llama3.2:latest", "qwen3:0.6b"]),
        ("gpu2", "openai", ["gemma3:270m"]),
    ]


async def test_a_server_that_does_not_answer_is_added_with_a_sentence_naming_its_url(
    endpoints: EndpointService,
) -> None:
    url = dead_url()
    listed = await endpoints.add(new_endpoint("later", "ollama", url))
    assert listed.endpoint.models == [] and [e.name for e in endpoints.saved()] == ["later"]
    assert listed.problem is not None and url in listed.problem and "\n" not in listed.problem


async def test_names_urls_and_duplicates_are_refused_and_nothing_changes(endpoints: EndpointService) -> None:
    url = dead_url()
    await endpoints.add(new_endpoint("gpu1", "ollama", url))
    with pytest.raises(InvalidInput, match="There is an endpoint named 'gpu1' already"):
        await endpoints.add(new_endpoint("GPU1", "ollama", "http://other:11434"))
    with pytest.raises(InvalidInput, match=f"Endpoint 'gpu1' already points at {url}"):
        await endpoints.add(new_endpoint("again", "ollama", url + "/"))
    with pytest.raises(InvalidInput, match="starts with http:// or https:// and names a host, not 'gpu-box:8000'"):
        new_endpoint("box", "openai", "gpu-box:8000")
    with pytest.raises(InvalidInput, match="'pool' cannot be used: an endpoint name is 1-40 letters"):
        new_endpoint("pool", "ollama", "http://box:1")
    with pytest.raises(InvalidInput, match="Max concurrency is a whole number between 1 and 1024"):
        new_endpoint("box", "ollama", "http://box:1", max_concurrency=0)
    with pytest.raises(InvalidInput, match="The kind is ollama, openai or anthropic, not 'vllm'"):
        new_endpoint("box", "vllm", "http://box:1")
    assert [e.name for e in endpoints.saved()] == ["gpu1"]


async def test_update_refresh_and_remove(endpoints: EndpointService, workspace: Workspace) -> None:
    url = dead_url()
    await endpoints.add(new_endpoint("gpu1", "ollama", url))
    changed = await endpoints.update("gpu1", max_concurrency=8)
    assert changed.endpoint.max_concurrency == 8 and changed.problem is None  # same server: not asked again
    with FakeOllama() as fake:
        moved = await endpoints.update("gpu1", url=fake.base_url)
        assert moved.endpoint.models == ["llama3.2:latest", "qwen3:0.6b"] and moved.problem is None
        fake.models = [FakeModel(name="gemma3:270m")]
        [refreshed] = await endpoints.refresh()
        assert refreshed.endpoint.models == ["gemma3:270m"]
    [down] = await endpoints.refresh("gpu1")  # the server is gone: the models read before are kept
    assert down.problem is not None and down.endpoint.models == ["gemma3:270m"]
    assert endpoints.get("gpu1").models == ["gemma3:270m"]
    with pytest.raises(InvalidInput, match="models cannot be changed here"):
        await endpoints.update("gpu1", models=["x"])
    with pytest.raises(NotFound, match="There is no endpoint 'nope'"):
        await endpoints.update("nope", max_concurrency=2)

    assert endpoints.choose("gpu1") == "gpu1"
    assert workspace.settings.backend().endpoint == "gpu1"
    endpoints.remove("gpu1")
    assert endpoints.saved() == [] and workspace.settings.backend().endpoint is None  # the choice: the pool


async def test_a_change_elsewhere_meanwhile_is_kept(workspace: Workspace) -> None:
    """Two processes (or the TUI beside the CLI) each change the list: neither loses the other's."""
    here = EndpointService(workspace.settings)
    there = EndpointService(SettingsService(workspace.home, workspace.user))
    await here.add(new_endpoint("a", "ollama", "http://127.0.0.1:9"))
    await there.add(new_endpoint("b", "ollama", "http://127.0.0.1:10"))
    here.remove("a")
    assert [e.name for e in there.saved()] == ["b"]


def test_the_choice_is_the_pool_or_a_configured_name(workspace: Workspace) -> None:
    settings = workspace.settings.backend()
    assert checked_choice(settings, "pool") is None and checked_choice(settings, "") is None
    assert checked_choice(settings, "default") == "default"  # none configured: the server of Settings
    listed = settings.model_copy(update={"endpoints": [Endpoint(name="gpu1", url="http://a:1")]})
    assert checked_choice(listed, "gpu1") == "gpu1"
    with pytest.raises(InvalidInput, match="There is no endpoint 'default'; choose pool or one of: gpu1"):
        checked_choice(listed, "default")


def test_a_jobs_endpoint_choice_is_kept_in_its_params(workspace: Workspace) -> None:
    jobs = JobService(workspace.home, workspace.unlocked)
    dataset = workspace.datasets.create("generated").id
    on_one = jobs.create(with_endpoint(plan(dataset, 2), "gpu1"))
    on_pool = jobs.create(with_endpoint(plan(dataset, 2), None))
    older = jobs.create(plan(dataset, 2))
    assert jobs.get(on_one.id).endpoint == "gpu1"
    assert jobs.get(on_pool.id).endpoint is None and jobs.get(older.id).endpoint is None
    assert endpoint_of({"endpoint": "pool"}) is None and endpoint_of({"endpoint": 3}) is None
