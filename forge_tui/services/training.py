"""A trainer bundle (`forge-bundle.json`, the contract shared with services.bundles) read and run:
the trainer's command line, the trainer found in forge-tui's own environment first, started as a
process group of its own in the bundle folder with its output in the run's log file, and stopped
with SIGINT, then SIGTERM, then SIGKILL. Watchers read the log file (services.train_watch), so a run
in another process is watched the same way."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import Conflict, InvalidInput, NotFound
from forge_tui.core.jobs import reason_text
from forge_tui.core.train_metrics import without_progress_bars
from forge_tui.i18n import _

BUNDLE_FILE = "forge-bundle.json"
BUNDLE_FORMAT = 1
LOG_FILE = "train.log"
PID_FILE = "trainer.pid"
TRAINERS = ("trl", "llamafactory", "mlx-lm", "axolotl", "unsloth")
STAGES = ("sft", "dpo", "kto")
# What installs each trainer's command: the message for a missing one names it.
INSTALL = {
    "trl": "pip install 'forge-tui[train]'",
    "llamafactory": "pip install llamafactory",
    "mlx-lm": "pip install mlx-lm",
    "axolotl": "pip install axolotl",
    "unsloth": "pip install unsloth",
}
# Trainers whose command line takes `--resume_from_checkpoint DIR` (Hugging Face TrainingArguments).
RESUMES = ("trl", "llamafactory", "axolotl")
STATE_FILE = "trainer_state.json"  # Hugging Face Trainer's, in the output folder and each checkpoint
RUN_MARKER = "forge-run.json"  # which job owns the output folder, when it started, whether it finished
STOP_GRACE_S = 10.0  # after SIGINT (the trainer saves and exits), before SIGTERM
TERM_GRACE_S = 5.0  # after SIGTERM, before SIGKILL
LAST_LINES_READ = 64 * 1024


@dataclass(frozen=True)
class Bundle:
    """A bundle folder's `forge-bundle.json`."""

    path: Path
    trainer: str
    stage: str
    dataset: str
    examples: int
    base_model: str
    chat_format: str
    command: list[str]
    base_override: list[str]
    output_dir: str
    log: str

    @property
    def output_path(self) -> Path:
        return (self.path / self.output_dir).resolve()

    def argv(self, base: str | None, extra: list[str]) -> list[str]:
        """The trainer's command line: the bundle's command, the base model override, then `extra`."""
        argv = list(self.command)
        if base:
            argv += [part.replace("{base_model}", base) for part in self.base_override]
        return argv + list(extra)


def _strings(value: object) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        return list(value)
    return None


def read_bundle(folder: Path) -> Bundle:
    """The bundle in `folder` (or the folder of a given forge-bundle.json)."""
    folder = folder.expanduser()
    if folder.is_file() and folder.name == BUNDLE_FILE:
        folder = folder.parent
    manifest = folder / BUNDLE_FILE
    if not manifest.is_file():
        raise NotFound(
            _("No {file} in '{folder}': make one with `forge-tui bundle`.").format(
                file=BUNDLE_FILE, folder=clip(str(folder), 120)
            )
        )
    try:
        data: Any = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(
            _("The bundle's {file} cannot be read: {reason}").format(file=BUNDLE_FILE, reason=reason_text(str(exc)))
        ) from exc
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(
            _("The bundle's {file} is not format {format}.").format(file=BUNDLE_FILE, format=BUNDLE_FORMAT)
        )
    command = _strings(data.get("command"))
    override = _strings(data.get("base_override", []))
    trainer, stage = data.get("trainer"), data.get("stage")
    if not command or override is None or trainer not in TRAINERS or stage not in STAGES:
        raise InvalidInput(_("The bundle's {file} lacks a trainer, a stage or a command.").format(file=BUNDLE_FILE))
    return Bundle(
        path=folder.resolve(),
        trainer=str(trainer),
        stage=str(stage),
        dataset=str(data.get("dataset", "")),
        examples=int(data.get("examples", 0) or 0),
        base_model=str(data.get("base_model", "")),
        chat_format=str(data.get("chat_format", "")),
        command=command,
        base_override=override,
        output_dir=str(data.get("output_dir") or "output"),
        log=str(data.get("log") or "hf-trainer"),
    )


def find_executable(name: str, trainer: str) -> str:
    """The trainer's command: beside forge-tui's Python (its environment) first, then on PATH."""
    if os.sep in name:
        if Path(name).is_file():
            return name
    else:
        beside = Path(sys.executable).parent / name
        if beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
        found = shutil.which(name)
        if found is not None:
            return found
    raise NotFound(
        _("The trainer's command '{name}' is not installed; install it with: {pip}").format(
            name=clip(name), pip=INSTALL.get(trainer, "pip install " + trainer)
        )
    )


