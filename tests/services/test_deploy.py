"""Deploying a run's adapter to the fake Ollama: the Modelfile written beside it, blobs uploaded by digest
(what the server holds is not sent again), /api/create with the right adapters and template, and the typed
errors (no adapter, a base the server does not have, an upload the server refuses)."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.chat_templates import chat_template
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.llm.errors import BlobRejected, ModelNotFound
from forge_tui.llm.ollama_create import CHUNK_BYTES
from forge_tui.services.deploy import AdapterNotFound, DeployPlan, DeployProgress, DeployService, Run, find_run
from forge_tui.services.jobs import JobPlan, JobService
from forge_tui.services.workspace import Workspace
from forge_tui.store.jobs import ItemInputs
from tests.adapters import GGUF_ADAPTER, peft_adapter
from tests.fake_ollama import FakeModel, FakeOllama


def service(fake: FakeOllama) -> DeployService:
    return DeployService(BackendSettings(kind="ollama", base_url=fake.base_url))


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def run_all(deployer: DeployService, plan: DeployPlan) -> list[DeployProgress]:
    async def collect() -> list[DeployProgress]:
        return [step async for step in deployer.deploy(plan)]

    return asyncio.run(collect())


def test_a_peft_run_is_uploaded_by_digest_and_created(fake: FakeOllama, tmp_path: Path) -> None:
    fake.models.append(FakeModel(name="llama3.2:1b", family="llama"))
    output = peft_adapter(tmp_path / "output")  # trained on meta-llama/Llama-3.2-1B-Instruct
    deployer = service(fake)
    plan = deployer.plan(Run(output), "tuned", parameters=(("temperature", "0.2"),))
    config, weights = output / "adapter_config.json", output / "adapter_model.safetensors"
    steps = run_all(deployer, plan)

    modelfile = (output / "Modelfile").read_text(encoding="utf-8")
    assert modelfile.splitlines()[1:3] == ["FROM llama3.2:1b", "ADAPTER ."]
    assert f'TEMPLATE """{chat_template("llama3").template}"""' in modelfile
    assert 'PARAMETER stop "<|eot_id|>"' in modelfile and "PARAMETER temperature 0.2" in modelfile
    assert fake.blob_requests == [
        ("HEAD", digest(config)),
        ("POST", digest(config)),
        ("HEAD", digest(weights)),
        ("POST", digest(weights)),
    ]
    assert fake.blobs[digest(weights)] == weights.read_bytes()
    sent = fake.creates[-1]
    assert sent["model"] == "tuned" and sent["from"] == "llama3.2:1b"
    assert sent["adapters"] == {"adapter_config.json": digest(config), "adapter_model.safetensors": digest(weights)}
    assert sent["template"] == chat_template("llama3").template
    assert sent["parameters"] == {
        "stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
        "temperature": 0.2,
    }
    assert [s.stage for s in steps][:3] == ["modelfile", "blob", "blob"] and steps[-1].stage == "done"
    assert steps[-2].status == "success"
    created = fake.model("tuned")
    assert created is not None and created.adapters == sorted([digest(config), digest(weights)])

    fake.blob_requests.clear()
    run_all(deployer, deployer.plan(Run(output), "tuned-again"))
    assert [method for method, _ in fake.blob_requests] == ["HEAD", "HEAD"]  # held: not sent again


def test_a_gguf_adapter_on_a_gemma_base_the_server_pulls(fake: FakeOllama, tmp_path: Path) -> None:
    output = tmp_path / "run"
    output.mkdir()
    (output / "adapter.gguf").write_bytes(GGUF_ADAPTER)
    deployer = service(fake)
    plan = deployer.plan(Run(output, base_model="google/gemma-3-270m-it", chat_format="gemma"), "g")
    steps = run_all(deployer, plan)
    assert plan.spec.base == "gemma3:270m" and plan.spec.adapter == "./adapter.gguf"
    assert fake.creates[-1]["adapters"] == {"adapter.gguf": digest(output / "adapter.gguf")}
    assert fake.creates[-1]["parameters"] == {"stop": ["<end_of_turn>"]}
    assert "pulling manifest" in [s.status for s in steps]
    assert fake.model("g") is not None


def test_the_last_checkpoint_is_deployed_when_the_folder_has_no_adapter(fake: FakeOllama, tmp_path: Path) -> None:
    output = tmp_path / "output"
    for step in (5, 10, 2):
        peft_adapter(output / f"checkpoint-{step}")
    plan = service(fake).plan(Run(output), "c", base="llama3.2", chat_format="llama3")
    assert plan.adapter.folder == output / "checkpoint-10" and plan.spec.adapter == "./checkpoint-10"
    assert (output / "Modelfile").is_file()


def test_what_cannot_be_deployed_says_why(fake: FakeOllama, tmp_path: Path) -> None:
    deployer = service(fake)
    with pytest.raises(AdapterNotFound, match=r"adapter_model\.safetensors"):
        deployer.plan(Run(tmp_path), "x", base="llama3.2", chat_format="llama3")
    output = peft_adapter(tmp_path / "own", base_model="someone/own-model")
    with pytest.raises(InvalidInput, match="--base"):
        deployer.plan(Run(output), "x")
    with pytest.raises(InvalidInput, match="--chat-format"):
        deployer.plan(Run(output), "x", base="llama3.2")
    with pytest.raises(InvalidInput, match="no spaces"):
        deployer.plan(Run(output), "two words", base="llama3.2", chat_format="llama3")


def test_a_base_the_server_does_not_have_names_the_server(fake: FakeOllama, tmp_path: Path) -> None:
    deployer = service(fake)
    plan = deployer.plan(Run(peft_adapter(tmp_path / "o")), "x", base="nosuch:1b", chat_format="llama3")
    with pytest.raises(ModelNotFound, match=f"{fake.base_url}.*'nosuch:1b'"):
        run_all(deployer, plan)


def test_a_corrupt_upload_is_refused(fake: FakeOllama, tmp_path: Path) -> None:
    output = peft_adapter(tmp_path / "o")
    deployer = service(fake)
    plan = deployer.plan(Run(output), "x", base="llama3.2", chat_format="llama3")
    weights = output / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x01\x02\x03\x04")  # changed after it was hashed
    with pytest.raises(BlobRejected, match=r"adapter_model\.safetensors.*digest mismatch"):
        run_all(deployer, plan)
    assert fake.creates == [] and fake.model("x") is None


def test_a_training_job_is_found_by_id(workspace: Workspace, tmp_path: Path) -> None:
    dataset = workspace.datasets.create("chats")
    jobs = JobService(workspace.home, workspace.unlocked)
    params = {
        "bundle": str(tmp_path / "bundle"),
        "output_dir": str(tmp_path / "bundle" / "output"),
        "base_model": "google/gemma-3-270m-it",
        "trainer": "trl",
        "stage": "sft",
        "chat_format": "gemma",
    }
    train = jobs.create(JobPlan("train", "run", dataset.id, None, {}, params, [ItemInputs(0, {}, 0)]))
    owner = workspace.unlocked.user.id
    found = find_run(workspace.home, owner, str(train.id))
    assert found == Run(Path(params["output_dir"]), "google/gemma-3-270m-it", "gemma", train.id)
    other = jobs.create(JobPlan("generate", "gen", dataset.id, None, {}, {}, [ItemInputs(0, {}, 0)]))
    with pytest.raises(InvalidInput, match="not a training run"):
        find_run(workspace.home, owner, str(other.id))
    with pytest.raises(NotFound, match="No job with id 999"):
        find_run(workspace.home, owner, "999")


def test_an_upload_is_streamed_a_mebibyte_at_a_time(fake: FakeOllama, tmp_path: Path) -> None:
    adapter = tmp_path / "big.gguf"
    adapter.write_bytes(GGUF_ADAPTER + bytes(5 * 1024 * 1024 // 2))
    deployer = service(fake)
    plan = deployer.plan(Run(adapter), "big", base="llama3.2", chat_format="llama3")
    heard: list[tuple[str, int]] = []

    async def collect() -> None:
        async for _step in deployer.deploy(plan, sent=lambda file, done: heard.append((file, done))):
            pass

    asyncio.run(collect())
    size = adapter.stat().st_size
    assert heard == [("big.gguf", CHUNK_BYTES), ("big.gguf", 2 * CHUNK_BYTES), ("big.gguf", size)]
    assert fake.blobs[digest(adapter)] == adapter.read_bytes()
    assert (tmp_path / "Modelfile").read_text(encoding="utf-8").splitlines()[2] == "ADAPTER ./big.gguf"
