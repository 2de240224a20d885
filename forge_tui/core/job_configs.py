"""Saved configurations: a generation, augmentation or judge job's settings under a name, and their
TOML files.

Every field is kept as the form holds it (text as typed), so loading a configuration fills the form
exactly as it was saved. A configuration never holds a secret: an API key is refused, the name of
the environment variable that holds it (`api_key_env`) is kept.

    name = "casual zh-TW"
    kind = "generate"
    template = "Q&A pair on a topic"
    model = "qwen3:8b"
    api_key_env = "OPENAI_API_KEY"
"""

from __future__ import annotations

import re
import tomllib
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from forge_tui.core.errors import InvalidInput
from forge_tui.core.generation import DEFAULT_MAX_TOKENS, DEFAULT_RUBRIC, DEFAULT_THRESHOLD, DEFAULT_TURNS
from forge_tui.i18n import _

KINDS = ("generate", "augment", "judge")
NAME_MAX = 80
# Keys that would hold a secret: refused wherever they appear in a file.
_SECRET_KEYS = re.compile(r"(api_?key|secret|password|token)$", re.IGNORECASE)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_config_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput(_("A configuration needs a name."))
    if len(cleaned) > NAME_MAX or any(ord(c) < 32 for c in cleaned):
        raise InvalidInput(
            _("A configuration's name is one line of at most {count} characters.").format(count=NAME_MAX)
        )
    return cleaned


class _Config(BaseModel):
    # `count = 500` in a file means "500" as the form would hold it
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: str
    endpoint: str = ""  # an endpoint's name from Settings; "": the pool
    api_key_env: str = ""  # the variable that holds the key, never the key

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return check_config_name(value)
        except InvalidInput as exc:
            raise ValueError(str(exc).rstrip(".")) from None

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not _ENV_NAME.fullmatch(value):
            raise ValueError(_("api_key_env is the name of an environment variable (letters, digits, _), not a key"))
        return value


class GenerateConfig(_Config):
    """The new-job form (services.generation_jobs.JobForm) with the template by name."""

    kind: Literal["generate"] = "generate"
    template: str = ""
    example_kind: str = "single"
    count: str = "100"
    language: str = ""
    model: str = ""
    paraphrase_model: str = ""
    second_model: str = ""
    temperature: str = "0.8"
    second_temperature: str = ""
    max_tokens: str = str(DEFAULT_MAX_TOKENS)
    seed: str = ""
    turns: str = str(DEFAULT_TURNS)
    sources: str = ""
    until_pass: str = ""
    judge_rubric: str = DEFAULT_RUBRIC
    judge_model: str = ""
    threshold: str = str(DEFAULT_THRESHOLD)
    dedup: str = ""
    quotas: bool = False
    max_attempts: str = ""


class JudgeConfig(_Config):
    """The judge-job form (core.judge_form.JudgeForm)."""

    kind: Literal["judge"] = "judge"
    rubric: str = "overall"
    only: str = "unreviewed"
    threshold: str = "7"
    action: str = "none"
    model: str = ""
    fix_model: str = ""


class AugmentConfig(_Config):
    """The augment dialog (core.augment_form.AugmentForm): the field it writes, the instruction
    (Jinja2), what the model sees, which examples, where the result goes."""

    kind: Literal["augment"] = "augment"
    field: str = "answer"
    instruction: str = ""
    context: str = ""
    model: str = ""
    temperature: str = ""
    language: str = ""
    concurrency: str = ""
    where: str = ""
    into: str = ""
    in_place: bool = False
    keep_as_rejected: bool = False


JobConfig = Annotated[GenerateConfig | JudgeConfig | AugmentConfig, Field(discriminator="kind")]
_ADAPTER: TypeAdapter[GenerateConfig | JudgeConfig | AugmentConfig] = TypeAdapter(JobConfig)
AnyConfig = GenerateConfig | JudgeConfig | AugmentConfig


def to_document(config: AnyConfig) -> dict[str, Any]:
    """name and kind first, then the fields in their order."""
    document = config.model_dump()
    return {"name": document.pop("name"), "kind": document.pop("kind"), **document}


def from_document(raw: dict[str, Any], text: str = "") -> AnyConfig:
    """A configuration from a file's table; InvalidInput names the key (and its line in `text`)."""
    for key in raw:
        if _SECRET_KEYS.search(str(key)) and key != "api_key_env":
            raise InvalidInput(
                _where(text, key)
                + _(
                    "'{key}' looks like a secret; a configuration keeps only "
                    "api_key_env, the name of the variable that holds the key."
                ).format(key=key)
            )
    kind = raw.get("kind")
    if kind not in KINDS:
        raise InvalidInput(
            _where(text, "kind")
            + _("kind must be one of {kinds}, not {kind}.").format(kinds=", ".join(KINDS), kind=f"{kind!r:.40}")
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = str(error["loc"][1]) if len(error["loc"]) > 1 else str(error["loc"][0])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = _("not a setting of a {kind} configuration").format(kind=kind)
        raise InvalidInput(f"{_where(text, key)}{key}: {message}."[:300]) from None


def dumps(config: AnyConfig) -> str:
    """Multi-line text as TOML's multi-line strings, readable in an editor, unless a value holds a
    carriage return: TOML reads a CR-LF inside one back as LF, so then every string is escaped."""
    document = to_document(config)
    with_cr = any(isinstance(value, str) and "\r" in value for value in document.values())
    return tomli_w.dumps(document, multiline_strings=not with_cr)


def loads(text: str) -> AnyConfig:
    """A configuration from TOML text; InvalidInput says what is wrong and on which line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(_("Not a valid TOML configuration: {problem}.").format(problem=exc)) from None
    return from_document(raw, text)


def _where(text: str, key: str) -> str:
    """'line N: ' where `key` is set in `text`, else ''."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return _("line {number}: ").format(number=number)
    return ""
