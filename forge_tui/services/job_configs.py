"""Saved job configurations of one account: save, list, get, delete, TOML files, and the forms they
fill (a generation job's JobForm, a judge job's JudgeForm, an augment job's AugmentForm) and are read
back from."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from forge_tui.core.augment_form import AugmentForm
from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.job_configs import (
    AnyConfig,
    AugmentConfig,
    GenerateConfig,
    JudgeConfig,
    check_config_name,
    dumps,
    loads,
)
from forge_tui.core.judge_form import JudgeForm
from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import _
from forge_tui.services import files, readable_files
from forge_tui.services.accounts import Unlocked
from forge_tui.services.generation_jobs import GENERATE, JobForm, with_values_source
from forge_tui.services.home import Home
from forge_tui.services.jobs import JobService, JobSummary
from forge_tui.store import job_configs as config_rows
from forge_tui.store.db import read_session, write_session
from forge_tui.store.tables import Dataset, Job

# JobForm fields a GenerateConfig holds under the same name (template_id, dataset_id and kind differ)
_FORM_FIELDS = tuple(f.name for f in fields(JobForm) if f.name not in ("template_id", "dataset_id", "kind"))
_JUDGE_FIELDS = tuple(f.name for f in fields(JudgeForm))
_AUGMENT_FIELDS = tuple(f.name for f in fields(AugmentForm))


class JobConfigService:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    def list(self) -> list[AnyConfig]:
        """By name."""
        with read_session(self.home.engine) as s:
            return config_rows.list_for_owner(s, self.unlocked.keys_in(s), self.unlocked.user.id)

    def get(self, name: str) -> AnyConfig:
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = config_rows.get_by_name(s, keys, self.unlocked.user.id, check_config_name(name))
            if row is None:
                raise NotFound(_("No saved configuration named '{name}'.").format(name=name[:80]))
            return config_rows.open_row(keys, row)

    def save(self, config: AnyConfig) -> AnyConfig:
        """Creates the configuration, or replaces the one of that name."""
        with write_session(self.home.engine) as s:
            config_rows.save(s, self.unlocked.keys_in(s), self.unlocked.user.id, config)
        return config

    def delete(self, name: str) -> None:
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = config_rows.get_by_name(s, keys, self.unlocked.user.id, check_config_name(name))
            if row is None:
                raise NotFound(_("No saved configuration named '{name}'.").format(name=name[:80]))
            s.delete(row)

    def export_file(self, name: str, path: Path) -> Path:
        """Writes the configuration as TOML (no secret is ever in one)."""
        return files.write_text(path, dumps(self.get(name)))

    def read_file(self, path: Path, name: str | None = None) -> AnyConfig:
        """A configuration from a TOML file, renamed to `name` when given; InvalidInput names the line
        of what is wrong."""
        try:
            config = loads(readable_files.read_text(path))
        except InvalidInput as exc:
            raise InvalidInput(f"{path.name}: {exc}") from None
        return config.model_copy(update={"name": check_config_name(name)}) if name else config

    def import_file(self, path: Path, name: str | None = None) -> AnyConfig:
        return self.save(self.read_file(path, name))


def config_of_form(name: str, form: JobForm, templates: list[TemplateInfo]) -> GenerateConfig:
    """A generation job's form saved under `name`, its template by name."""
    template = next((t.name for t in templates if t.id is not None and t.id == form.template_id), "")
    values = {field: getattr(form, field) for field in _FORM_FIELDS}
    return GenerateConfig(name=check_config_name(name), template=template, example_kind=form.kind, **values)


def form_of_config(config: GenerateConfig, templates: list[TemplateInfo], dataset_id: int) -> JobForm:
    """The form `config` fills for a job on `dataset_id`; a template that is gone leaves it unchosen."""
    template_id = next((t.id for t in templates if t.name == config.template), None)
    values = {field: getattr(config, field) for field in _FORM_FIELDS}
    return JobForm(template_id=template_id, dataset_id=dataset_id, kind=config.example_kind, **values)


def with_config(form: JobForm, config: GenerateConfig, keep: set[str]) -> JobForm:
    """`form` with the configuration's values except in the fields named in `keep` (`example_kind`
    for the kind); an empty model or max tokens in the configuration leaves the form's (the Settings
    default)."""
    values: dict[str, object] = {}
    for field in _FORM_FIELDS:
        value = getattr(config, field)
        if field not in keep and field != "endpoint" and not (value == "" and field in ("model", "max_tokens")):
            values[field] = value
    if "example_kind" not in keep:
        values["kind"] = config.example_kind
    return replace(form, **values)  # type: ignore[arg-type]


def judge_config_of_form(name: str, form: JudgeForm) -> JudgeConfig:
    return JudgeConfig(name=check_config_name(name), **{field: getattr(form, field) for field in _JUDGE_FIELDS})


def judge_form_of_config(config: JudgeConfig) -> JudgeForm:
    return JudgeForm(**{field: getattr(config, field) for field in _JUDGE_FIELDS})


