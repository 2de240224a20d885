"""The command line in Traditional Chinese: --help, messages and errors translated, exit codes and --json
output unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from forge_tui import i18n
from forge_tui.services.job_kinds import register
from forge_tui.services.jobs import JobService
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.job_recipe import RECIPE, plan
from tests.passwords import PASSWORD


def forge_tui(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """forge-tui in a process of its own: the language is chosen before the command modules (and their
    help strings) are imported, as the installed command does."""
    env = {**os.environ, "FORGE_TUI_LANG": "", "LANGUAGE": "", "LC_ALL": "C", "LANG": "C"}
    command = [sys.executable, "-m", "forge_tui", "--home", str(home), *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)


@pytest.mark.slow
def test_help_of_commands_in_zh_tw(fast_home_dir: Path) -> None:
    shown = forge_tui("--lang", "zh_TW", "datasets", "list", "--help", home=fast_home_dir)
    assert shown.returncode == 0, shown.stderr
    assert "列出資料集及其範例數。" in shown.stdout
    assert "包含已封存的資料集。" in shown.stdout and "--archived" in shown.stdout  # option names stay
    assert "List datasets" not in shown.stdout

    generate = forge_tui("--lang", "zh_TW", "generate", "--help", home=fast_home_dir)
    assert "用模型產生範例" in generate.stdout and "要產生的範例數。" in generate.stdout

    jobs = forge_tui("--lang", "zh_TW", "jobs", "--help", home=fast_home_dir)
    assert "追蹤與操控工作" in jobs.stdout
    # the command list shows each command's first sentence (click would show "..." for a text without
    # spaces), cut to the 80 cells of the help's width
    names = {"list", "show", "pause", "cancel", "retry-failed", "resume", "export-batch", "import-batch"}
    listed = [line for line in jobs.stdout.splitlines() if line.startswith("  ") and line.split()[0] in names]
    assert "  list          列出所有工作（最新的在前）及其狀態與進度。" in listed
    assert len(listed) == 8 and all(cell_len(line) <= 80 for line in listed), listed

    english = forge_tui("datasets", "list", "--help", home=fast_home_dir)
    assert "List datasets with their example counts." in english.stdout
    assert "列出" not in english.stdout


def test_an_error_in_zh_tw_keeps_its_exit_code(alice: Cli) -> None:
    english = alice("settings", "set", "no-such-key", "1")
    chinese = alice("--lang", "zh_TW", "settings", "set", "no-such-key", "1")
    assert english.exit_code == chinese.exit_code == 2
    assert "There is no setting 'no-such-key'" in english.output
    assert "沒有名為「no-such-key」的設定" in chinese.output

    bad_bound = alice("--lang", "zh_TW", "settings", "set", "max_tokens", "many")
    assert bad_bound.exit_code == 2
    assert "max_tokens 必須是整數" in bad_bound.output

    i18n.set_language(i18n.ENGLISH)  # the language is process-wide: back to English, the messages follow
    assert "There is no setting" in alice("settings", "set", "no-such-key", "1").output


def test_messages_and_tables_in_zh_tw(alice: Cli) -> None:
    created = alice("--lang", "zh_TW", "datasets", "create", "筆記")
    assert created.exit_code == 0 and "已建立資料集「筆記」。" in created.output
    listed = alice("--lang", "zh_TW", "datasets", "list")
    lines = listed.output.splitlines()
    # a wide name pads by terminal cells, so the counts line up under each other
    columns = {cell_len(line[: line.index("個範例")]) for line in lines}
    assert "   0 個範例" in listed.output and len(columns) == 1, listed.output


def test_json_output_is_the_same_in_zh_tw(alice: Cli) -> None:
    assert alice("datasets", "create", "notes", "-d", "a description").exit_code == 0
    assert alice("settings", "endpoints", "add", "box", "--url", "http://127.0.0.1:9").exit_code == 0
    commands = [
        ("datasets", "list", "--json", "--archived"),
        ("settings", "show", "--json"),
        ("settings", "endpoints", "list", "--json"),
        ("jobs", "list", "--json", "--password-stdin"),
        ("templates", "list", "--json", "--password-stdin"),
        ("configs", "list", "--json", "--password-stdin"),
        ("judge", "notes", "--rubric", "overall", "--calibrate", "--json", "--password-stdin"),
    ]
    english = [alice(*command, input=PASSWORD + "\n") for command in commands]
    chinese = [alice("--lang", "zh_TW", *command, input=PASSWORD + "\n") for command in commands]
    for command, en, zh in zip(commands, english, chinese, strict=True):
        assert en.exit_code == zh.exit_code == 0, (command, en.output, zh.output)
        assert en.stdout_bytes == zh.stdout_bytes, command
        assert en.stdout.strip().startswith(("[", "{")), command


def test_jobs_in_zh_tw(alice: Cli, workspace_of: Workspace) -> None:
    register("echo", RECIPE)
    dataset_id = workspace_of.datasets.create("工作用").id
    job_id = JobService(workspace_of.home, workspace_of.unlocked).create(plan(dataset_id, 3, kind="echo")).id
    stdin = PASSWORD + "\n"
    listed = alice("--lang", "zh_TW", "jobs", "list", "--password-stdin", input=stdin)
    assert listed.exit_code == 0 and f"{job_id:>4}  已規劃" in listed.output, listed.output
    shown = alice("--lang", "zh_TW", "jobs", "show", str(job_id), "--password-stdin", input=stdin)
    lines = shown.output.splitlines()
    assert "狀態      已規劃" in lines and "進度      已完成 0/3，0 個失敗，3 個等待中" in lines, lines

    i18n.set_language(i18n.ENGLISH)
    english = alice("jobs", "show", str(job_id), "--password-stdin", input=stdin)
    assert "state     planned" in english.output.splitlines()
    as_json = [alice(*lang, "jobs", "show", str(job_id), "--json", "--password-stdin", input=stdin) for lang in
               ((), ("--lang", "zh_TW"))]  # fmt: skip
    assert as_json[0].stdout_bytes == as_json[1].stdout_bytes and b'"status": "planned"' in as_json[0].stdout_bytes
