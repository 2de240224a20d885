"""`forge-tui configs list | show | save | delete | export | import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

SECRET = "sk-live-never-in-a-file-42"
CASUAL = 'name = "casual"\nkind = "generate"\ntemplate = "Q&A"\ncount = 20\nmodel = "qwen3"\napi_key_env = "MY_KEY"\n'


def configs(cli: Cli, *args: str) -> Result:
    return cli("configs", *args, "--password-stdin", input=PASSWORD + "\n")


def test_import_list_show_export_save_delete(alice: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_KEY", SECRET)
    source = tmp_path / "casual.toml"
    source.write_text(CASUAL, encoding="utf-8")
    imported = configs(alice, "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout == "Imported generate configuration 'casual'.\n"
    saved = configs(alice, "save", "strict judge", "--file", str(source), "--json")
    assert json.loads(saved.stdout) == {"name": "strict judge", "kind": "generate"}
    again = configs(alice, "import", str(source), "--name", "copy")
    assert again.exit_code == 0

    assert json.loads(configs(alice, "list", "--json").stdout) == [
        {"name": "casual", "kind": "generate"},
        {"name": "copy", "kind": "generate"},
        {"name": "strict judge", "kind": "generate"},
    ]
    assert "strict judge  generate" in configs(alice, "list").stdout.splitlines()
    shown = json.loads(configs(alice, "show", "casual", "--json").stdout)
    assert (shown["count"], shown["model"], shown["api_key_env"], shown["temperature"]) == (
        "20",
        "qwen3",
        "MY_KEY",
        "0.8",
    )
    assert 'template = "Q&A"' in configs(alice, "show", "casual").stdout

    out = tmp_path / "out.toml"
    exported = configs(alice, "export", "casual", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8")
    assert SECRET not in text and 'api_key_env = "MY_KEY"' in text and text == configs(alice, "show", "casual").stdout

    refused = configs(alice, "delete", "casual")
    assert refused.exit_code == 2 and "without --yes" in refused.stderr
    deleted = configs(alice, "delete", "casual", "--yes", "--json")
    assert json.loads(deleted.stdout) == {"deleted": "casual"}
    missing = configs(alice, "show", "casual")
    assert missing.exit_code == 5 and missing.stderr == "forge-tui: No saved configuration named 'casual'.\n"


def test_a_bad_file_is_refused_in_one_line_naming_the_line_and_nothing_is_saved(alice: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    for text, said in [
        (f'name = "x"\nkind = "judge"\napi_key = "{SECRET}"\n', "bad.toml: line 3: 'api_key' looks like a secret"),
        ('name = "x"\nkind = "judge"\nthreshold = 7\nrubrik = "overall"\n', "bad.toml: line 4: rubrik: not a setting"),
        ('name = "x"\nkind = "judge"\nthreshold = \n', "bad.toml: Not a valid TOML configuration"),
    ]:
        bad.write_text(text, encoding="utf-8")
        refused = configs(alice, "import", str(bad))
        assert refused.exit_code == 2, refused.output
        assert said in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert SECRET not in refused.output and "Traceback" not in refused.output
    assert configs(alice, "list", "--json").stdout.strip() == "[]"
    assert (
        configs(alice, "save", "x").stderr == "forge-tui: Give the configuration to save: --from-job ID or --file F.\n"
    )


GENERATE = (
    'name = "tides"\nkind = "generate"\ntemplate = "Q&A pair on a topic"\ncount = 4\nmodel = "saved-model"\n'
    'seed = 7\nsources = "topic=values:tides|volcanoes"\nexample_kind = "single"\n'
)


def plan_of(ran: Result) -> dict[str, Any]:
    assert ran.exit_code == 2 and "Nothing was sent" in ran.stderr, ran.output
    plan: dict[str, Any] = json.loads(ran.stdout.splitlines()[0])
    return plan


def test_generate_starts_from_a_saved_config_and_flags_beside_it_override(
    alice: Cli, tmp_path: Path, fake: FakeOllama
) -> None:
    source = tmp_path / "tides.toml"
    source.write_text(GENERATE, encoding="utf-8")
    assert configs(alice, "import", str(source)).exit_code == 0
    base = ("generate", "--url", fake.base_url, "--config", "tides", "--json", "--password-stdin")

    plan = plan_of(alice(*base, input=PASSWORD + "\n"))
    assert (plan["items"], plan["model"], plan["seed"], plan["template"]) == (
        4,
        "saved-model",
        7,
        "Q&A pair on a topic",
    )
    assert plan["spread"]["topic"] == {"tides": 2, "volcanoes": 2}

    over = plan_of(
        alice(*base, "--count", "6", "--model", "other", "--slot", "topic=values:ice", input=PASSWORD + "\n")
    )
    assert (over["items"], over["model"], over["seed"]) == (6, "other", 7)
    assert over["spread"]["topic"] == {"ice": 6}
    assert fake.requests == []

    source.write_text('name = "strict"\nkind = "judge"\n', encoding="utf-8")
    assert configs(alice, "import", str(source)).exit_code == 0
    wrong = alice("generate", "--config", "strict", "--password-stdin", input=PASSWORD + "\n")
    assert wrong.exit_code == 2 and "'strict' is a judge configuration, not a generate one" in wrong.stderr


def test_judge_starts_from_a_saved_config_and_flags_beside_it_override(
    alice: Cli, workspace_of: Workspace, tmp_path: Path, fake: FakeOllama
) -> None:
    dataset_id = workspace_of.datasets.create("scored").id
    reviews = [ReviewState.UNREVIEWED, ReviewState.ACCEPTED, ReviewState.UNREVIEWED]
    items = [
        (ExampleContent(user_prompt=f"Q{i}?", output=f"A{i}"), ExampleMeta(review=r)) for i, r in enumerate(reviews)
    ]
    workspace_of.examples.add_many(dataset_id, items)
    source = tmp_path / "strict.toml"
    source.write_text(
        'name = "strict"\nkind = "judge"\nrubric = "overall"\nonly = "all"\nthreshold = 8.5\naction = "reject"\n'
        'model = "saved-judge"\n',
        encoding="utf-8",
    )
    assert configs(alice, "import", str(source)).exit_code == 0
    base = ("judge", "scored", "--url", fake.base_url, "--config", "strict", "--password-stdin")

    ran = alice(*base, input=PASSWORD + "\n")
    assert ran.exit_code == 2 and "Nothing was sent" in ran.output, ran.output
    assert "Judge 3 all examples of 'scored' with overall on saved-judge; below 8.5: reject." in ran.output
    over = alice(*base, "--only", "unreviewed", "--model", "other", "--threshold", "6", input=PASSWORD + "\n")
    assert "Judge 2 unreviewed examples of 'scored' with overall on other; below 6: reject." in over.output
    missing = alice("judge", "scored", "--password-stdin", input=PASSWORD + "\n")
    assert missing.exit_code == 2 and "Give the rubric: --rubric NAME (or --config NAME)." in missing.stderr
    assert fake.requests == []


def test_a_config_saved_from_a_generation_job_plans_the_same_job(
    alice: Cli, workspace_of: Workspace, fake: FakeOllama
) -> None:
    args = ("generate", "--url", fake.base_url, "--model", "llama3.2", "--password-stdin", "--json")
    slots = ("--slot", "topic=values:tides|volcanoes|glaciers", "--slot", "audience=default")
    first = alice(
        *args, "--template", "Q&A pair on a topic", "-n", "6", "--seed", "9", *slots, "--yes", input=PASSWORD + "\n"
    )
    assert first.exit_code == 0, first.output
    events = [json.loads(line) for line in first.stdout.splitlines()]
    saved = configs(alice, "save", "again", "--from-job", str(events[-1]["id"]), "--json")
    assert saved.exit_code == 0, saved.output
    shown = json.loads(configs(alice, "show", "again", "--json").stdout)
    assert shown["sources"] == "topic=values:tides|volcanoes|glaciers; audience=default"
    assert (shown["count"], shown["seed"], shown["model"]) == ("6", "9", "llama3.2")

    again = plan_of(
        alice(
            "generate", "--url", fake.base_url, "--config", "again", "--json", "--password-stdin", input=PASSWORD + "\n"
        )
    )
    assert {k: again[k] for k in ("items", "seed", "spread", "prompts", "template")} == {
        k: events[0][k] for k in ("items", "seed", "spread", "prompts", "template")
    }


AUGMENT = (
    'name = "zh"\nkind = "augment"\nfield = "answer"\ninstruction = "Translate {{ answer }}"\nmodel = "llama3.2"\n'
    'language = "zh-TW"\nconcurrency = 3\nwhere = "prompt ~ \'Q1\'"\ninto = "qa-zh"\napi_key_env = "MY_KEY"\n'
)


def test_augment_configs_import_show_export_and_from_a_job_without_a_secret(
    alice: Cli, workspace_of: Workspace, tmp_path: Path, fake: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_KEY", SECRET)
    fake.fixed_reply = "translated"
    dataset_id = workspace_of.datasets.create("qa").id
    items = [(ExampleContent(user_prompt=f"Q{i}?", output=f"A{i}"), ExampleMeta()) for i in range(3)]
    workspace_of.examples.add_many(dataset_id, items)
    source = tmp_path / "zh.toml"
    source.write_text(AUGMENT, encoding="utf-8")
    assert configs(alice, "import", str(source)).stdout == "Imported augment configuration 'zh'.\n"
    assert "zh  augment" in configs(alice, "list").stdout.splitlines()
    shown = json.loads(configs(alice, "show", "zh", "--json").stdout)
    assert (shown["concurrency"], shown["where"], shown["in_place"]) == ("3", "prompt ~ 'Q1'", False)

    ran = alice(
        "augment", "qa", "--config", "zh", "--url", fake.base_url, "--yes", "--password-stdin", input=PASSWORD + "\n"
    )
    assert ran.exit_code == 0, ran.output
    assert "Augment answer of 1 examples of 'qa' into 'qa-zh' with llama3.2." in ran.output
    assert configs(alice, "save", "again", "--from-job", "1").exit_code == 0
    for name in ("zh", "again"):
        out = tmp_path / f"{name}-out.toml"
        assert configs(alice, "export", name, "--out", str(out)).exit_code == 0
        assert SECRET not in out.read_text(encoding="utf-8")
    again = json.loads(configs(alice, "show", "again", "--json").stdout)
    assert {k: v for k, v in again.items() if k not in ("name", "api_key_env")} == {
        k: v for k, v in shown.items() if k not in ("name", "api_key_env")
    }
