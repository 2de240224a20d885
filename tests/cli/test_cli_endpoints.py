"""`forge-tui settings endpoints …` against real fake Ollama servers, and `--endpoint NAME|pool` on the
commands that run a model: checked, recorded in the job, and taken again by `jobs resume`."""

from __future__ import annotations

import json
import socket

from forge_tui.cli.backend_options import BackendFlags
from forge_tui.core.backend_settings import BackendSettings, Endpoint
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeModel, FakeOllama
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def listed(cli: Cli) -> list[dict]:  # type: ignore[type-arg]
    result = cli("settings", "endpoints", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_add_list_set_refresh_use_and_remove(alice: Cli, fake: FakeOllama) -> None:
    assert "No endpoints: jobs and Audition use the server in Settings" in alice("settings", "endpoints", "list").stdout
    added = alice("settings", "endpoints", "add", "gpu1", "--url", fake.base_url, "--max-concurrency", "48")
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == f"Endpoint 'gpu1' added: {fake.base_url}, 2 models."
    [gpu1] = listed(alice)
    assert gpu1 | {"models": None} == {
        "name": "gpu1",
        "kind": "ollama",
        "url": fake.base_url,
        "api_key_env": None,
        "max_concurrency": 48,
        "models": None,
    }
    assert gpu1["models"] == ["llama3.2:latest", "qwen3:0.6b"]

    url = dead_url()
    down = alice("settings", "endpoints", "add", "gpu2", "--kind", "openai", "--url", url)
    assert down.exit_code == 0, down.output  # added all the same, with a warning naming the URL
    assert "warning: its models could not be read" in down.stderr and url in down.stderr
    text = alice("settings", "endpoints", "list").stdout
    assert text.splitlines()[0].split() == ["NAME", "KIND", "URL", "MAX", "MODELS"]
    assert "llama3.2:latest, qwen3:0.6b" in text and "Audition and new jobs use: pool" in text

    assert alice("settings", "endpoints", "set", "gpu2", "--max-concurrency", "8").exit_code == 0
    assert [e["max_concurrency"] for e in listed(alice)] == [48, 8]
    refused = alice("settings", "endpoints", "set", "gpu2", "--max-concurrency", "0")
    assert refused.exit_code == 2 and "Max concurrency is a whole number between 1 and 1024" in refused.stderr

    fake.models = [FakeModel(name="gemma3:270m")]
    refreshed = alice("settings", "endpoints", "refresh")
    assert refreshed.exit_code == 6  # gpu2 did not answer; gpu1 was read all the same
    assert "gpu1: gemma3:270m" in refreshed.stdout and f"gpu2: The server at {url}/v1 is not answering" in (
        refreshed.stderr
    )
    assert listed(alice)[0]["models"] == ["gemma3:270m"]

    assert alice("settings", "endpoints", "use", "gpu1").stdout.strip() == "Audition and new jobs use: gpu1"
    unknown = alice("settings", "endpoints", "use", "gpu9")
    assert unknown.exit_code == 2
    assert unknown.stderr.strip() == "forge-tui: There is no endpoint 'gpu9'; choose pool or one of: gpu1, gpu2."
    without = alice("settings", "endpoints", "remove", "gpu1")  # no terminal, no --yes: nothing removed
    assert without.exit_code == 2 and "without --yes" in without.stderr and len(listed(alice)) == 2
    assert alice("settings", "endpoints", "remove", "gpu1", "--yes").exit_code == 0
    assert [e["name"] for e in listed(alice)] == ["gpu2"]
    shown = json.loads(alice("settings", "show", "--json").stdout)
    assert shown["endpoint"] is None  # the choice named the removed one: the pool again
    missing = alice("settings", "endpoints", "remove", "gpu1", "--yes")
    assert missing.exit_code == 5 and "There is no endpoint 'gpu1'" in missing.stderr


def test_bad_input_is_refused_in_one_sentence_and_nothing_is_added(alice: Cli) -> None:
    for args, said in [
        (["gpu", "--url", "gpu-box:8000"], "starts with http:// or https:// and names a host, not 'gpu-box:8000'"),
        (["gpu", "--url", "http://a:1", "--kind", "vllm"], "The kind is ollama, openai or anthropic, not 'vllm'."),
        (["pool", "--url", "http://a:1"], "'pool' cannot be used"),
        (["gpu", "--url", "http://a:1", "--api-key-env", "my key"], "not 'my key'"),
    ]:
        result = alice("settings", "endpoints", "add", *args)
        assert result.exit_code == 2, result.output
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert listed(alice) == []


def test_a_job_records_its_endpoint_and_flags_are_checked(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    assert alice("settings", "set", "url", fake.base_url).exit_code == 0
    assert alice("settings", "endpoints", "add", "gpu1", "--url", fake.base_url).exit_code == 0
    workspace_of.datasets.create("made here")
    base = ["generate", "--template", "Q&A pair on a topic", "--count", "2", "--dataset", "made here"]
    base += ["--model", "llama3.2:latest", "--slot", "topic=values:tides", "--password-stdin", "--yes", "--json"]

    both = alice(*base, "--endpoint", "gpu1", "--url", fake.base_url, input=STDIN)
    assert both.exit_code == 2
    assert "--endpoint chooses a configured server: leave out --kind, --url and --api-key-env." in both.stderr
    unknown = alice(*base, "--endpoint", "gpu9", input=STDIN)
    assert unknown.exit_code == 2 and "There is no endpoint 'gpu9'; choose pool or one of: gpu1." in unknown.stderr
    assert fake.requests == []

    ran = alice(*base, "--endpoint", "gpu1", input=STDIN)
    assert ran.exit_code == 0, ran.output
    events = [json.loads(line) for line in ran.stdout.splitlines()]
    assert events[0]["endpoint"] == "gpu1" and events[-1]["endpoint"] == "gpu1"
    on_pool = alice(*base, "--endpoint", "pool", input=STDIN)
    assert json.loads(on_pool.stdout.splitlines()[-1])["endpoint"] is None
    jobs = JobService(workspace_of.home, workspace_of.unlocked)
    assert [j.endpoint for j in jobs.list()] == [None, "gpu1"]
    shown = alice("jobs", "show", str(events[-1]["id"]), "--json", "--password-stdin", input=STDIN)
    assert json.loads(shown.stdout)["endpoint"] == "gpu1"


def test_resume_takes_the_jobs_endpoint_unless_the_flags_choose_again() -> None:
    settings = BackendSettings(
        endpoints=[Endpoint(name="gpu1", url="http://a:1"), Endpoint(name="gpu2", url="http://b:1")], endpoint="gpu2"
    )
    none = BackendFlags()
    assert none.endpoint_for(none.over(settings), "gpu1") == "gpu1"
    assert none.endpoint_for(none.over(settings), None) is None  # the job was made for the pool
    chosen = BackendFlags(endpoint="gpu2")
    assert chosen.endpoint_for(chosen.over(settings), "gpu1") == "gpu2"
    pool = BackendFlags(endpoint="pool")
    assert pool.endpoint_for(pool.over(settings), "gpu1") is None
    url = BackendFlags(url="http://c:1")
    over = url.over(settings)
    assert url.endpoint_for(over, "gpu1") is None and over.endpoints == []  # the one server --url names
    assert chosen.argv() == ["--endpoint", "gpu2"]
