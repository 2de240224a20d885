"""`forge-tui models list|show|pull|rm|cp|ps` against the fake Ollama, through the account's endpoints."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.cli.conftest import Cli
from tests.fake_ollama import FakeModel, FakeOllama, pull_layers, registry_models


@pytest.fixture
def two(alice: Cli, fake: FakeOllama) -> FakeOllama:
    """alice with endpoints gpu1 (`fake`) and gpu2 (a second fake with gemma3); returns gpu2's server."""
    other = FakeOllama(models=[FakeModel(name="gemma3:270m", family="gemma3")]).start()
    for name, server in (("gpu1", fake), ("gpu2", other)):
        added = alice("settings", "endpoints", "add", name, "--url", server.base_url)
        assert added.exit_code == 0, added.output
    return other


def test_models_alone_and_list_show_every_endpoint(alice: Cli, fake: FakeOllama, two: FakeOllama) -> None:
    try:
        for args in (["models"], ["models", "list"]):
            table = alice(*args)
            assert table.exit_code == 0, table.output
            header, *rows = table.stdout.splitlines()
            assert header.split() == ["NAME", "SIZE", "PARAMS", "QUANT", "FAMILY", "CONTEXT", "LOADED", "ENDPOINT"]
            assert any(r.startswith("gemma3:270m") and r.endswith("gpu2") for r in rows)
        listed = json.loads(alice("models", "list", "--json", "--endpoint", "gpu2").stdout)
        assert [(m["name"], m["endpoint"], m["loaded"]) for m in listed] == [("gemma3:270m", "gpu2", False)]
        # the keys `models --json` always had are still there
        assert {"name", "size", "family", "parameter_size", "quantization", "context_length", "capabilities"} <= set(
            listed[0]
        )
        assert listed[0]["capabilities"] == ["completion", "tools"]
        two.stop()
        partly = alice("models", "--json")
        assert partly.exit_code == 6 and "endpoint 'gpu2'" in partly.stderr
        assert {m["endpoint"] for m in json.loads(partly.stdout)} == {"gpu1"}
    finally:
        two.stop()


def test_show_and_ps(alice: Cli, fake: FakeOllama) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    shown = alice("models", "show", "qwen3:0.6b", "--json")
    assert shown.exit_code == 0, shown.output
    details = json.loads(shown.stdout)
    assert details["capabilities"] == ["completion", "tools", "thinking"] and details["context_length"] == 40_960
    text = alice("models", "show", "qwen3:0.6b").stdout
    assert "thinking" in text and "Template:" in text
    missing = alice("models", "show", "nope")
    assert missing.exit_code == 6 and "has no model 'nope'" in missing.stderr
    assert alice("models", "ps").stdout.strip() == "No model is loaded now."
    httpx.post(f"{fake.base_url}/api/generate", json={"model": "qwen3:0.6b"})  # loads it
    ps = json.loads(alice("models", "ps", "--json").stdout)
    assert [m["name"] for m in ps] == ["qwen3:0.6b"] and ps[0]["size_vram"] > 0


def test_pull_prints_json_lines_or_statuses_and_fails_clearly(alice: Cli, fake: FakeOllama) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    fake.pull_steps = 2
    pulled = alice("models", "pull", "gemma3:270m", "--json")
    assert pulled.exit_code == 0, pulled.output
    lines = [json.loads(line) for line in pulled.stdout.splitlines()]
    digest = pull_layers(registry_models()[0])[0][0]
    assert lines[0] == {"status": "pulling manifest"} and lines[-1] == {"status": "success"}
    assert {"status": f"pulling {digest[7:19]}", "digest": digest, "total": lines[1]["total"]} == lines[1]
    plain = alice("models", "pull", "llava:7b")
    assert plain.exit_code == 0, plain.output
    assert plain.stdout.splitlines()[0] == "pulling manifest" and "Pulled 'llava:7b'." in plain.stdout
    unknown = alice("models", "pull", "nosuch")
    assert unknown.exit_code == 6 and "has no model 'nosuch'" in unknown.stderr
    fake.disk_full = True
    full = alice("models", "pull", "llava:7b")
    assert full.exit_code == 6 and "ran out of disk space" in full.stderr
    assert "Traceback" not in full.output


def test_rm_asks_unless_yes_and_cp_copies(alice: Cli, fake: FakeOllama) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    copied = alice("models", "cp", "llama3.2:latest", "mine:v1", "--json")
    assert copied.exit_code == 0 and json.loads(copied.stdout) == {"copied": "llama3.2:latest", "to": "mine:v1"}
    refused = alice("models", "rm", "mine:v1")
    assert refused.exit_code == 2 and "--yes" in refused.stderr and fake.model("mine:v1") is not None
    removed = alice("models", "rm", "mine:v1", "--yes")
    assert removed.exit_code == 0 and "Deleted model 'mine:v1' from endpoint 'default'." in removed.stdout
    assert fake.model("mine:v1") is None
    again = alice("models", "rm", "mine:v1", "--yes")
    assert again.exit_code == 6 and "has no model 'mine:v1'" in again.stderr


def test_on_a_terminal_a_pull_draws_a_bar_per_layer(capsys: pytest.CaptureFixture[str]) -> None:
    from forge_tui.cli.pull_progress import PullDisplay
    from forge_tui.core.model_catalog import PullProgress

    layers = pull_layers(registry_models()[0])
    with PullDisplay(as_json=False, terminal=True) as display:
        display.show(PullProgress(status="pulling manifest"))
        for digest, total in layers:
            display.show(PullProgress(status=f"pulling {digest[7:19]}", digest=digest, total=total, completed=total))
        display.show(PullProgress(status="success"))
    out = capsys.readouterr().out
    assert "pulling manifest" in out and "success" in out
    assert all(f"pulling {digest[7:19]}" in out for digest, _ in layers)
    assert "291.6 MB" in out or "291.6/291.6 MB" in out
