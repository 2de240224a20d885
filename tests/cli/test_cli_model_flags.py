"""`--kind`, `--url` and `--api-key-env` on every command that talks to a model (doctor, models,
audition), over the account's Settings; and audition against a server that refuses a JSON schema."""

from __future__ import annotations

import json

import pytest
from typer.testing import Result

from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

KEY_VAR = "FORGE_TEST_SERVER_KEY"


def audition(cli: Cli, *args: str) -> Result:
    return cli(
        "audition", "-t", "Rewrite in a style", "-n", "3", "--model", "llama3.2:latest",
        "--paraphrase-model", "qwen3:0.6b", "--seed", "3", "--password-stdin", "--json", *args,
        input=PASSWORD + "\n",
    )  # fmt: skip


@pytest.mark.parametrize("command", ["doctor", "models"])
def test_the_flags_point_a_command_at_another_server_than_settings(
    alice: Cli, fake: FakeOllama, command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert alice("settings", "set", "url", "http://127.0.0.1:9").exit_code == 0  # nothing listens there
    fake.api_key = "s3cret"  # /v1 wants it
    monkeypatch.setenv(KEY_VAR, "s3cret")
    flags = ["--kind", "openai", "--url", fake.base_url, "--api-key-env", KEY_VAR, "--json"]
    result = alice(command, *flags)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    names = out["models"] if command == "doctor" else [m["name"] for m in out]
    assert "llama3.2:latest" in names
    if command == "doctor":
        assert out["backend"]["kind"] == "openai" and out["backend"]["url"] == f"{fake.base_url}/v1"
    monkeypatch.setenv(KEY_VAR, "wrong")
    refused = alice(command, *flags)
    assert refused.exit_code == 6
    assert alice(command, "--json").exit_code == 6  # Settings' server: not there


def test_audition_takes_the_flags_and_settings_give_the_default(alice: Cli, fake: FakeOllama) -> None:
    result = audition(alice, "--kind", "openai", "--url", fake.base_url, "-n", "1", "--paraphrase-model", "")
    assert result.exit_code == 0, result.output
    assert fake.requests and all("messages" in r and "options" not in r for r in fake.requests)  # /v1's shape
    fake.requests.clear()
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    native = audition(alice, "-n", "1", "--paraphrase-model", "")
    assert native.exit_code == 0, native.output
    assert fake.requests and all("options" in r for r in fake.requests)  # Ollama's own API


def test_bad_flags_are_refused_before_anything_is_sent(alice: Cli, fake: FakeOllama) -> None:
    for flags, said in [
        (["--kind", "vllm"], "--kind is 'ollama', 'openai' or 'anthropic', not 'vllm'."),
        (["--url", "localhost:8000"], "--url must start with http:// or https://, not 'localhost:8000'."),
        (["--api-key-env", "NOT_SET_ANYWHERE_42"], "--api-key-env names $NOT_SET_ANYWHERE_42, which is not set"),
        (["--api-key-env", "my key"], "--api-key-env takes the name of an environment variable, not 'my key'."),
    ]:
        for command in (["doctor"], ["models"]):
            result = alice(*command, *flags)
            assert result.exit_code == 2 and said in result.stderr, result.output
        assert audition(alice, *flags).exit_code == 2
    assert fake.requests == []


def test_audition_paraphrases_through_a_server_that_refuses_json_schema_and_the_next_run_knows(
    alice: Cli, fake: FakeOllama
) -> None:
    fake.accepted_formats = ("text", "json_object")  # llama-cpp-python's server
    flags = ("--kind", "openai", "--url", fake.base_url)
    first = audition(alice, *flags)
    assert first.exit_code == 0, first.output
    assert len(set(json.loads(first.stdout)["variations"])) == 3
    paraphrasing = [r for r in fake.requests if "response_format" in r]
    assert [r["response_format"]["type"] for r in paraphrasing] == ["json_schema", "json_object"]
    settings = json.loads(alice("settings", "show", "--json").stdout)
    assert settings["structured_output"] == {f"openai {fake.base_url}/v1": "json_object"}

    fake.requests.clear()
    second = audition(alice, *flags)  # a new run: only the account's Settings carry what was learned
    assert second.exit_code == 0, second.output
    assert [r["response_format"]["type"] for r in fake.requests if "response_format" in r] == ["json_object"]
