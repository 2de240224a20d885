"""`.ci/install-llama-cpp` builds llama-cpp-python portably and never from pip's cache (a native build
segfaults on CI's Xeons), and only once per venv. Run against a venv whose `pip` is a stand-in that
records how it was called (the real build takes minutes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / ".ci" / "install-llama-cpp"
PIP = """#!/usr/bin/env bash
# Records each call; `show` reports the version an `install` left.
here=$(dirname "$0")
echo "CMAKE_ARGS=${CMAKE_ARGS-} $*" >> "$here/../pip.log"
case "$1" in
  show) [ -f "$here/../installed" ] && echo "Name: llama_cpp_python" && echo "Version: $(cat "$here/../installed")" ;;
  install) echo 0.3.36 > "$here/../installed" ;;
esac
"""


def make_venv(root: Path) -> Path:
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (bin_dir / "pip").write_text(PIP)
    (bin_dir / "pip").chmod(0o755)
    return root


def install(venv: Path, **env: str) -> list[str]:
    """Runs the script; returns the pip installs it made."""
    log = venv / "pip.log"
    log.unlink(missing_ok=True)
    done = subprocess.run(
        ["bash", str(SCRIPT), str(venv)], env=os.environ | env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines() if log.exists() else []
    return [c for c in calls if " install " in f" {c.split(' ', 1)[1]} "]


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_builds_portably_without_the_cache_once_per_venv(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    (build,) = install(venv)
    assert build.startswith("CMAKE_ARGS=-DGGML_NATIVE=OFF install ")
    assert "--no-cache-dir" in build and "--no-binary llama-cpp-python" in build and "--force-reinstall" in build
    assert build.endswith(" llama-cpp-python[server]>=0.3")  # the real-model extra's own requirement
    assert install(venv) == []  # built here already


@pytest.mark.skipif(sys.platform == "win32", reason="a bash script")
def test_a_build_it_did_not_make_is_rebuilt_and_other_cmake_args_are_kept(tmp_path: Path) -> None:
    venv = make_venv(tmp_path / "venv")
    (venv / "installed").write_text("0.3.36\n")  # e.g. a native build from pip's cache
    (build,) = install(venv, CMAKE_ARGS="-DGGML_BLAS=ON")
    assert build.startswith("CMAKE_ARGS=-DGGML_BLAS=ON -DGGML_NATIVE=OFF install ")
    assert install(venv) == []


def test_ci_installs_it_before_the_real_model_extra() -> None:
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert lines.index("bash .ci/install-llama-cpp .venv") < lines.index(
        '.venv/bin/pip install --quiet -e ".[real-model,train]"'
    )


def test_ci_installs_the_cpu_torch_before_the_train_extra() -> None:
    """A torch that the extra's range admits is in place first, so pip does not fetch a CUDA build."""
    lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert lines.index('.venv/bin/pip install --quiet "torch==2.13.0"') < lines.index(
        '.venv/bin/pip install --quiet -e ".[real-model,train]"'
    )
