"""Saved configurations (services.job_configs): sealed in the database, no secret in an exported
file, a file read back equal, the forms they fill read back equal, and re-sealed by a key rotation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.job_configs import AugmentConfig, GenerateConfig, JudgeConfig
from forge_tui.services.accounts import AccountService
from forge_tui.services.generation_jobs import JobForm
from forge_tui.services.home import Home
from forge_tui.services.job_configs import (
    JobConfigService,
    augment_config_of_form,
    augment_form_of_config,
    config_of_form,
    config_of_job,
    form_of_config,
    judge_config_of_form,
    judge_form_of_config,
)
from forge_tui.services.key_rotation import rotate_key
from forge_tui.services.workspace import Workspace
from tests.db_bytes import db_files
from tests.passwords import PASSWORD

SECRET_ENV = "FORGE_TEST_SECRET_KEY"
SECRET = "sk-live-do-not-write-me-0123456789"
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)


def configs_of(workspace: Workspace) -> JobConfigService:
    return JobConfigService(workspace.home, workspace.unlocked)


def test_saved_sealed_listed_and_deleted(workspace: Workspace, home: Home) -> None:
    configs = configs_of(workspace)
    saved = GenerateConfig(name="casual zh-TW", model="qwen-marker-model", sources="tone=weighted", language="zh-TW")
    configs.save(saved)
    configs.save(JudgeConfig(name="strict", rubric="overall", threshold="8"))
    assert [c.name for c in configs.list()] == ["casual zh-TW", "strict"]
    assert configs.get("casual zh-TW") == saved
    configs.save(saved.model_copy(update={"count": "50"}))  # replaces the one of that name
    assert [c.name for c in configs.list()] == ["casual zh-TW", "strict"]
    assert configs.get("casual zh-TW") == saved.model_copy(update={"count": "50"})

    raw = b"".join(db_files(home).values())
    assert b"qwen-marker-model" not in raw and b"casual zh-TW" not in raw and b"tone=weighted" not in raw
    with sqlite3.connect(home.db_path) as db:
        assert db.execute("SELECT count(*) FROM saved_config").fetchone() == (2,)

    configs.delete("strict")
    with pytest.raises(NotFound, match="No saved configuration named 'strict'"):
        configs.get("strict")


def test_no_secret_in_the_written_file_and_it_reads_back_equal(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    configs = configs_of(workspace)
    saved = configs.save(GenerateConfig(name="hosted", endpoint="openai", api_key_env=SECRET_ENV, model="gpt"))
    written = configs.export_file("hosted", tmp_path / "hosted.toml")
    text = written.read_text(encoding="utf-8")
    assert SECRET not in text and f'api_key_env = "{SECRET_ENV}"' in text
    configs.delete("hosted")
    assert configs.import_file(written) == saved
    assert configs.import_file(written, name="copy") == saved.model_copy(update={"name": "copy"})


def test_a_file_with_a_key_in_it_is_refused_and_nothing_is_saved(workspace: Workspace, tmp_path: Path) -> None:
    configs = configs_of(workspace)
    bad = tmp_path / "bad.toml"
    bad.write_text(f'name = "leaky"\nkind = "generate"\napi_key = "{SECRET}"\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        configs.import_file(bad)
    assert str(refused.value).startswith("bad.toml: line 3: 'api_key' looks like a secret")
    assert SECRET not in str(refused.value) and configs.list() == []


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.builds(
        GenerateConfig,
        name=st.just("n"),
        template=st.sampled_from(["", "mine"]),
        count=TEXT,
        sources=TEXT,
        model=TEXT,
        threshold=TEXT,
        quotas=st.booleans(),
        endpoint=TEXT,
    ),
    st.builds(JudgeConfig, name=st.just("j"), rubric=TEXT, only=TEXT, threshold=TEXT, model=TEXT, fix_model=TEXT),
    st.builds(
        AugmentConfig,
        name=st.just("a"),
        api_key_env=st.sampled_from(["", "MY_KEY"]),
        **{name: TEXT for name in ("field", "instruction", "context", "where", "into", "concurrency", "endpoint")},
        in_place=st.booleans(),
        keep_as_rejected=st.booleans(),
    ),
)
def test_a_config_loaded_into_a_form_reads_back_equal(
    workspace: Workspace, generate: GenerateConfig, judge: JudgeConfig, augment: AugmentConfig
) -> None:
    if not any(t.name == "mine" for t in workspace.templates.list()):
        workspace.templates.create("mine", user_prompt="{{ x }}")
    templates = workspace.templates.list()
    form = form_of_config(generate, templates, dataset_id=1)
    assert isinstance(form, JobForm)
    assert config_of_form("n", form, templates) == generate
    assert judge_config_of_form("j", judge_form_of_config(judge)) == judge
    assert augment_config_of_form("a", augment_form_of_config(augment), augment.api_key_env) == augment


def test_rotating_the_key_reseals_saved_configurations(home: Home) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "", PASSWORD)
    before = JobConfigService(home, accounts.unlock("alice", PASSWORD))
    before.save(JudgeConfig(name="strict", threshold="9"))
    rotate_key(home, "alice", PASSWORD)
    after = JobConfigService(home, accounts.unlock("alice", PASSWORD))
    assert after.get("strict") == JudgeConfig(name="strict", threshold="9")


def test_a_judge_jobs_settings_become_a_config(workspace: Workspace) -> None:
    from forge_tui.core.judge_counts import Action
    from forge_tui.core.models import ExampleContent, ExampleMeta
    from forge_tui.core.rubrics import builtin_rubrics
    from forge_tui.services.jobs import JobService
    from forge_tui.services.judge_jobs import JudgeChoice, judge_plan

    dataset = workspace.datasets.create("scored")
    workspace.examples.add_many(dataset.id, [(ExampleContent(user_prompt="Q?", output="A"), ExampleMeta())])
    choice = JudgeChoice(
        dataset_id=dataset.id,
        rubric=builtin_rubrics()["pairwise"],
        model="judge:1b",
        only_unreviewed=False,
        threshold=8.5,
        action=Action.REJECT,
        fix_model="",
    )
    jobs = JobService(workspace.home, workspace.unlocked)
    job = jobs.create(judge_plan(workspace.examples, choice))
    config = config_of_job(jobs, job.id, "from job")
    assert config == JudgeConfig(
        name="from job", rubric="pairwise", only="all", threshold="8.5", action="reject", model="judge:1b"
    )


def test_an_augment_config_file_holds_no_secret(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    configs = configs_of(workspace)
    saved = configs.save(AugmentConfig(name="zh", api_key_env=SECRET_ENV, instruction="Translate {{ answer }}"))
    text = configs.export_file("zh", tmp_path / "zh.toml").read_text(encoding="utf-8")
    assert SECRET not in text and f'api_key_env = "{SECRET_ENV}"' in text and 'kind = "augment"' in text
    assert configs.read_file(tmp_path / "zh.toml") == saved
