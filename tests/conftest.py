"""Shared fixtures: a data directory with a cheap Argon2id cost, opened as a real Home, and a
workspace (an account, unlocked) in it.

Everything here is real: a SQLite file in a temporary directory, migrated by Alembic.
UI tests reuse `home` and `fast_home_dir`; subprocess tests hand `fast_home_dir` to a child.
Every test is also checked for leaked passwords and recovery keys (tests/leak_guard.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forge_tui import i18n
from forge_tui.services.accounts import AccountService
from forge_tui.services.config import CONFIG_FILE
from forge_tui.services.home import Home, open_home
from forge_tui.services.workspace import Workspace
from tests.fake_ollama import FakeOllama
from tests.leak_guard import pytest_runtest_makereport  # noqa: F401  (the hook checks every test)
from tests.passwords import PASSWORD

# Argon2id at its cheapest (8 KiB, one pass): a derivation costs microseconds instead of ~0.4 s.
FAST_SECURITY_TOML = "[security]\nkdf_memory_kib = 8\nkdf_iterations = 1\n"


@pytest.fixture(autouse=True)
def english_after_each_test() -> Iterator[None]:
    """The interface language is process-wide: a test that switches it (or plays --lang) leaves English,
    not forced, behind."""
    yield
    i18n.start(None, {})


def prepare_home_dir(path: Path, extra_security: str = "") -> Path:
    """Make `path` a data directory whose config.toml holds the cheap KDF cost plus `extra_security`
    (more `key = value` lines for the [security] table)."""
    path.mkdir(parents=True, exist_ok=True)
    body = FAST_SECURITY_TOML + (extra_security.strip() + "\n" if extra_security.strip() else "")
    (path / CONFIG_FILE).write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def fast_home_dir(tmp_path: Path) -> Path:
    """A prepared data directory (config only, no database yet): hand it to `open_home` or a child process."""
    return prepare_home_dir(tmp_path / "home")


@pytest.fixture
def home(fast_home_dir: Path) -> Iterator[Home]:
    """The opened, migrated data directory of `fast_home_dir`."""
    opened = open_home(fast_home_dir)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def workspace(home: Home) -> Iterator[Workspace]:
    """alice's account in `home`, unlocked."""
    accounts = AccountService(home)
    accounts.create_user("alice", "Alice", PASSWORD)
    yield Workspace.open(home, accounts.unlock("alice", PASSWORD))


HomeFactory = Callable[..., Home]


@pytest.fixture
def make_home(tmp_path: Path) -> Iterator[HomeFactory]:
    """Opens further data directories, e.g. `make_home("max_unlock_attempts = 2")`; all closed afterwards."""
    opened: list[Home] = []

    def _make(extra_security: str = "", name: str | None = None) -> Home:
        path = prepare_home_dir(tmp_path / (name or f"home-{len(opened) + 1}"), extra_security)
        h = open_home(path)
        opened.append(h)
        return h

    yield _make
    for h in opened:
        h.close()


@pytest.fixture
def fake() -> Iterator[FakeOllama]:
    """A fake Ollama on a random 127.0.0.1 port (tests may change its switches)."""
    with FakeOllama() as server:
        yield server


@pytest.fixture
def ollama_host(fake: FakeOllama, monkeypatch: pytest.MonkeyPatch) -> FakeOllama:
    """`fake`, named by OLLAMA_HOST as the ollama CLI finds its server (for code that reads no Settings)."""
    monkeypatch.setenv("OLLAMA_HOST", fake.base_url)
    return fake
