"""`forge-tui deploy RUN --name NAME` against the fake Ollama: a folder or a training job's id, progress lines
or JSON lines, asking before a model of that name is replaced, and the exit codes of what cannot be deployed."""

from __future__ import annotations

import json
from pathlib import Path

from forge_tui.services.jobs import JobPlan, JobService
from forge_tui.services.workspace import Workspace
from forge_tui.store.jobs import ItemInputs
from tests.adapters import GGUF_ADAPTER, peft_adapter
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama


def test_deploy_a_folder_with_json_lines_then_ask_before_replacing(
    alice: Cli, fake: FakeOllama, tmp_path: Path
) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    output = peft_adapter(tmp_path / "output")
    done = alice("deploy", str(output), "--name", "tuned", "--base", "llama3.2", "--json")
    assert done.exit_code == 0, done.output
    steps = [json.loads(line) for line in done.stdout.splitlines()]
    assert steps[0] == {
        "stage": "modelfile",
        "model": "tuned",
        "endpoint": "default",
        "path": str(output / "Modelfile"),
    }
    assert [(s["stage"], s.get("file"), s.get("held")) for s in steps[1:3]] == [
        ("blob", "adapter_config.json", False),
        ("blob", "adapter_model.safetensors", False),
    ]
    assert steps[-2]["status"] == "success" and steps[-1]["stage"] == "done"
    assert fake.model("tuned") is not None

    again = alice("deploy", str(output), "--name", "tuned", "--base", "llama3.2")
    assert again.exit_code == 2 and "give --yes to replace it" in again.stderr
    replaced = alice("deploy", str(output), "--name", "tuned", "--base", "llama3.2", "--yes", "-p", "num_ctx=8192")
    assert replaced.exit_code == 0, replaced.output
    lines = replaced.stdout.splitlines()
    assert lines[0] == f"Wrote {output / 'Modelfile'}"
    assert "adapter_model.safetensors: the server has it already." in lines
    assert lines[-1] == "Deployed 'tuned' on endpoint 'default' (FROM llama3.2)."
    assert fake.creates[-1]["parameters"]["num_ctx"] == 8192


def test_deploy_a_training_job_by_id(alice: Cli, workspace_of: Workspace, fake: FakeOllama, tmp_path: Path) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    output = tmp_path / "bundle" / "output"
    output.mkdir(parents=True)
    (output / "adapter.gguf").write_bytes(GGUF_ADAPTER)
    dataset = workspace_of.datasets.create("chats")
    params = {"output_dir": str(output), "base_model": "google/gemma-3-270m-it", "chat_format": "gemma"}
    job = JobService(workspace_of.home, workspace_of.unlocked).create(
        JobPlan("train", "run", dataset.id, None, {}, params, [ItemInputs(0, {}, 0)])
    )
    done = alice("deploy", str(job.id), "--name", "gemma-tuned")
    assert done.exit_code == 0, done.output
    assert "Deployed 'gemma-tuned' on endpoint 'default' (FROM gemma3:270m)." in done.stdout
    assert fake.creates[-1]["from"] == "gemma3:270m"


def test_what_cannot_be_deployed_exits_with_its_code(alice: Cli, fake: FakeOllama, tmp_path: Path) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    empty = alice("deploy", str(tmp_path), "--name", "x", "--base", "llama3.2", "--chat-format", "llama3")
    assert empty.exit_code == 5 and "There is no adapter in" in empty.stderr
    assert "Traceback" not in empty.output
    missing = alice("deploy", str(tmp_path / "nowhere"), "--name", "x")
    assert missing.exit_code == 5 and "no training job or output folder" in missing.stderr
    output = peft_adapter(tmp_path / "o")
    unknown = alice("deploy", str(output), "--name", "x", "--base", "nosuch:1b")
    assert unknown.exit_code == 6 and "does not have the base model 'nosuch:1b'" in unknown.stderr
    bad = alice("deploy", str(output), "--name", "x", "--base", "llama3.2", "-p", "temprature=1")
    assert bad.exit_code == 2 and "not a parameter Ollama knows" in bad.stderr
