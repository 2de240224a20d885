"""A workspace (an account, unlocked) for service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from forge_tui.services.accounts import AccountService
from forge_tui.services.home import Home
from forge_tui.services.workspace import Workspace

PASSWORD = "correct horse"


@pytest.fixture
def workspace(home: Home) -> Iterator[Workspace]:
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    yield Workspace.open(home, accounts.unlock("alice", PASSWORD))
