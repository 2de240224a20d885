"""`forge-tui templates list | show | export | import`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import Result

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def templates(cli: Cli, *args: str) -> Result:
    """`forge-tui templates ARGS` for the unlocked account: templates are sealed."""
    return cli("templates", *args, "--password-stdin", input=PASSWORD + "\n")


def test_list_json_shape(alice: Cli) -> None:
    listed = templates(alice, "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    weather = next(r for r in rows if r["name"] == "Tool call: weather")
    assert weather == {"name": "Tool call: weather", "slots": ["city", "when"], "tool_calling": True, "archived": False}
    assert {r["name"] for r in rows} >= {"Q&A pair on a topic", "Rewrite in a style"}
    plain = templates(alice, "list")
    assert "Tool call: weather   city, when  (tool calling)" in plain.stdout.splitlines()


def test_export_edit_import_round_trip(alice: Cli, tmp_path: Path) -> None:
    out = tmp_path / "rewrite.toml"
    exported = templates(alice, "export", "Rewrite in a style", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    text = out.read_text()
    assert text == templates(alice, "show", "Rewrite in a style").stdout
    out.write_text(text.replace('name = "Rewrite in a style"', 'name = "Rewrite, shared"'))
    imported = templates(alice, "import", str(out))
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.strip() == "Imported 'Rewrite, shared' (style, text)."
    shown = json.loads(templates(alice, "show", "Rewrite, shared", "--as", "json").stdout)
    assert shown["user_prompt"] == "Rewrite this in the style of {{ style }}:\n\n{{ text }}"

    again = templates(alice, "import", str(out))
    assert again.exit_code == 1 and "already a template named 'Rewrite, shared'" in again.stderr
    renamed = templates(alice, "import", str(out), "--name", "Rewrite 2")
    assert renamed.exit_code == 0, renamed.output


def test_errors_exit_with_documented_codes(alice: Cli, tmp_path: Path) -> None:
    missing = templates(alice, "show", "Nope")
    assert missing.exit_code == 5 and "No template named 'Nope'" in missing.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nuser_prompt = "{{ oops"\n')
    broken = templates(alice, "import", str(bad))
    assert broken.exit_code == 2
    assert "bad.toml: user prompt: line 1:" in broken.stderr
    wrong_type = templates(alice, "export", "Rewrite in a style", "--out", str(tmp_path / "x.yaml"))
    assert wrong_type.exit_code == 1 and ".toml or .json" in wrong_type.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_template_and_format_files_that_are_not_regular_files_are_refused_without_waiting(
    alice: Cli, tmp_path: Path
) -> None:
    pipe = tmp_path / "shared.toml"
    os.mkfifo(pipe)  # opening one for reading waits for a writer that never comes
    imported = templates(alice, "import", str(pipe))
    assert (
        imported.exit_code == 2
        and imported.stderr == f"forge-tui: {pipe} is a named pipe (FIFO), not a regular file.\n"
    )
    saved = alice("formats", "save", "f", "--body", str(pipe), "--password-stdin", input=PASSWORD + "\n")
    assert saved.exit_code == 2 and "is a named pipe (FIFO), not a regular file." in saved.stderr
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    assert templates(alice, "import", str(folder)).stderr == f"forge-tui: {folder} is a directory, not a file.\n"
    huge = tmp_path / "huge.toml"
    with huge.open("wb") as f:
        f.truncate(11 * 1024 * 1024)
    too_big = templates(alice, "import", str(huge))
    assert too_big.exit_code == 2 and "is larger than 10 MB" in too_big.stderr
