"""Writing a trainer bundle: a folder a trainer runs as it is (core.bundle_* render its files).

The dataset's examples (every one not rejected, as export writes by default) go through export into
a temporary folder beside the target; the folder is renamed into place only once every file is
written, so a failure or an interruption leaves nothing half-done, and an existing folder is
replaced only when asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from forge_tui.core import bundle_mlx
from forge_tui.core.bundle_manifest import MANIFEST_NAME, DataCounts, chat_format, choose_stage, manifest_text
from forge_tui.core.bundle_trainers import trainer as find_trainer
from forge_tui.core.bundle_types import BundleSettings, Trainer
from forge_tui.core.errors import Conflict, ForgeError, InvalidInput
from forge_tui.core.example_filter import ExampleFilter, ReviewFilter
from forge_tui.core.models import DatasetInfo, Example
from forge_tui.i18n import _, ngettext
from forge_tui.services.examples import ExampleService
from forge_tui.services.exporting import export
from forge_tui.services.preference_pairs import review_pairs

REVIEW = ReviewFilter.NOT_REJECTED
SHAPES = ("sharegpt", "alpaca")


class FolderNotEmpty(Conflict):
    """The target folder holds files: it is replaced only when the caller says so."""


@dataclass
class BundleSummary:
    path: Path
    trainer: str
    stage: str
    base_model: str
    chat_format: str
    records: int
    command: list[str]
    files: list[str] = field(default_factory=list)  # relative paths, data and settings
    left_out: int = 0  # examples the stage had nothing to write for
    broken: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = ngettext(
            "Wrote the {trainer} bundle ({stage}, {count} record) to {path}.",
            "Wrote the {trainer} bundle ({stage}, {count} records) to {path}.",
            self.records,
        ).format(stage=self.stage, trainer=self.trainer, count=self.records, path=self.path)
        if self.left_out:
            text += " " + ngettext(
                "{count} example without what {stage} needs was left out.",
                "{count} examples without what {stage} needs were left out.",
                self.left_out,
            ).format(count=self.left_out, stage=self.stage)
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "trainer": self.trainer,
            "stage": self.stage,
            "base_model": self.base_model,
            "chat_format": self.chat_format,
            "records": self.records,
            "command": self.command,
            "files": self.files,
            "left_out": self.left_out,
            "broken": self.broken,
        }


def data_counts(examples: ExampleService, dataset_id: int) -> DataCounts:
    """How many examples the bundle takes, and how many of them could feed dpo and kto."""
    kept = pairs = labelled = 0
    own_pairs: set[str] = set()
    ids: set[str] = set()
    for item in examples.scan(dataset_id, ExampleFilter(review=REVIEW)):
        if not isinstance(item, Example):
            continue
        kept += 1
        ids.add(item.id)
        if item.content.rejected:
            own_pairs.add(item.id)
        if item.meta.desirability is not None:
            labelled += 1
    pairs = len(own_pairs | set(review_pairs(examples, dataset_id, ids)))
    return DataCounts(examples=kept, pairs=pairs, labelled=labelled)


def check_target(out: Path, overwrite: bool) -> Path:
    target = out.expanduser().resolve()
    if target.exists() and not target.is_dir():
        raise InvalidInput(_("{path} is a file, not a folder: choose a folder for the bundle.").format(path=target))
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise FolderNotEmpty(_("The folder {path} is not empty: choose another or replace it.").format(path=target))
    if not target.parent.is_dir():
        raise InvalidInput(_("The folder {path} does not exist.").format(path=target.parent))
    return target


def write_bundle(
    examples: ExampleService,
    dataset: DatasetInfo,
    trainer_name: str,
    out: Path,
    *,
    stage: str | None = None,
    base_model: str | None = None,
    shape: str | None = None,
    overwrite: bool = False,
) -> BundleSummary:
    """Writes the bundle folder `out` for the trainer; the stage is `stage`, else the data's."""
    trainer = find_trainer(trainer_name)
    if shape is not None and shape not in SHAPES:
        raise InvalidInput(_("The data shape is sharegpt or alpaca, not '{shape}'.").format(shape=shape[:40]))
    if shape is not None and trainer.name != "llamafactory":
        raise InvalidInput(_("Only LLaMA-Factory bundles take a data shape."))
    target = check_target(out, overwrite)
    counts = data_counts(examples, dataset.id)
    chosen = choose_stage(counts, trainer, stage)
    if chosen == "kto" and shape == "alpaca":
        raise InvalidInput(_("LLaMA-Factory reads KTO data in the sharegpt shape only."))
    base = (base_model or "").strip() or trainer.default_base
    settings = BundleSettings(dataset.name, chosen, base, chat_format(base), shape=shape or "sharegpt")
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.forge-tmp-", dir=target.parent))
    try:
        summary = _write(examples, dataset, trainer, settings, scratch)
        _move_into_place(scratch, target)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    summary.path = target
    return summary


