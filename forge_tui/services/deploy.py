"""Deploy a training run's adapter to Ollama: find the adapter in the run's output folder, write the
Modelfile beside it, upload each file as a blob by its sha256 (skipping what the server holds), then
`/api/create` the model with the base, the adapter, the chat format's template and stop tokens.

A run is a job of kind `train` (its params hold `output_dir`, `base_model` and `chat_format`) or an output
folder given directly. The base in FROM is an Ollama model name: `--base`, else the Ollama name of the
Hugging Face model trained on (core.base_models), else the user must name it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.base_models import chat_format_for, ollama_name_for
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat_templates import CHAT_FORMATS, chat_template
from forge_tui.core.endpoints import Endpoint, model_key
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.model_catalog import size_text
from forge_tui.core.modelfile import ModelfileSpec, create_request, render_modelfile
from forge_tui.i18n import _
from forge_tui.llm.factory import make_backend
from forge_tui.llm.ollama import OllamaBackend
from forge_tui.llm.ollama_create import CHUNK_BYTES, OllamaCreate
from forge_tui.services.endpoints import server_settings
from forge_tui.services.home import Home
from forge_tui.services.models import ModelService, checked_name
from forge_tui.store import jobs as job_rows
from forge_tui.store.db import read_session

__all__ = [
    "MODELFILE",
    "Adapter",
    "AdapterNotFound",
    "DeployPlan",
    "DeployProgress",
    "DeployService",
    "Run",
    "find_adapter",
    "find_run",
]

MODELFILE = "Modelfile"
TRAIN_KIND = "train"
PEFT_FILES = ("adapter_config.json", "adapter_model.safetensors")
_CHECKPOINT = re.compile(r"checkpoint-(\d+)")


class AdapterNotFound(NotFound):
    """The run's folder holds no adapter Ollama can take."""


@dataclass(frozen=True)
class Run:
    """Where a run's output is and what it was trained on (None: not known)."""

    output_dir: Path
    base_model: str | None = None  # the Hugging Face id trained on
    chat_format: str | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class Adapter:
    """The adapter's files (a PEFT folder's config and weights, or one GGUF) and the folder they are in."""

    kind: Literal["peft", "gguf"]
    folder: Path
    files: tuple[Path, ...]

    def reference(self, modelfile_dir: Path) -> str:
        """The ADAPTER line's path, relative to the Modelfile's folder where it can be."""
        target = self.files[0] if self.kind == "gguf" else self.folder
        try:
            relative = target.resolve().relative_to(modelfile_dir.resolve())
        except ValueError:
            return str(target.resolve())
        return "." if str(relative) == "." else f"./{relative.as_posix()}"


@dataclass(frozen=True)
class DeployPlan:
    name: str
    endpoint: str
    spec: ModelfileSpec
    adapter: Adapter
    modelfile: Path
    digests: dict[str, str]  # each adapter file's name -> "sha256:<hex>"

    def request(self) -> dict[str, Any]:
        return create_request(self.spec, self.name, self.digests)


@dataclass(frozen=True)
class DeployProgress:
    """One step, as the CLI prints it (and as --json writes it: the fields that are set).

    stage: "modelfile" (written to `path`), "blob" (`file` held already: `held`, else uploaded, `total`
    bytes), "create" (the server's `status`, with `digest`/`total`/`completed` while it copies), "done"."""

    stage: Literal["modelfile", "blob", "create", "done"]
    model: str
    endpoint: str
    path: str | None = None
    file: str | None = None
    digest: str | None = None
    held: bool | None = None
    status: str | None = None
    total: int | None = None
    completed: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def text(self) -> str | None:
        """The step as a line for a person (None: nothing to say)."""
        if self.stage == "modelfile":
            return _("Wrote {path}").format(path=self.path)
        if self.stage == "blob" and self.held:
            return _("{file}: the server has it already.").format(file=self.file)
        if self.stage == "blob":
            return _("{file}: uploaded ({size}).").format(file=self.file, size=size_text(self.total))
        if self.stage == "create" and self.status:
            return self.status
        return None


