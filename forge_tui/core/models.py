"""Domain records shared by every layer (no I/O)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from forge_tui.core.control_chars import refuse_control_chars
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import N_, _

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
MIN_PASSWORD_LENGTH = 8


def check_username(name: str) -> str:
    name = name.strip().lower()
    if not USERNAME_PATTERN.match(name):
        raise InvalidInput(
            _(
                "A username is 1–63 characters: lower-case letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            )
        )
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(_("A password needs at least {count} characters.").format(count=MIN_PASSWORD_LENGTH))
    return password


def check_dataset_name(name: str) -> str:
    refuse_control_chars(name, N_("A dataset name"))
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("A dataset needs a name."))
    if len(name) > 120:
        raise InvalidInput(_("A dataset name is at most 120 characters."))
    return name


class UserInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    username: str
    display_name: str
    created_at: datetime


class DatasetInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    description: str
    archived: bool
    created_at: datetime
    example_count: int = 0
    # False when the dataset was sealed with a data key the user no longer has
    # (after a password reset without the recovery key).
    readable: bool = True


class ExampleContent(BaseModel):
    """What one training example holds; every field here is sealed at rest."""

    system_prompt: str = ""
    user_prompt: str = ""
    slots: dict[str, str] = Field(default_factory=dict)
    output: str = ""
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    rejected: list[str] = Field(default_factory=list)
    # A conversation of several turns (imported): every message between the system prompt and the
    # answer, the last user message included; then user_prompt repeats that last user message.
    # Empty for a single exchange. See core.conversation.
    turns: list[dict[str, Any]] = Field(default_factory=list)
    # The model's thinking before the answer (a <think> block, `reasoning_content`, LLaMA-Factory's
    # reasoning parts); a turn in `turns` keeps its own under the key "reasoning".
    reasoning: str = ""
    # Every field of an imported record that no mapping took, by its name, value as read: kept so
    # that nothing the user gave is dropped (raw export writes it back).
    extra: dict[str, Any] = Field(default_factory=dict)

    @field_validator("slots", mode="before")
    @classmethod
    def _slot_values_are_text(cls, value: Any) -> Any:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else value


class ExampleSource(StrEnum):
    """Where an example came from."""

    AUDITION = "audition"
    IMPORT = "import"
    JOB = "job"
    PLAYGROUND = "playground"
    COMPARE = "compare"  # a side-by-side audition: the better of two models' answers


class ReviewState(StrEnum):
    """A person's verdict: Audition adds accepted examples, jobs add unreviewed ones."""

    ACCEPTED = "accepted"
    UNREVIEWED = "unreviewed"
    REJECTED = "rejected"


class ExampleMeta(BaseModel):
    """Stored beside the sealed content: plain columns but `params`, which is sealed too."""

    model: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    template_id: int | None = None
    # KTO: True for a desirable completion, False for an undesirable one, None when not labelled.
    desirability: bool | None = None
    source: ExampleSource = ExampleSource.AUDITION
    job_id: int | None = None  # with source JOB: the job that made it
    review: ReviewState = ReviewState.ACCEPTED
    # Why the answer looks like another language or script than the job asked for; None when fine.
    language_flag: str | None = None
    # An LLM judge's score, 1-10 (core.judging); None until judged.
    score: float | None = None


class Example(BaseModel):
    id: str
    dataset_id: int
    content: ExampleContent
    meta: ExampleMeta
    created_at: datetime
    updated_at: datetime
