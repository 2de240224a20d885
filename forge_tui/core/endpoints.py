"""The model servers a user has configured, and which of them serve a model.

An endpoint is one server (Ollama, OpenAI-compatible or Anthropic). A job or an audition runs on one named
endpoint, or on a pool: every endpoint that serves the model. With no endpoints configured, the
single server of the backend settings (kind and base URL) is the only one, named "default".
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from forge_tui.core.errors import NotFound
from forge_tui.i18n import _

BackendKind = Literal["ollama", "openai", "anthropic"]
DEFAULT_ENDPOINT = "default"
POOL = "pool"  # the choice "every endpoint that serves the model"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class Endpoint(BaseModel):
    name: str
    kind: BackendKind = "ollama"
    # None: the kind's default (OLLAMA_HOST for Ollama, OPENAI_BASE_URL for OpenAI-compatible,
    # ANTHROPIC_BASE_URL or Anthropic's own API for Anthropic).
    url: str | None = None
    # Name of the environment variable that holds the API key; never the key itself.
    api_key_env: str | None = None
    max_concurrency: int = Field(default=32, ge=1, le=1024)
    # As the server listed them when last asked (on add, and on refresh).
    models: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value) or value == POOL:
            raise ValueError(
                _(
                    "an endpoint name is 1-40 letters, digits, '.', '_' or '-', starts with a letter or digit, "
                    "and is not '{pool}'"
                ).format(pool=POOL)
            )
        return value


def model_key(name: str) -> str:
    """Ollama's names without a tag mean ':latest'; compare names in that form."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def anthropic_names(model_id: str) -> set[str]:
    """The names Anthropic takes for a listed id: the id, and for a dated one ("claude-sonnet-4-20250514")
    its aliases ("claude-sonnet-4", "claude-sonnet-4-0", "claude-sonnet-4-latest")."""
    base, _dash, date = model_id.rpartition("-")
    if not (base and len(date) == 8 and date.isdigit()):
        return {model_id}
    return {model_id, base, f"{base}-0", f"{base}-latest"}


def serves(endpoint: Endpoint, model: str) -> bool:
    if endpoint.kind == "anthropic":
        return any(model in anthropic_names(known) for known in endpoint.models)
    wanted = model_key(model)
    return any(model_key(known) == wanted for known in endpoint.models)


def chosen(endpoints: list[Endpoint], model: str, name: str | None) -> list[Endpoint]:
    """The endpoints a request for `model` may go to: the one named, or (None or POOL) every one
    that serves the model. An endpoint whose model list was never read is taken as serving it."""
    if name not in (None, POOL):
        for endpoint in endpoints:
            if endpoint.name == name:
                return [endpoint]
        if not endpoints:
            raise NotFound(_("No endpoint named '{name}' (known: none configured).").format(name=name))
        known = ", ".join(e.name for e in endpoints)
        raise NotFound(_("No endpoint named '{name}' (known: {known}).").format(name=name, known=known))
    found = [e for e in endpoints if not model or not e.models or serves(e, model)]
    if not found:
        raise NotFound(
            _("No configured endpoint serves '{model}'; refresh the endpoints' models in Settings.").format(model=model)
        )
    return found
