"""Trainer bundles, each read as its trainer reads it: TRL's data through `datasets` and TRL's own
format checks and its config through TRL's own parser; LLaMA-Factory's dataset_info.json against the
schema its data/README.md documents (ShareGPT, Alpaca, ranking, KTO); mlx-lm's files and keys as
mlx_lm/tuner/datasets.py and mlx_lm/lora.py read them; Axolotl's datasets section as its docs describe
it. And the folder is written whole or not at all, an existing one replaced only when asked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML comes with datasets (the test extra); no stubs installed

from forge_tui.core.bundle_manifest import MANIFEST_NAME
from forge_tui.core.errors import InvalidInput
from forge_tui.services.bundles import BundleSummary, FolderNotEmpty, read_manifest, write_bundle
from forge_tui.services.workspace import Workspace
from tests.bundle_data import stock

# mlx_lm/lora.py's CONFIG_DEFAULTS keys (ml-explore/mlx-lm): the only keys its --config takes.
MLX_CONFIG_KEYS = {
    "model", "train", "fine_tune_type", "optimizer", "optimizer_config", "data", "seed", "num_layers",
    "batch_size", "iters", "val_batches", "learning_rate", "steps_per_report", "steps_per_eval",
    "resume_adapter_file", "adapter_path", "save_every", "test", "test_batches", "max_seq_length", "config",
    "grad_checkpoint", "grad_accumulation_steps", "clear_cache_threshold", "lr_schedule", "lora_parameters",
    "mask_prompt", "report_to", "project_name", "trust_remote_code",
}  # fmt: skip
# LLaMA-Factory's data/README.md: the keys of a dataset description, of `columns` and of `tags`.
LF_ENTRY_KEYS = {"file_name", "formatting", "ranking", "columns", "tags", "subset", "split", "num_samples"}
LF_COLUMNS = {
    "prompt", "query", "response", "history", "messages", "system", "tools", "images", "videos", "audios",
    "chosen", "rejected", "kto_tag",
}  # fmt: skip
LF_TAGS = {"role_tag", "content_tag", "user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"}
LF_TAG_DEFAULTS = {
    "role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
    "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system",
}  # fmt: skip


@pytest.fixture
def datasets(workspace: Workspace) -> dict[str, int]:
    return stock(workspace)


def bundle(workspace: Workspace, name: str, trainer: str, out: Path, **options: Any) -> BundleSummary:
    return write_bundle(workspace.examples, workspace.datasets.get(name), trainer, out, **options)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def manifest(folder: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    return loaded


def test_manifest_keeps_the_contract(workspace: Workspace, datasets: dict[str, int], tmp_path: Path) -> None:
    summary = bundle(workspace, "pairs", "trl", tmp_path / "b", base_model="google/gemma-3-270m-it")
    found = manifest(tmp_path / "b")
    assert found == {
        "format": 1,
        "trainer": "trl",
        "stage": "dpo",
        "dataset": "pairs",
        "examples": 10,
        "base_model": "google/gemma-3-270m-it",
        "chat_format": "gemma3",
        "command": ["trl", "dpo", "--config", "dpo_config.yaml"],
        "base_override": ["--model_name_or_path", "{base_model}"],
        "output_dir": "output",
        "log": "hf-trainer",
    }
    assert summary.records == 10 and summary.stage == "dpo"
    readme = (tmp_path / "b" / "README.md").read_text(encoding="utf-8")
    assert "trl dpo --config dpo_config.yaml" in readme and "LoRA rank" in readme and "Epochs" in readme
    assert "tokenizer" in readme  # the chat template is the base model's
    assert read_manifest(tmp_path / "b") == found
    with pytest.raises(InvalidInput, match="not a forge-tui bundle"):
        read_manifest(tmp_path)


@pytest.mark.slow
def test_trl_bundles_load_as_trl_reads_them(workspace: Workspace, datasets: dict[str, int], tmp_path: Path) -> None:
    datasets_lib = pytest.importorskip("datasets", reason="the datasets package is not installed")
    trl = pytest.importorskip("trl", reason="trl is not installed (the train extra)")
    from trl.data_utils import is_conversational

    configs = {"sft": trl.SFTConfig, "dpo": trl.DPOConfig, "kto": trl.KTOConfig}
    for name, stage in (("chat", "sft"), ("pairs", "dpo"), ("labels", "kto")):
        folder = tmp_path / stage
        assert bundle(workspace, name, "trl", folder).stage == stage
        rows = datasets_lib.load_dataset("json", data_files=str(folder / "data" / "train.jsonl"), split="train")
        assert len(rows) == (12 if stage == "sft" else 10)
        assert all(is_conversational(row) for row in rows)
        # The config names the folder: datasets reads train.jsonl in it as the train split.
        assert len(datasets_lib.load_dataset(str(folder / "data"))["train"]) == len(rows)
        if stage == "sft":
            assert set(rows.column_names) >= {"messages", "tools"}
        if stage == "dpo":
            assert set(rows.column_names) == {"prompt", "chosen", "rejected"}
            assert all(row["prompt"][-1]["role"] == "user" and row["chosen"][0]["role"] == "assistant" for row in rows)
        if stage == "kto":
            assert set(rows.column_names) == {"prompt", "completion", "label"}
            assert {row["label"] for row in rows} == {True, False}
        parser = trl.TrlParser((trl.ScriptArguments, configs[stage], trl.ModelConfig, trl.DatasetMixtureConfig))
        script, config, model, _mixture = parser.parse_args_and_config(
            ["--config", str(folder / f"{stage}_config.yaml"), "--model_name_or_path", "other/model",
             "--use_cpu", "true"],
            fail_with_unknown_args=True,
        )[:4]  # fmt: skip
        assert script.dataset_name == "data" and config.output_dir == "output" and config.logging_steps == 1
        assert model.use_peft and model.lora_r == 8 and model.model_name_or_path == "other/model"


def check_llamafactory(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The dataset description and its records, checked against LLaMA-Factory's data/README.md."""
    config = yaml.safe_load((folder / "train.yaml").read_text(encoding="utf-8"))
    info = json.loads((folder / config["dataset_dir"] / "dataset_info.json").read_text(encoding="utf-8"))
    entry = info[config["dataset"]]
    assert set(entry) <= LF_ENTRY_KEYS and set(entry["columns"]) <= LF_COLUMNS
    rows = records(folder / config["dataset_dir"] / entry["file_name"])
    assert rows
    for column in entry["columns"].values():
        assert all(column in row for row in rows), column
    formatting = entry.get("formatting", "alpaca")
    columns = entry["columns"]
    if formatting == "sharegpt":
        tags = LF_TAG_DEFAULTS | entry.get("tags", {})
        assert set(entry.get("tags", {})) <= LF_TAGS
        odd = {tags["user_tag"], tags["observation_tag"]}
        even = {tags["assistant_tag"], tags["function_tag"]}
        for row in rows:
            turns = row[columns["messages"]]
            if turns and turns[0][tags["role_tag"]] == tags["system_tag"]:
                turns = turns[1:]
            for number, turn in enumerate(turns):
                assert turn[tags["role_tag"]] in (odd if number % 2 == 0 else even), row
                assert isinstance(turn[tags["content_tag"]], str)
            if entry.get("ranking"):
                assert len(turns) % 2 == 1  # ends with the user's turn; the answers are chosen/rejected
                for side in ("chosen", "rejected"):
                    assert row[columns[side]][tags["role_tag"]] == tags["assistant_tag"]
            else:
                assert len(turns) % 2 == 0
            if "kto_tag" in columns:
                assert isinstance(row[columns["kto_tag"]], bool)
    else:
        assert not entry.get("tags")
        for row in rows:
            assert isinstance(row[columns["prompt"]], str) and isinstance(row[columns["query"]], str)
            if entry.get("ranking"):
                assert isinstance(row[columns["chosen"]], str) and isinstance(row[columns["rejected"]], str)
            else:
                assert isinstance(row[columns["response"]], str)
    assert config["finetuning_type"] == "lora" and config["output_dir"] == "output" and config["template"]
    return entry, rows


