"""`forge-tui doctor` and `forge-tui models` against the fake Ollama server and against nothing."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.endpoints import Endpoint
from forge_tui.services.accounts import AccountService
from forge_tui.services.home import open_home
from forge_tui.services.settings import SettingsService
from tests.fake_ollama import FakeOllama
from tests.ui.helpers import make_user


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_tui", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_and_models_against_the_fake(fast_home_dir: Path) -> None:
    fast_home_dir.chmod(0o700)
    with FakeOllama() as fake:
        doctor = run_cli(fast_home_dir, "doctor", "--url", fake.base_url, "--json")
        assert doctor.returncode == 0, doctor.stderr
        report = json.loads(doctor.stdout)
        assert report["backend"]["reachable"] and report["backend"]["version"] == "0.12.6"
        assert "llama3.2:latest" in report["models"]
        assert report["schema"]["current"] == report["schema"]["head"]
        assert report["exposed_files"] == []

        table = run_cli(fast_home_dir, "models", "--url", fake.base_url)
        assert table.returncode == 0, table.stderr
        header, *rows = table.stdout.splitlines()
        # The five columns it always had come first; the context length and what is loaded follow (issue 21).
        assert header.split() == ["NAME", "SIZE", "PARAMS", "QUANT", "FAMILY", "CONTEXT", "LOADED"]
        assert any(row.startswith("llama3.2:latest") and "Q4_K_M" in row for row in rows)


def test_doctor_exits_6_and_says_how_to_fix_an_unreachable_server(fast_home_dir: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fast_home_dir.chmod(0o755)  # as an older version made it
    doctor = run_cli(fast_home_dir, "doctor", "--url", f"http://127.0.0.1:{port}")
    assert doctor.returncode == 6
    assert "NOT REACHABLE" in doctor.stdout and "ollama serve" in doctor.stdout
    assert f"permissions  Other users have access to the data directory {fast_home_dir} (mode 755)" in doctor.stdout


def test_doctor_calls_a_server_at_work_busy_and_exits_0(fast_home_dir: Path) -> None:
    """A server that takes the connection and does not answer within the connect timeout (llama.cpp
    while it serves its one request) is there: BUSY, `"busy": true`, exit 0; a closed port stays 6."""
    home = open_home(fast_home_dir)
    make_user(home)
    user = AccountService(home).get("alice")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        SettingsService(home, user).save_backend(BackendSettings(kind="openai", base_url=url, connect_timeout=0.5))
        shown = run_cli(fast_home_dir, "doctor")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert ": BUSY" in shown.stdout and "0.5 s" in shown.stdout
        told = run_cli(fast_home_dir, "doctor", "--json")
        assert told.returncode == 0, told.stderr
        backend = json.loads(told.stdout)["backend"]
        assert backend["busy"] is True and backend["reachable"] is True and "0.5 s" in backend["message"]
    closed = run_cli(fast_home_dir, "doctor", "--json")
    assert closed.returncode == 6
    backend = json.loads(closed.stdout)["backend"]
    assert backend["busy"] is False and backend["reachable"] is False


def test_doctor_asks_every_endpoint_and_names_the_one_down(fast_home_dir: Path) -> None:
    home = open_home(fast_home_dir)
    make_user(home)
    user = AccountService(home).get("alice")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with FakeOllama() as fake:
        endpoints = [Endpoint(name="gpu1", url=fake.base_url), Endpoint(name="gpu2", url=dead)]
        settings = BackendSettings(base_url=fake.base_url, endpoints=endpoints)
        SettingsService(home, user).save_backend(settings)
        told = run_cli(fast_home_dir, "doctor", "--json")
        assert told.returncode == 6, told.stderr
        shown = {e["name"]: e for e in json.loads(told.stdout)["endpoints"]}
        assert shown["gpu1"]["reachable"] and shown["gpu1"]["version"] == "0.12.6"
        assert not shown["gpu2"]["reachable"] and not shown["gpu2"]["busy"] and dead in shown["gpu2"]["message"]
        text = run_cli(fast_home_dir, "doctor")
        assert text.returncode == 6
        assert f"gpu1 ({fake.base_url}): ok" in text.stdout and f"gpu2 ({dead}): NOT REACHABLE" in text.stdout
        # --url names one server: the endpoints are left out.
        one = run_cli(fast_home_dir, "doctor", "--url", fake.base_url, "--json")
        assert one.returncode == 0 and json.loads(one.stdout)["endpoints"] == []
        SettingsService(home, user).save_backend(settings.model_copy(update={"endpoints": endpoints[:1]}))
        assert run_cli(fast_home_dir, "doctor").returncode == 0
