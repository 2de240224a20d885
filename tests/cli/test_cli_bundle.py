"""`forge-tui bundle`: a folder per trainer, its summary as JSON, and refusals as one line with exit
code 2 (a stage the data cannot feed, an unknown trainer) or 1 (a folder that is not empty), the
folder untouched."""

from __future__ import annotations

import json
from pathlib import Path

from forge_tui.services.workspace import Workspace
from tests.bundle_data import stock
from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def test_bundle_command(alice: Cli, workspace_of: Workspace, tmp_path: Path) -> None:
    stock(workspace_of)
    out = tmp_path / "lf"
    result = alice("bundle", "pairs", "--for", "llamafactory", "--out", str(out), "--json", "--password-stdin",
                   input=PASSWORD + "\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["stage"] == "dpo" and summary["records"] == 10 and summary["trainer"] == "llamafactory"
    assert summary["command"] == ["llamafactory-cli", "train", "train.yaml"]
    assert (out / "data" / "dataset_info.json").is_file() and (out / "forge-bundle.json").is_file()

    again = alice("bundle", "pairs", "--for", "llamafactory", "--out", str(out), "--password-stdin",
                  input=PASSWORD + "\n")  # fmt: skip
    assert again.exit_code == 1 and again.stderr.count("\n") == 1 and "not empty" in again.stderr
    replaced = alice("bundle", "chat", "--for", "trl", "--out", str(out), "--yes", "--base", "google/gemma-3-270m-it",
                     "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert replaced.exit_code == 0, replaced.output
    assert "Wrote the trl bundle (sft, 12 records)" in replaced.stdout
    manifest = json.loads((out / "forge-bundle.json").read_text(encoding="utf-8"))
    assert manifest["chat_format"] == "gemma3" and not (out / "train.yaml").exists()

    refused = alice("bundle", "chat", "--for", "trl", "--stage", "kto", "--out", str(tmp_path / "k"),
                    "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1 and "desirability label" in refused.stderr
    assert not (tmp_path / "k").exists()
    unknown = alice("bundle", "chat", "--for", "torchtune", "--out", str(tmp_path / "t"))
    assert unknown.exit_code == 2 and "not 'torchtune'" in unknown.stderr