def test_llamafactory_bundles_fit_its_documented_schema(
    workspace: Workspace, datasets: dict[str, int], tmp_path: Path
) -> None:
    cases = [
        ("chat", None, "sft", "sharegpt"),
        ("chat", "alpaca", "sft", "alpaca"),
        ("pairs", None, "dpo", "sharegpt"),
        ("pairs", "alpaca", "dpo", "alpaca"),
        ("labels", None, "kto", "sharegpt"),
    ]
    for name, shape, stage, formatting in cases:
        folder = tmp_path / f"{name}-{shape}"
        bundle(workspace, name, "llamafactory", folder, shape=shape)
        entry, rows = check_llamafactory(folder)
        assert yaml.safe_load((folder / "train.yaml").read_text())["stage"] == stage
        assert entry["formatting"] == formatting
        assert bool(entry.get("ranking")) == (stage == "dpo")
        assert ("kto_tag" in entry["columns"]) == (stage == "kto")
        assert manifest(folder)["command"] == ["llamafactory-cli", "train", "train.yaml"]
        if (name, formatting) == ("chat", "sharegpt"):
            assert any(turn["from"] == "function_call" for row in rows for turn in row["conversations"])
            assert any(row["tools"] for row in rows) and any(row["system"] for row in rows)


def test_mlx_bundle_has_the_files_and_keys_mlx_lm_reads(
    workspace: Workspace, datasets: dict[str, int], tmp_path: Path
) -> None:
    summary = bundle(workspace, "chat", "mlx-lm", tmp_path / "m")
    folder = tmp_path / "m"
    config = yaml.safe_load((folder / "lora_config.yaml").read_text(encoding="utf-8"))
    assert set(config) <= MLX_CONFIG_KEYS and config["train"] is True
    data = folder / config["data"]
    split = {name: records(data / f"{name}.jsonl") for name in ("train", "valid", "test")}
    assert sum(len(rows) for rows in split.values()) == summary.records == 12
    assert all(split.values())  # mlx-lm fails on an empty file
    for rows in split.values():
        assert all(isinstance(row["messages"], list) and row["messages"][-1]["role"] == "assistant" for row in rows)
    messages = [message for rows in split.values() for row in rows for message in row["messages"]]
    assert all(isinstance(message["content"], str) for message in messages)  # chat templates read it from each
    # Tool-call arguments as objects: Hugging Face chat templates write them out themselves.
    calls = [call for message in messages for call in message.get("tool_calls", [])]
    assert calls and all(call["function"]["arguments"] in ({"word": "river"}, {"word": "lake"}) for call in calls)
    assert config["batch_size"] <= min(len(split["train"]), len(split["valid"]))
    assert config["adapter_path"] == "output" and config["lora_parameters"]["rank"] == 8
    assert not (data / "all.jsonl").exists()
    # Preference data trains SFT in mlx-lm: the stage cannot be dpo.
    assert bundle(workspace, "pairs", "mlx-lm", tmp_path / "p").stage == "sft"
    with pytest.raises(InvalidInput, match="MLX-LM trains only sft"):
        bundle(workspace, "pairs", "mlx-lm", tmp_path / "q", stage="dpo")