def find_run(home: Home, owner_id: int | None, run: str) -> Run:
    """The run named by a job id (a training job of the account) or by a folder (or a .gguf file)."""
    text = run.strip()
    if text.isdigit() and owner_id is not None and not Path(text).exists():
        return _run_of_job(home, owner_id, int(text))
    path = Path(text).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return Run(output_dir=path)
    if not path.is_dir():
        raise NotFound(_("There is no training job or output folder '{run}'.").format(run=clip(run)))
    return Run(output_dir=path.resolve())


def _run_of_job(home: Home, owner_id: int, job_id: int) -> Run:
    with read_session(home.engine) as s:
        row = job_rows.owned(s, owner_id, job_id)
        if row is None:
            raise NotFound(_("No job with id {job_id}.").format(job_id=job_id))
        kind, params = row.kind, dict(row.params)
    if kind != TRAIN_KIND:
        raise InvalidInput(
            _("Job {job_id} is a {kind} job, not a training run.").format(job_id=job_id, kind=clip(kind))
        )
    output = params.get("output_dir")
    if not isinstance(output, str) or not output:
        raise InvalidInput(_("Training job {job_id} does not say where its output is.").format(job_id=job_id))
    base, chat_format = params.get("base_model"), params.get("chat_format")
    return Run(
        output_dir=Path(output),
        base_model=base if isinstance(base, str) and base else None,
        chat_format=chat_format if isinstance(chat_format, str) and chat_format else None,
        job_id=job_id,
    )


def _peft_in(folder: Path) -> Adapter | None:
    files = tuple(folder / name for name in PEFT_FILES)
    return Adapter("peft", folder, files) if all(f.is_file() for f in files) else None


def find_adapter(run: Run) -> Adapter:
    """The adapter of the run: a .gguf given or lying in the output folder, else a PEFT adapter in the
    folder itself, else in its last checkpoint-N folder."""
    where = run.output_dir
    if where.is_file():
        return Adapter("gguf", where.parent, (where,))
    if not where.is_dir():
        raise AdapterNotFound(_("The run's output folder {folder} does not exist.").format(folder=where))
    ggufs = sorted(where.glob("*.gguf"))
    if len(ggufs) > 1:
        raise InvalidInput(
            _("{folder} holds several GGUF files: deploy the one you mean by its path.").format(folder=where)
        )
    if ggufs:
        return Adapter("gguf", where, (ggufs[0],))
    found = _peft_in(where)
    if found is not None:
        return found
    checkpoints = sorted(
        (int(m.group(1)), p) for p in where.iterdir() if p.is_dir() and (m := _CHECKPOINT.fullmatch(p.name))
    )
    for _step, folder in reversed(checkpoints):
        found = _peft_in(folder)
        if found is not None:
            return found
    raise AdapterNotFound(
        _(
            "There is no adapter in {folder}: deploy looks for adapter_model.safetensors with "
            "adapter_config.json, or a .gguf file."
        ).format(folder=where)
    )


