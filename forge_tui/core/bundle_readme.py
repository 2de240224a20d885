"""The README.md of a trainer bundle: the exact command, the files, and the settings still to choose.

A bundle's files are written for trainers and the people who run them, in English whatever the
interface language, like every other file forge-tui writes for a machine.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from forge_tui.core.bundle_types import OUTPUT_DIR, BundleSettings, Trainer


@dataclass(frozen=True)
class Setting:
    name: str  # what to choose, e.g. "LoRA rank"
    default: str
    where: str  # the key or flag that sets it


def readme(
    trainer: Trainer,
    settings: BundleSettings,
    files: list[tuple[str, str]],  # (relative path, what it holds)
    choices: list[Setting],
    notes: list[str] = [],  # noqa: B006 (never changed)
) -> str:
    command = shlex.join(trainer.command(settings.stage))
    override = shlex.join(part.replace("{base_model}", "MODEL") for part in trainer.base_override)
    lines = [
        f"# {settings.dataset}: {settings.stage.upper()} with {trainer.title}",
        "",
        f'Written by forge-tui: {settings.records} training records from the dataset "{settings.dataset}" '
        f"(every example not rejected), for {settings.stage} training with {trainer.title} and a LoRA adapter.",
        "",
        "## Run",
        "",
        "From this folder:",
        "",
        "```sh",
        command,
        "```",
        "",
        f"Another base model: add `{override}` to that command. The adapter is written to `{OUTPUT_DIR}/`.",
        "",
        "Or let forge-tui start it and draw the loss: `forge-tui train .` (`--base MODEL` for another base "
        "model; arguments after `--` go to the trainer).",
        "",
        f"The trainer is not part of forge-tui; install it with `{trainer.install}`.",
        "",
        "## Choose before you train",
        "",
        "| setting | default | where |",
        "|---|---|---|",
        f"| Base model | `{settings.base_model}` (chat template family: {settings.chat_format}) | "
        f"{choices[0].where if choices else '-'} |",
        *[f"| {c.name} | {c.default} | {c.where} |" for c in choices[1:]],
        "",
        "## Files",
        "",
        *[f"- `{path}`: {about}" for path, about in files],
        "- `forge-bundle.json`: what `forge-tui train` and `forge-tui deploy` read (trainer, stage, command).",
    ]
    if notes:
        lines += ["", "## Notes", "", *[f"- {note}" for note in notes]]
    return "\n".join(lines) + "\n"
