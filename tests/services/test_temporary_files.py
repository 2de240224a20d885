"""Temporary files beside a written file: named for the process that made them, so the next write
into the folder removes those of a process that was killed, and nothing else."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forge_tui.services import files
from tests.processes import dead_pid

pytestmark = pytest.mark.skipif(os.name != "posix", reason="asks the OS whether a process runs")


def test_the_next_write_removes_what_a_killed_process_left_and_nothing_else(tmp_path: Path) -> None:
    host = files._HOST
    left = [
        tmp_path / f".data.jsonl.forge-tmp-{host}-{dead_pid()}-k3x_9a2q.part",
        tmp_path / f".data.csv.forge-tmp-{host}-{dead_pid()}-zz81mq0b.spool",
    ]
    kept = [
        tmp_path / f".data.jsonl.forge-tmp-{host}-{os.getppid()}-a1b2c3d4.part",  # its process runs
        tmp_path / f".data.jsonl.forge-tmp-0000beef-{dead_pid()}-a1b2c3d4.part",  # another host's
        tmp_path / ".data.jsonl.tmp1234.part",  # not ours
        tmp_path / "notes.part",
    ]
    for path in left + kept:
        path.write_bytes(b"decrypted text")
    files.write_text(tmp_path / "template.toml", "name = 'x'\n")
    assert sorted(tmp_path.iterdir()) == sorted([*kept, tmp_path / "template.toml"])


def test_a_temporary_file_names_its_process_and_goes_when_the_write_fails(tmp_path: Path) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), files.replacing(tmp_path / "out.jsonl") as out:
        seen += [p.name for p in tmp_path.iterdir()]
        out.write("partial")
        raise RuntimeError("interrupted")
    (name,) = seen
    found = files.TEMP_NAME.match(name)
    assert found is not None and int(found["pid"]) == os.getpid() and name.startswith(".out.jsonl.")
    assert list(tmp_path.iterdir()) == []


def test_after_remove_temporaries_nothing_is_left_or_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_stopping", False)
    monkeypatch.setattr(files, "_live", {})
    with pytest.raises(files.Stopping), files.replacing(tmp_path / "out.jsonl") as out:
        out.write("partial")
        files.remove_temporaries()  # what a signal handler does
        assert list(tmp_path.iterdir()) == []
        files.write_text(tmp_path / "other.txt", "more")
    assert list(tmp_path.iterdir()) == []