def run_started(output_dir: Path) -> float | None:
    """When the run that owns the output folder first started its trainer (its marker), if known."""
    try:
        marker = json.loads((output_dir / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    started = marker.get("started_at") if isinstance(marker, dict) else None
    return float(started) if isinstance(started, int | float) else None


def of_this_run(path: Path, output_dir: Path) -> bool:
    """Whether `path` was written by the run that owns the folder, not by an earlier run of the bundle
    (an earlier run's checkpoints stay in the folder; a new run starts afresh beside them)."""
    started = run_started(output_dir)
    try:
        return started is None or path.stat().st_mtime >= started - 1.0
    except OSError:
        return False


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The output folder's `checkpoint-N` with the highest N that this run wrote, if any."""
    found: list[tuple[int, Path]] = []
    with contextlib.suppress(OSError):
        for child in output_dir.iterdir():
            number = child.name.removeprefix("checkpoint-")
            # A checkpoint folder of the same number is reused by a later run: its state file says whose it is.
            state = child / STATE_FILE
            if child.is_dir() and number.isdigit() and of_this_run(state if state.exists() else child, output_dir):
                found.append((int(number), child))
    return max(found)[1] if found else None


def resume_args(trainer: str, output_dir: Path, argv: list[str]) -> list[str]:
    """`--resume_from_checkpoint DIR` for a trainer that takes it and a run that left a checkpoint."""
    if trainer not in RESUMES or "--resume_from_checkpoint" in argv:
        return []
    checkpoint = latest_checkpoint(output_dir)
    return ["--resume_from_checkpoint", str(checkpoint)] if checkpoint is not None else []


def last_error_line(log_path: Path) -> str:
    """The log's last line that names an error, else its last line ("" for none)."""
    try:
        with log_path.open("rb") as log:
            log.seek(max(0, log_path.stat().st_size - LAST_LINES_READ))
            text = log.read().decode("utf-8", "replace")
    except OSError:
        return ""
    lines = [kept for line in text.replace("\r", "\n").splitlines() if (kept := without_progress_bars(line))]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line or "error:" in line:
            return reason_text(line)
    return reason_text(lines[-1]) if lines else ""


def _stop_leftover(output_dir: Path) -> None:
    """A trainer that a killed forge-tui left running (its pid file names a live group) is ended
    before a new one starts on the same output folder."""
    try:
        pid = int((output_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class TrainerRun:
    """One trainer process (a group of its own) writing to `log_path`."""

    process: asyncio.subprocess.Process
    log_path: Path
    started_at: float

    @classmethod
    async def start(cls, argv: list[str], cwd: Path, output_dir: Path, trainer: str) -> TrainerRun:
        command = [find_executable(argv[0], trainer), *argv[1:]]
        output_dir.mkdir(parents=True, exist_ok=True)
        _stop_leftover(output_dir)
        log_path = output_dir / LOG_FILE
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with log_path.open("ab") as log:
            log.write(("$ " + " ".join(command) + "\n").encode())
            log.flush()
            try:
                process = await asyncio.create_subprocess_exec(
                    *command,
                    cwd=cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                )
            except OSError as exc:
                raise Conflict(
                    _("The trainer could not be started: {reason}").format(reason=reason_text(str(exc)))
                ) from exc
        (output_dir / PID_FILE).write_text(str(process.pid))
        loop = asyncio.get_running_loop()
        return cls(process, log_path, loop.time())

    async def wait(self) -> int:
        code = await self.process.wait()
        with contextlib.suppress(OSError):
            (self.log_path.parent / PID_FILE).unlink()
        return code

    def _signal(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    async def stop(self, grace_s: float | None = None, term_s: float | None = None) -> int:
        """SIGINT to the group (the trainer saves and stops), SIGTERM after a grace period, then
        SIGKILL; returns the exit code."""
        grace = STOP_GRACE_S if grace_s is None else grace_s
        term = TERM_GRACE_S if term_s is None else term_s
        for sig, wait_s in ((signal.SIGINT, grace), (signal.SIGTERM, term)):
            if self.process.returncode is not None:
                break
            self._signal(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.process.wait()), wait_s)
        if self.process.returncode is None:
            self._signal(signal.SIGKILL)
        code = await self.process.wait()
        # Whatever the trainer started in its group (dataloader workers) goes with it.
        self._signal(signal.SIGKILL)
        with contextlib.suppress(OSError):
            (self.log_path.parent / PID_FILE).unlink()
        return code
