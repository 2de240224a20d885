"""Runs `forge-tui` in-process with Typer's runner against a real data directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from forge_tui.cli import app
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