def test_mlx_split_keeps_valid_from_two_records(workspace: Workspace, tmp_path: Path) -> None:
    from tests.bundle_data import chat_items

    for count, files in ((1, {"train", "valid"}), (2, {"train", "valid"}), (3, {"train", "valid", "test"})):
        ds = workspace.datasets.create(f"small{count}").id
        workspace.examples.add_many(ds, chat_items(count))
        folder = tmp_path / f"s{count}"
        bundle(workspace, f"small{count}", "mlx-lm", folder)
        written = {p.stem for p in (folder / "data").glob("*.jsonl")}
        assert written == files
        assert all(records(folder / "data" / f"{name}.jsonl") for name in written)


def test_axolotl_and_unsloth_bundles(workspace: Workspace, datasets: dict[str, int], tmp_path: Path) -> None:
    for name, stage, kind in (("chat", "sft", "chat_template"), ("pairs", "dpo", "chat_template.default")):
        folder = tmp_path / name
        bundle(workspace, name, "axolotl", folder)
        config = yaml.safe_load((folder / "axolotl.yaml").read_text(encoding="utf-8"))
        (entry,) = config["datasets"]
        assert entry["type"] == kind and config["adapter"] == "lora" and config["output_dir"] == "output"
        assert config.get("rl") == (None if stage == "sft" else "dpo")
        rows = records(folder / entry["path"])
        mapping = entry["message_property_mappings"]
        for row in rows:
            for message in row[entry["field_messages"]]:
                assert {mapping["role"], mapping["content"]} <= set(message)
            if stage == "dpo":
                assert row[entry["field_chosen"]][mapping["role"]] == "assistant"
                assert row[entry["field_rejected"]][mapping["role"]] == "assistant"
    folder = tmp_path / "kto"
    bundle(workspace, "labels", "axolotl", folder)
    config = yaml.safe_load((folder / "axolotl.yaml").read_text(encoding="utf-8"))
    fields = config["datasets"][0]["type"]
    assert config["rl"] == "kto"
    for row in records(folder / config["datasets"][0]["path"]):
        assert {fields[key] for key in ("field_prompt", "field_system", "field_completion", "field_label")} <= set(row)
        assert isinstance(row[fields["field_label"]], bool)
    folder = tmp_path / "unsloth"
    bundle(workspace, "pairs", "unsloth", folder, base_model="unsloth/gemma-3-270m-it")
    script = (folder / "train_unsloth.py").read_text(encoding="utf-8")
    compile(script, "train_unsloth.py", "exec")
    assert "DPOTrainer" in script and '"unsloth/gemma-3-270m-it"' in script and "data/train.jsonl" in script
    assert manifest(folder)["command"] == ["python", "train_unsloth.py"]


def test_stage_flag_refuses_what_the_data_cannot_feed(
    workspace: Workspace, datasets: dict[str, int], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="rejected answer"):
        bundle(workspace, "chat", "trl", tmp_path / "a", stage="dpo")
    with pytest.raises(InvalidInput, match="desirability label"):
        bundle(workspace, "pairs", "trl", tmp_path / "b", stage="kto")
    # sft fits every dataset: the preference pairs train on their chosen answers.
    assert bundle(workspace, "pairs", "trl", tmp_path / "c", stage="sft").records == 10
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_written_whole_or_not_at_all(workspace: Workspace, datasets: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "bundle"
    target.mkdir()
    (target / "mine.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FolderNotEmpty):
        bundle(workspace, "chat", "trl", target)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    workspace.datasets.create("empty")
    with pytest.raises(InvalidInput, match="no examples"):
        bundle(workspace, "empty", "trl", target, overwrite=True)
    assert [p.name for p in target.iterdir()] == ["mine.txt"]
    bundle(workspace, "chat", "trl", target, overwrite=True)
    assert not (target / "mine.txt").exists() and (target / MANIFEST_NAME).exists()
    assert not [p.name for p in tmp_path.iterdir() if "forge-tmp" in p.name or "forge-old" in p.name]
