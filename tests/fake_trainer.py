"""A stand-in trainer, run as a real process by the train tests and the benchmark: it logs like the
Hugging Face Trainer (Python-dict lines, floats as strings, a tqdm counter on stderr), writes
checkpoints with `trainer_state.json`, and an adapter at the end.

Arguments: `--max_steps N`, `--model_name_or_path M`, `--resume_from_checkpoint DIR` (the others are
ignored). Environment: FAKE_TRAINER_RATE (steps per second, default 50), FAKE_TRAINER_FAIL (exit
with this code after the first step, printing an error line), FAKE_TRAINER_IGNORE_INT (ignore SIGINT).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def _arg(argv: list[str], name: str, default: str) -> str:
    return argv[argv.index(name) + 1] if name in argv and argv.index(name) + 1 < len(argv) else default


def _state(history: list[dict[str, object]], step: int, max_steps: int) -> str:
    return json.dumps({"global_step": step, "max_steps": max_steps, "log_history": history})


def _terminated(_signum: int, _frame: object) -> None:
    print("Terminated by SIGTERM.", flush=True)
    sys.exit(143)


def main() -> int:
    argv = sys.argv[1:]
    max_steps = int(_arg(argv, "--max_steps", "5"))
    resume = _arg(argv, "--resume_from_checkpoint", "")
    out = Path("output")
    out.mkdir(exist_ok=True)
    (out / "fake_started.json").write_text(json.dumps({"argv": argv, "pid": os.getpid()}))
    if os.environ.get("FAKE_TRAINER_IGNORE_INT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    delay = 1.0 / float(os.environ.get("FAKE_TRAINER_RATE", "50"))
    fail = os.environ.get("FAKE_TRAINER_FAIL")
    history: list[dict[str, object]] = []
    first = 1
    if resume:
        state = json.loads((Path(resume) / "trainer_state.json").read_text())
        history = state["log_history"]
        first = int(state["global_step"]) + 1
        print(f"Resuming from {resume}", flush=True)
    try:
        for step in range(first, max_steps + 1):
            time.sleep(delay)
            loss = 3.0 / step
            rate = 5e-5 * (1 - (step - 1) / max_steps)
            logged = {
                "loss": f"{loss:.4g}",
                "grad_norm": "1.25",
                "learning_rate": f"{rate:.4g}",
                "epoch": f"{step / max_steps:.4g}",
            }
            print(str(logged), flush=True)
            sys.stderr.write(f"\r {step * 100 // max_steps}%|##   | {step}/{max_steps} [00:01<00:02, 5.00it/s]")
            sys.stderr.flush()
            history.append(
                {"loss": loss, "grad_norm": 1.25, "learning_rate": rate, "epoch": step / max_steps, "step": step}
            )
            if step % 2 == 0:
                checkpoint = out / f"checkpoint-{step}"
                checkpoint.mkdir(exist_ok=True)
                (checkpoint / "trainer_state.json").write_text(_state(history, step, max_steps))
            if fail:
                print("ValueError: the fake trainer was told to fail", flush=True)
                return int(fail)
    except KeyboardInterrupt:
        print("Interrupted: stopping the fake trainer.", flush=True)
        return 130
    (out / "trainer_state.json").write_text(_state(history, max_steps, max_steps))
    (out / "adapter_config.json").write_text("{}")
    (out / "adapter_model.safetensors").write_bytes(b"fake")
    print(str({"train_runtime": "1.0", "train_loss": "1.0"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