def augment_config_of_form(name: str, form: AugmentForm, api_key_env: str = "") -> AugmentConfig:
    values = {field: getattr(form, field) for field in _AUGMENT_FIELDS}
    return AugmentConfig(name=check_config_name(name), api_key_env=api_key_env, **values)


def augment_form_of_config(config: AugmentConfig) -> AugmentForm:
    return AugmentForm(**{field: getattr(config, field) for field in _AUGMENT_FIELDS})


def config_of_job(jobs: JobService, job_id: int, name: str) -> AnyConfig:
    """A generation, judge or augment job's settings as a configuration named `name` (a generation
    job's slots' values as planned: a file or a topic tree becomes the list of values it held then)."""
    from forge_tui.services.augment_jobs import AUGMENT
    from forge_tui.services.judge_jobs import JUDGE

    job = jobs.get(job_id)
    spec = jobs.spec(job_id)
    endpoint = job.endpoint or ""
    if job.kind == AUGMENT:
        return _augment_config_of_job(jobs, job, spec, name)
    if job.kind == JUDGE:
        with read_session(jobs.home.engine) as s:
            row = s.get(Job, job_id)
            params = row.params if row is not None else {}
        model = str(spec.get("model", ""))
        fix_model = str(spec.get("fix_model", ""))
        return JudgeConfig(
            name=check_config_name(name),
            endpoint=endpoint,
            rubric=str(spec["rubric"]["name"]),
            only=str(params.get("only", "unreviewed")),
            threshold=_text(spec.get("threshold")),
            action=str(spec.get("action", "none")),
            model=model,
            fix_model="" if fix_model == model else fix_model,
        )
    if job.kind != GENERATE:
        raise InvalidInput(
            _("Job {job_id} is a {kind} job; configurations are saved from generation, judge and augment jobs.").format(
                job_id=job_id, kind=job.kind
            )
        )
    judge = spec.get("judge") or {}
    target = spec.get("target_accepted")
    return GenerateConfig(
        name=check_config_name(name),
        endpoint=endpoint,
        template=str(spec["template"]["name"]),
        example_kind=str(spec.get("kind", "single")),
        count=_text(target if target is not None else spec.get("count")),
        language=_text(spec.get("language")),
        model=_text(spec.get("model")),
        paraphrase_model=_text(spec.get("paraphrase_model")),
        second_model=_text(spec.get("second_model")),
        temperature=_text(spec.get("temperature")),
        second_temperature=_text(spec.get("second_temperature")),
        max_tokens=_text(spec.get("max_tokens")),
        seed=_text(spec.get("seed")),
        turns=_text(spec.get("turns")),
        sources=_sources_text(spec.get("sources") or {}),
        until_pass=_text(target),
        judge_rubric=str(judge.get("rubric", "overall")),
        judge_model=_text(judge.get("model")),
        threshold=_text(judge.get("threshold", 7.0)),
        dedup=_text(spec.get("dedup_threshold")),
        quotas=bool(spec.get("quotas", False)),
        max_attempts=_text(spec.get("max_attempts") or None),
    )


def _augment_config_of_job(jobs: JobService, job: JobSummary, spec: dict[str, Any], name: str) -> AugmentConfig:
    with read_session(jobs.home.engine) as s:
        row = s.get(Job, job.id)
        params = row.params if row is not None else {}
        dataset = s.get(Dataset, job.dataset_id) if job.dataset_id is not None else None
        into = dataset.name if dataset is not None and not params.get("in_place") else ""
    return AugmentConfig(
        name=check_config_name(name),
        endpoint=job.endpoint or "",
        field=_text(params.get("field") or spec.get("field")),
        instruction=_text(spec.get("instruction")),
        context=", ".join(str(c) for c in spec.get("context") or []),
        model=_text(spec.get("model")),
        temperature=_text(spec.get("temperature")),
        language=_text(spec.get("language")),
        concurrency=_text(job.concurrency),
        where=_text(spec.get("where")),
        into=into,
        in_place=bool(params.get("in_place")),
        keep_as_rejected=bool(spec.get("keep_as_rejected")),
    )


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _sources_text(sources: dict[str, Any]) -> str:
    """A plan's slot sources as the form types them."""
    text = ""
    combined: set[str] = set()
    for slot, source in sources.items():
        kind = source.get("type", "default")
        if kind == "values":
            text = with_values_source(text, slot, [str(v) for v in source.get("values", [])])
        elif kind == "passages":  # the set by name: its documents as they are when the job is made
            passages = source.get("passages") or [{}]
            text = "; ".join(p for p in (text, f"{slot}=docs:{passages[0].get('set_name', '')}") if p)
        elif kind == "combinations":
            slots = "+".join(source.get("slots") or [slot])
            if slots not in combined:
                combined.add(slots)
                text = "; ".join(p for p in (text, f"{slots}=combinations") if p)
        else:
            text = "; ".join(p for p in (text, f"{slot}={kind}") if p)
    return text