def _trained_on(run: Run, adapter: Adapter) -> str | None:
    """The Hugging Face id trained on: the run's, else the one PEFT wrote into adapter_config.json."""
    if run.base_model:
        return run.base_model
    if adapter.kind != "peft":
        return None
    try:
        config = json.loads((adapter.folder / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    named = config.get("base_model_name_or_path") if isinstance(config, dict) else None
    return named if isinstance(named, str) and named else None


def _ollama_base(given: str | None, trained_on: str | None) -> str:
    if given:
        return checked_name(given)
    mapped = ollama_name_for(trained_on) if trained_on else None
    if mapped is not None:
        return mapped
    if trained_on:
        raise InvalidInput(
            _(
                "forge-tui does not know Ollama's name for '{model}': "
                "name the base with --base, like --base llama3.2:1b."
            ).format(model=clip(trained_on))
        )
    raise InvalidInput(
        _("The run does not say what it was trained on: name the base with --base, like --base llama3.2:1b.")
    )


def _chat_format(given: str | None, run: Run, trained_on: str | None) -> str:
    chosen = given or run.chat_format or (chat_format_for(trained_on) if trained_on else None)
    if chosen is None:
        raise InvalidInput(
            _("The run does not say which chat format it was trained on: give --chat-format ({known}).").format(
                known=", ".join(CHAT_FORMATS)
            )
        )
    chat_template(chosen)
    return chosen


def sha256_of(path: Path) -> str:
    """The file's digest as Ollama names blobs ("sha256:<hex>"), read a mebibyte at a time."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


class DeployService:
    """Deploys runs to the Ollama endpoints of the given backend settings."""

    def __init__(self, settings: BackendSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.models = ModelService(settings, transport)
        self._transport = transport

    def endpoint(self, name: str | None = None) -> Endpoint:
        return self.models.endpoint(name)

    def plan(
        self,
        run: Run,
        name: str,
        *,
        base: str | None = None,
        chat_format: str | None = None,
        parameters: tuple[tuple[str, str], ...] = (),
        system: str | None = None,
        endpoint: str | None = None,
    ) -> DeployPlan:
        """Finds the adapter, chooses the base and template, hashes the files and writes the Modelfile
        (blocking: run it in a thread)."""
        model = checked_name(name)
        chosen = self.endpoint(endpoint)
        adapter = find_adapter(run)
        trained_on = _trained_on(run, adapter)
        modelfile_dir = run.output_dir if run.output_dir.is_dir() else run.output_dir.parent
        spec = ModelfileSpec(
            base=_ollama_base(base, trained_on),
            adapter=adapter.reference(modelfile_dir),
            chat_format=_chat_format(chat_format, run, trained_on),
            parameters=parameters,
            system=system,
        )
        text = render_modelfile(spec)
        digests = {f.relative_to(adapter.folder).as_posix(): sha256_of(f) for f in adapter.files}
        modelfile = modelfile_dir / MODELFILE
        try:
            modelfile.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InvalidInput(
                _("Cannot write the Modelfile to {path}: {problem}").format(path=modelfile, problem=exc.strerror)
            ) from None
        return DeployPlan(model, chosen.name, spec, adapter, modelfile, digests)

    @asynccontextmanager
    async def _creator(self, endpoint: str) -> AsyncIterator[OllamaCreate]:
        chosen = self.endpoint(endpoint)
        asking = server_settings(self.models.settings, chosen).model_copy(update={"max_retries": 0})
        backend = make_backend(asking, self._transport)
        try:
            if not isinstance(backend, OllamaBackend):
                raise InvalidInput(
                    _("Endpoint '{name}' is not an Ollama server: only Ollama makes a model from an adapter.").format(
                        name=chosen.name
                    )
                )
            yield OllamaCreate(backend)
        finally:
            await backend.aclose()

    async def exists(self, name: str, endpoint: str | None = None) -> bool:
        """Whether the endpoint has a model of that name already (a deploy would replace it)."""
        async with self._creator(self.endpoint(endpoint).name) as creator:
            models = await creator.backend.list_models()
        return any(model_key(m.name) == model_key(name) for m in models)

    async def deploy(
        self, plan: DeployPlan, sent: Callable[[str, int], None] | None = None
    ) -> AsyncGenerator[DeployProgress, None]:
        """Uploads the blobs the server lacks and creates the model, step by step; `sent` hears each
        upload's bytes so far (file name, bytes)."""

        def step(stage: Literal["modelfile", "blob", "create", "done"], **fields: Any) -> DeployProgress:
            return DeployProgress(stage, plan.name, plan.endpoint, **fields)

        yield step("modelfile", path=str(plan.modelfile))
        async with self._creator(plan.endpoint) as creator:
            for path in plan.adapter.files:
                file = path.relative_to(plan.adapter.folder).as_posix()
                digest = plan.digests[file]
                held = await creator.has_blob(digest)
                if not held:
                    heard = None if sent is None else (lambda n, f=file: sent(f, n))
                    await creator.push_blob(digest, path, heard)
                yield step("blob", file=file, digest=digest, held=held, total=path.stat().st_size)
            async for line in creator.create(plan.request()):
                yield step("create", status=line.status, digest=line.digest, total=line.total, completed=line.completed)
        yield step("done")
