"""`forge-tui audition` against the fake Ollama: the JSON shape, --add-to, and exit codes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

# The fake server is found as the ollama CLI would find it (no Settings saved).
pytestmark = pytest.mark.usefixtures("ollama_host")


def audition(cli: Cli, *args: str) -> Result:
    """`forge-tui audition ARGS` for the unlocked account: templates are sealed."""
    return cli("audition", *args, "--password-stdin", input=PASSWORD + "\n")


def batch(cli: Cli, fake: FakeOllama, *extra: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    result = audition(
        cli, "--template", "Q&A pair on a topic", "--slot", "topic=tides", "--slot", "audience=a sailor",
        "--batch", "3", "--model", "llama3.2", "--paraphrase-model", "qwen3:0.6b", "--seed", "5", "--json", *extra,
    )  # fmt: skip
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}, result.stderr


def test_json_shape(alice: Cli, fake: FakeOllama) -> None:
    code, out, _ = batch(alice, fake)
    assert code == 0
    assert len(out["variations"]) == 3 and len(set(out["variations"])) == 3
    assert [c["variation"] for c in out["cards"]] == out["variations"]
    for card in out["cards"]:
        assert set(card) >= {"variation", "output", "tool_calls", "error", "tokens"}
        assert card["output"] and card["error"] is None and card["tool_calls"] == []
        assert card["tokens"]["prompt"] > 0 and card["tokens"]["completion"] > 0
    again = batch(alice, fake)[1]
    assert [c["output"] for c in again["cards"]] == [c["output"] for c in out["cards"]]  # same seed, same batch


def test_add_to_stores_every_successful_card(alice: Cli, fake: FakeOllama) -> None:
    fake.faults_by_seed = {6: "fail"}  # card 2 of batch seed 5
    code, out, _ = batch(alice, fake, "--add-to", "default")
    assert code == 1  # one card failed: its error is in the JSON, the others are stored
    assert [c["error"] is None for c in out["cards"]] == [True, False, True]
    assert out["added"] == {"dataset": "default", "examples": 2}
    listed = json.loads(alice("datasets", "list", "--json").stdout)
    assert listed[0]["example_count"] == 2


def test_tool_calling_template(alice: Cli, fake: FakeOllama) -> None:
    result = audition(alice, "-t", "Tool call: weather", "-n", "1", "--model", "llama3.2", "--paraphrase-model", "",
                   "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)["cards"][0]
    assert card["variation"] == "What's the weather like in Lisbon today?"
    assert card["tool_calls"][0]["name"] == "get_weather" and "city" in card["tool_calls"][0]["arguments"]


def test_unusable_server_exits_6_with_the_reason(alice: Cli, fake: FakeOllama) -> None:
    result = audition(alice, "-t", "Rewrite in a style", "--model", "ghost", "--json")
    assert result.exit_code == 6
    assert json.loads(result.stdout)["error"] == "model 'ghost' not found — pull it with `ollama pull ghost`"
    assert "ollama pull ghost" in result.stderr
    no_model = audition(alice, "-t", "Rewrite in a style")
    assert no_model.exit_code == 2 and "No generation model chosen" in no_model.stderr
    bad_slot = audition(alice, "-t", "Rewrite in a style", "--model", "x", "--slot", "style")
    assert bad_slot.exit_code == 2 and "NAME=VALUE" in bad_slot.stderr


def test_a_slot_value_that_makes_the_prompt_pass_a_limit_is_refused(
    alice: Cli, fake: FakeOllama, tmp_path: Path
) -> None:
    file = tmp_path / "t.toml"
    file.write_text(
        'name = "Repeat"\nuser_prompt = "{{ word * (times | int) }}"\n\n'
        '[[slots]]\nname = "word"\ndefault = "ab"\n\n[[slots]]\nname = "times"\ndefault = "3"\n',
        encoding="utf-8",
    )
    assert alice("templates", "import", str(file), "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    started = time.monotonic()
    result = audition(
        alice, "-t", "Repeat", "--slot", "times=1000000000", "--model", "llama3.2", "--paraphrase-model", ""
    )
    assert time.monotonic() - started < 2.0
    assert result.exit_code == 2 and "limit of 1,000,000 characters" in result.stderr
    assert fake.requests == []


def test_answer_time_limit_and_max_tokens_flags_stop_an_endless_model(alice: Cli, fake: FakeOllama) -> None:
    fake.endless, fake.token_latency = True, 0.01
    one = ("-t", "Rewrite in a style", "-n", "1", "--model", "llama3.2", "--paraphrase-model", "", "--json")
    result = audition(alice, *one, "--answer-time-limit", "0.5", "--max-tokens", "100000")
    assert result.exit_code == 1
    card = json.loads(result.stdout)["cards"][0]
    assert card["error"] == "Stopped after 0.5 s: the answer's time limit" and card["output"]
    capped = audition(alice, *one, "--max-tokens", "9")
    assert capped.exit_code == 0, capped.output
    assert json.loads(capped.stdout)["cards"][0]["tokens"]["completion"] == 9
    assert json.loads(capped.stdout)["cards"][0]["finish_reason"] == "length"
    text = audition(alice, *one[:-1], "--max-tokens", "9")
    assert "(done; 9 tokens; cut at max tokens)" in text.stdout
    assert fake.requests[-1]["options"]["num_predict"] == 9