def _write(
    examples: ExampleService, dataset: DatasetInfo, trainer: Trainer, settings: BundleSettings, folder: Path
) -> BundleSummary:
    records = left_out = 0
    broken: list[str] = []
    written: list[str] = []
    for data_file in trainer.data(settings):
        path = folder / data_file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        result = export(examples, dataset.id, data_file.fmt, path, "jsonl", review=REVIEW)
        records += sum(result.records)
        left_out, broken = left_out + result.left_out, broken + result.broken
        written.append(data_file.path)
    if not records:
        raise InvalidInput(
            _("The dataset '{name}' has no examples to write for {stage} training.").format(
                name=dataset.name, stage=settings.stage
            )
        )
    if trainer.split:
        written = _split(folder, records)
    settings = replace(settings, records=records)
    for name, text in trainer.files(settings).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
        written.append(name)
    (folder / MANIFEST_NAME).write_text(manifest_text(trainer, settings), encoding="utf-8")
    return BundleSummary(
        path=folder,
        trainer=trainer.name,
        stage=settings.stage,
        base_model=settings.base_model,
        chat_format=settings.chat_format,
        records=records,
        command=trainer.command(settings.stage),
        files=[*written, MANIFEST_NAME],
        left_out=left_out,
        broken=broken,
    )


def _split(folder: Path, count: int) -> list[str]:
    """mlx-lm's train, valid and test files from the one file export wrote (core.bundle_mlx.split)."""
    source = folder / bundle_mlx.ALL_FILE
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    parts = bundle_mlx.split(count)
    written = []
    for name, numbers in zip(bundle_mlx.SPLIT_NAMES, (parts.train, parts.valid, parts.test), strict=True):
        if numbers:
            relative = f"{source.parent.name}/{name}.jsonl"
            (folder / relative).write_text("".join(lines[i] for i in numbers), encoding="utf-8")
            written.append(relative)
    source.unlink()
    return written


def _move_into_place(scratch: Path, target: Path) -> None:
    """Renames the finished folder over `target`; an existing one is moved aside first, then removed."""
    aside: Path | None = None
    try:
        if target.exists():
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.forge-old-", dir=target.parent))
            os.replace(target, aside / "old")
        os.replace(scratch, target)
    except OSError as exc:
        if aside is not None and (aside / "old").exists() and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(aside / "old", target)
        raise ForgeError(_("Cannot write {path}: {reason}").format(path=target, reason=exc.strerror or exc)) from None
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def read_manifest(folder: Path) -> dict[str, Any]:
    """A bundle's forge-bundle.json, for the commands that run or deploy it."""
    path = folder.expanduser() / MANIFEST_NAME
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InvalidInput(_("{path} is not a forge-tui bundle (no readable {name}).").format(
            path=folder, name=MANIFEST_NAME)) from None  # fmt: skip
    if not isinstance(loaded, dict):
        raise InvalidInput(_("{path} is not a forge-tui bundle (no readable {name}).").format(
            path=folder, name=MANIFEST_NAME))  # fmt: skip
    return loaded
