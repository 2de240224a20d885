"""Which model server to use and how patiently: saved per user, read by every layer."""

from __future__ import annotations

from pydantic import BaseModel, Field

from forge_tui.core.chat import StructuredMode
from forge_tui.core.endpoints import BackendKind, Endpoint
from forge_tui.i18n import N_

__all__ = ["BACKEND_LABELS", "BackendKind", "BackendSettings", "Endpoint"]
# Message ids: shown through _().
BACKEND_LABELS: dict[str, str] = {"ollama": "Ollama", "openai": N_("OpenAI-compatible"), "anthropic": "Anthropic"}


class BackendSettings(BaseModel):
    kind: BackendKind = "ollama"
    # None: Ollama reads OLLAMA_HOST as the ollama CLI does; OpenAI-compatible uses OPENAI_BASE_URL,
    # Anthropic ANTHROPIC_BASE_URL, else https://api.anthropic.com.
    base_url: str | None = None
    # Name of the environment variable that holds the API key (hosted endpoints); never the key itself.
    # Read when a request is sent. Anthropic without one reads ANTHROPIC_API_KEY.
    api_key_env: str | None = None
    generation_model: str | None = None
    judge_model: str | None = None  # the judge of a judge job (`forge-tui judge`), chosen apart from the generator
    paraphrase_model: str | None = None
    # Loading a model can take minutes; once it streams, a long pause means trouble.
    first_byte_timeout: float = Field(default=300.0, gt=0)
    between_tokens_timeout: float = Field(default=60.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    # Caps on one answer, so a model that never stops cannot keep a card (or a job) busy for good:
    # the tokens asked for (sent with every request) and the time an answer may stream.
    max_tokens: int = Field(default=1024, ge=1, le=1_000_000)
    answer_time_limit: float = Field(default=600.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=1024)
    max_retries: int = Field(default=3, ge=0, le=10)
    # Learned, not set: the structured-output mode that worked per endpoint ("kind base_url"), so a new
    # process asks a server that refuses json_schema in the mode it takes (services.backends).
    structured_output: dict[str, StructuredMode] = Field(default_factory=dict)
    # The model servers a job or an audition may use (core.endpoints); empty: only kind/base_url.
    endpoints: list[Endpoint] = Field(default_factory=list)
    # The endpoint Audition runs on, and new jobs start with: one's name, or None for the pool.
    endpoint: str | None = None
