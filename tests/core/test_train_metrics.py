"""Metrics read from trainers' own log lines and trainer_state.json."""

from __future__ import annotations

import json
import math

from forge_tui.core.train_metrics import (
    MetricPoint,
    TrainMetrics,
    parse_line,
    read_trainer_state,
    total_steps_in,
    without_progress_bars,
)


def test_hugging_face_lines_with_floats_printed_as_strings_or_numbers() -> None:
    line = "{'loss': '2.31', 'grad_norm': '1.042', 'learning_rate': '4.5e-05', 'epoch': '0.25'}"
    assert parse_line(line, 3) == MetricPoint(step=4, loss=2.31, learning_rate=4.5e-05, epoch=0.25, grad_norm=1.042)
    plain = "{'loss': 1.5, 'grad_norm': 0.5, 'learning_rate': 1e-05, 'epoch': 1.0, 'step': 9}"
    assert parse_line(plain, 0) == MetricPoint(step=9, loss=1.5, learning_rate=1e-05, epoch=1.0, grad_norm=0.5)


def test_a_line_after_a_progress_bar_without_newline_still_counts() -> None:
    line = " 20%|##   | 1/5 [00:01<00:02, 5.00it/s]{'loss': '2', 'learning_rate': '1e-05', 'epoch': '0.2'}"
    point = parse_line(line, 0)
    assert point is not None and point.loss == 2.0
    assert without_progress_bars(" 40%|####  | 2/5 [00:01<00:02, 5.00it/s]ValueError: x") == "ValueError: x"


def test_summaries_evaluations_and_other_text_hold_no_point() -> None:
    assert parse_line("{'train_runtime': '3.1', 'train_loss': '2.2', 'epoch': '1'}", 2) is None
    assert parse_line("{'eval_loss': 2.0, 'epoch': 1.0}", 2) is None
    assert parse_line("{'loss': __import__('os')}", 0) is None
    assert parse_line("Loading checkpoint shards", 0) is None


def test_mlx_lm_lines() -> None:
    line = "Iter 20: Train loss 1.234, Learning Rate 1.000e-05, It/sec 0.512, Tokens/sec 210.3, Trained Tokens 4096"
    assert parse_line(line, 0) == MetricPoint(step=20, loss=1.234, learning_rate=1e-05)
    assert parse_line("Iter 20: Val loss 1.100, Val took 2.0s", 0) is None


def test_the_total_of_a_progress_bar() -> None:
    assert total_steps_in("\r 33%|###3      | 1/3 [00:01<00:02,  1.02s/it]") == 3
    assert total_steps_in("no bar") is None


def test_trainer_state_log_history_and_max_steps() -> None:
    state = {
        "max_steps": 30,
        "log_history": [
            {"loss": 2.5, "learning_rate": 2e-4, "epoch": 0.1, "step": 1},
            {"eval_loss": 2.4, "step": 1},
            {"loss": 2.0, "learning_rate": 1e-4, "epoch": 0.2, "step": 2},
        ],
    }
    points, max_steps = read_trainer_state(json.dumps(state))
    assert [(p.step, p.loss) for p in points] == [(1, 2.5), (2, 2.0)] and max_steps == 30
    assert read_trainer_state("not json") == ([], None)


def test_series_rate_and_eta() -> None:
    metrics = TrainMetrics(max_steps=10)
    for step in range(1, 5):
        metrics.add(MetricPoint(step=step, loss=float(step), learning_rate=0.1), at=float(step))
    metrics.add(MetricPoint(step=5, loss=math.nan), at=5.0)
    steps, losses, rate_steps, _rates = metrics.series()
    assert steps == [1, 2, 3, 4] and losses == [1.0, 2.0, 3.0, 4.0] and rate_steps == [1, 2, 3, 4]
    assert metrics.steps_per_s() == 1.0 and metrics.eta_s() == 5.0
    version = metrics.version
    metrics.add(MetricPoint(step=2, loss=2.0, learning_rate=0.1), at=9.0)
    assert metrics.version == version  # the same point again changes nothing
