"""A pytest plugin: no test's captured output, and no file in a forge-tui data directory a test made,
holds a password or a recovery key.

The passwords are every module-level string named like `PASSWORD` in the test modules (conftest
files too) and the few literal ones below; a recovery key is anything shaped like one, so every key
a test saw counts without being registered. A leak turns the test's teardown into a failure that
names the secret's source, never the secret. tests/conftest.py loads it; tests/test_leak_guard.py
shows that it fails.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Generator, Iterator
from pathlib import Path
from types import ModuleType

import pytest

# Written out in tests instead of held in a PASSWORD constant.
LITERAL_PASSWORDS = (
    "a brand new secret",
    "forgot it so reset",
    "start all over again",
    "and once more again",
    "new password 1",
)
MIN_SECRET = 8  # shorter strings ("short") are test inputs that are refused, and would match by chance
RECOVERY_KEY = re.compile(rb"(?<![A-Z2-7])[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}(?![A-Z2-7])")
HOME_MARKERS = ("forge.db", "config.toml")

_found_in_module: dict[str, dict[str, str]] = {}


def _module_passwords(module: ModuleType) -> dict[str, str]:
    """password -> where it is defined, for one module (read once)."""
    cached = _found_in_module.get(module.__name__)
    if cached is None:
        cached = {
            value: f"{name} of {module.__name__}"
            for name, value in vars(module).items()
            if "PASSWORD" in name and isinstance(value, str) and len(value) >= MIN_SECRET
        }
        _found_in_module[module.__name__] = cached
    return cached


def known_passwords(item: pytest.Item) -> dict[str, str]:
    found = {p: "a password written out in the tests" for p in LITERAL_PASSWORDS}
    modules = [m for name, m in list(sys.modules.items()) if name == "tests" or name.startswith("tests.")]
    module = getattr(item, "module", None)
    if isinstance(module, ModuleType):
        modules.append(module)
    for m in modules:
        found.update(_module_passwords(m))
    return found


def leaks_in(data: bytes, passwords: dict[str, str]) -> list[str]:
    """What `data` holds: the source of each password found, and 'a recovery key'."""
    found = [source for password, source in passwords.items() if password.encode() in data]
    if RECOVERY_KEY.search(data):
        found.append("a recovery key")
    return found


def home_files(root: Path) -> Iterator[Path]:
    """Every file in the forge-tui data directories under `root`."""
    for marker in HOME_MARKERS:
        for found in root.rglob(marker):
            yield from (p for p in found.parent.iterdir() if p.is_file())


def leaks(item: pytest.Item, sections: list[tuple[str, str]]) -> list[str]:
    passwords = known_passwords(item)
    problems = [
        f"{title} holds {what}" for title, text in sections for what in leaks_in(text.encode("utf-8"), passwords)
    ]
    funcargs = getattr(item, "funcargs", {})
    tmp_path = funcargs.get("tmp_path")
    if isinstance(tmp_path, Path) and tmp_path.exists():
        for path in sorted(set(home_files(tmp_path))):
            where = path.relative_to(tmp_path)
            problems += [f"{where} holds {what}" for what in leaks_in(path.read_bytes(), passwords)]
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # At teardown the report's sections hold what every phase of the test printed and logged.
    if call.when == "teardown":
        problems = leaks(item, report.sections)
        if problems:
            report.outcome = "failed"
            report.longrepr = "A secret leaked:\n  " + "\n  ".join(problems)
    return report
