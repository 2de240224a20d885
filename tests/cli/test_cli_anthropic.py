"""An Anthropic endpoint end to end against the fake Anthropic server: added with `settings endpoints
add --kind anthropic`, checked by `doctor` and `models`, and a generation job (in the foreground and
detached, with its log) and a judge job run on it. The API key, a unique secret in the variable the
endpoint names, reaches the server and appears in no file of the data directory (the database and its
WAL, the job's log), no saved or exported configuration, and no output."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from typer.testing import Result

from forge_tui.core.models import Example, ExampleSource
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_anthropic import FakeAnthropic
from tests.judge_replies import verdict_json
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"
KEY_ENV = "FORGE_TEST_CLAUDE_KEY"
MODEL = "claude-sonnet-4-5"


def made(workspace: Workspace, dataset: str) -> list[Example]:
    return [e for e in workspace.examples.scan(workspace.datasets.get(dataset).id) if isinstance(e, Example)]


@pytest.mark.slow
def test_jobs_on_an_anthropic_endpoint_and_the_key_in_no_file_or_output(
    alice: Cli, workspace_of: Workspace, fast_home_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"sk-ant-api03-{uuid.uuid4().hex}"
    monkeypatch.setenv(KEY_ENV, secret)
    said: list[str] = []

    def run(*args: str, stdin: str | None = None, code: int = 0) -> Result:
        result = alice(*args, input=stdin)
        said.extend([result.stdout, result.stderr])
        assert result.exit_code == code, result.output
        return result

    with FakeAnthropic(api_key=secret) as claude:
        url = claude.base_url
        added = run(
            "settings", "endpoints", "add", "claude", "--kind", "anthropic", "--url", url, "--api-key-env", KEY_ENV
        )
        assert added.stdout.strip() == f"Endpoint 'claude' added: {url}, 2 models."
        server = ["--kind", "anthropic", "--url", url, "--api-key-env", KEY_ENV]
        doctor = json.loads(run("doctor", *server, "--json").stdout)
        assert doctor["backend"] | {"url": None} == {
            "kind": "anthropic", "url": None, "reachable": True, "busy": False, "version": None,
            "message": "2 models served",
        }  # fmt: skip
        assert doctor["models"] == ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"]
        listed = run("models", *server).stdout.splitlines()
        assert listed[1].split()[:2] == ["claude-haiku-4-5-20251001", "—"] and "Claude Sonnet 4.5" in listed[2]

        generate = ["generate", "--endpoint", "claude", "--model", MODEL, "--template", "Q&A pair on a topic"]
        generate += ["--slot", "topic=values:tides|volcanoes|glaciers", "--password-stdin", "--yes"]
        ran = run(*generate, "--count", "3", "--dataset", "claude made", stdin=STDIN)
        assert "3/3 done, 0 failed" in ran.output
        examples = made(workspace_of, "claude made")
        assert len(examples) == 3 and {e.meta.source for e in examples} == {ExampleSource.JOB}
        assert all(e.content.output for e in examples)

        claude.fixed_reply = verdict_json(8, "Clear and correct.")
        judged = run("judge", "claude made", "--rubric", "overall", "--endpoint", "claude", "--model", MODEL,
                     "--only", "all", "--password-stdin", "--yes", stdin=STDIN)  # fmt: skip
        assert "Judged: processed 3, kept 3, fixed 0, removed 0, mean score 8.0." in judged.output
        assert "follows this JSON schema" in claude.requests[-1]["system"]

        claude.fixed_reply = None
        detached = run(*generate, "--count", "2", "--dataset", "later", "--detach", "--json", stdin=STDIN)
        job = json.loads(detached.stdout.splitlines()[-1])["id"]
        deadline = time.monotonic() + 60
        while True:
            shown = json.loads(run("jobs", "show", str(job), "--password-stdin", "--json", stdin=STDIN).stdout)
            if shown["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert (shown["status"], shown["done"]) == ("done", 2)
        assert {h["x-api-key"] for h in claude.headers} == {secret}

    config = tmp_path / "claude.toml"
    config.write_text(f'name = "on claude"\nkind = "generate"\nendpoint = "claude"\napi_key_env = "{KEY_ENV}"\n')
    run("configs", "import", str(config), "--password-stdin", stdin=STDIN)
    exported = tmp_path / "exported.toml"
    run("configs", "export", "on claude", "--out", str(exported), "--password-stdin", stdin=STDIN)
    assert f'api_key_env = "{KEY_ENV}"' in exported.read_text(encoding="utf-8")

    log = fast_home_dir / "jobs" / f"{job}.log"
    assert log.exists()
    files = [p for p in [*fast_home_dir.rglob("*"), exported] if p.is_file()]
    assert any(KEY_ENV.encode() in p.read_bytes() for p in files)  # the variable's name is kept, readable
    assert [p for p in files if secret.encode() in p.read_bytes()] == []
    assert not any(secret in text for text in said)
