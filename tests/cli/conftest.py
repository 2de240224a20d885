"""Runs `forge-tui` in-process with Typer's runner against a real data directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from forge_tui.cli import app
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.workspace import Workspace
from tests.passwords import PASSWORD

Cli = Callable[..., Result]


@pytest.fixture
def cli(fast_home_dir: Path) -> Cli:
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--home", str(fast_home_dir), *args], input=input)

    return invoke


@pytest.fixture
def alice(cli: Cli) -> Cli:
    """The runner, after `user create -u alice`."""
    created = cli("user", "create", "-u", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert created.exit_code == 0, created.output
    return cli


@pytest.fixture
def workspace_of(alice: Cli, fast_home_dir: Path) -> Iterator[Workspace]:
    """alice's workspace, unlocked in this process beside the runner's."""
    home = open_home(fast_home_dir)
    try:
        yield Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
    finally:
        home.close()
