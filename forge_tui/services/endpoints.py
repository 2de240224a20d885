"""The model servers of an account (Settings' endpoints): add, change, remove and list them, read each
one's models from its server, and the endpoint choice (a name, or the pool) that Audition and new jobs use.

Endpoints are saved with the backend settings (core.endpoints). Every change reads the list afresh from
the database and writes it back at once, so a change made meanwhile elsewhere (the CLI beside the TUI)
is kept."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.bounded_text import clip
from forge_tui.core.chat import Health
from forge_tui.core.endpoints import DEFAULT_ENDPOINT, POOL, Endpoint
from forge_tui.core.errors import ForgeError, InvalidInput, NotFound
from forge_tui.core.jobs import ENDPOINT_PARAM
from forge_tui.i18n import _
from forge_tui.services.backends import BackendService
from forge_tui.services.jobs import JobPlan
from forge_tui.services.settings import SettingsService

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# (field, value) changes `update` takes; the name and the models are not set by hand.
CHANGEABLE = ("kind", "url", "api_key_env", "max_concurrency")


@dataclass(frozen=True)
class Listed:
    """An endpoint as saved after its server was asked for its models; `problem` says why they could
    not be read (the server did not answer), and the models kept are those read before."""

    endpoint: Endpoint
    problem: str | None = None


def server_settings(settings: BackendSettings, endpoint: Endpoint) -> BackendSettings:
    """The backend settings that talk to `endpoint` alone (its kind, URL and key variable)."""
    return settings.model_copy(
        update={"kind": endpoint.kind, "base_url": endpoint.url, "api_key_env": endpoint.api_key_env, "endpoints": []}
    )


def configured(settings: BackendSettings) -> list[Endpoint]:
    """The endpoints a run may use: those listed, or with none the server of kind/base URL, named "default"."""
    if settings.endpoints:
        return list(settings.endpoints)
    implicit = Endpoint(name=DEFAULT_ENDPOINT, kind=settings.kind, url=settings.base_url)
    return [implicit.model_copy(update={"api_key_env": settings.api_key_env})]


async def servers_health(settings: BackendSettings) -> list[tuple[str, Health]]:
    """Whether each configured server answers (the Settings server alone, named "default", when no
    endpoint is listed), asked at once."""
    endpoints = configured(settings)

    async def ask(endpoint: Endpoint) -> Health:
        async with BackendService(server_settings(settings, endpoint)) as service:
            return await service.health()

    found = await asyncio.gather(*(ask(e) for e in endpoints))
    return [(e.name, health) for e, health in zip(endpoints, found, strict=True)]


def checked_choice(settings: BackendSettings, name: str | None) -> str | None:
    """`name` as an endpoint choice: None for the pool ("pool" or empty), else a configured endpoint's
    name; InvalidInput names the choices when it is neither."""
    text = (name or "").strip()
    if text in ("", POOL):
        return None
    names = [e.name for e in configured(settings)]
    if text not in names:
        raise InvalidInput(
            _("There is no endpoint '{text}'; choose {pool} or one of: {names}.").format(
                text=clip(text), pool=POOL, names=", ".join(names)
            )
        )
    return text


def choice_text(choice: str | None) -> str:
    return choice or POOL


def with_endpoint(plan: JobPlan, choice: str | None) -> JobPlan:
    """The plan with its endpoint choice in the job's plain params, where `jobs resume` finds it again."""
    return replace(plan, params={**plan.params, ENDPOINT_PARAM: choice})


def checked_url(text: str) -> str:
    """An endpoint's URL: http:// or https:// with a host, without a trailing slash."""
    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        ok = parts.scheme in {"http", "https"} and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number, or out of range
        ok = False
    if not ok:
        raise InvalidInput(
            _("An endpoint's URL starts with http:// or https:// and names a host, not '{text}'.").format(
                text=clip(text)
            )
        )
    return url


def checked_env_name(text: str | None) -> str | None:
    """The name of the variable that holds an endpoint's API key (never the key); empty: none."""
    name = (text or "").strip()
    if name and not _ENV_NAME.fullmatch(name):
        raise InvalidInput(
            _("The API-key variable is the name of an environment variable, not '{name}'.").format(name=clip(name))
        )
    return name or None


def new_endpoint(
    name: str, kind: str, url: str, api_key_env: str | None = None, max_concurrency: int | None = None
) -> Endpoint:
    """An endpoint from typed values, each checked; InvalidInput says what is wrong in one sentence."""
    fields: dict[str, Any] = {"name": name.strip(), "kind": kind.strip(), "url": checked_url(url)}
    fields["api_key_env"] = checked_env_name(api_key_env)
    if max_concurrency is not None:
        fields["max_concurrency"] = max_concurrency
    return _validated(fields)


def _validated(fields: dict[str, Any]) -> Endpoint:
    try:
        return Endpoint.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "endpoint"
        if where == "name":
            reason = str(first["msg"]).removeprefix("Value error, ")
            raise InvalidInput(
                _("'{name}' cannot be used: {reason}.").format(name=clip(str(fields.get("name"))), reason=reason)
            ) from None
        if where == "max_concurrency":
            raise InvalidInput(_("Max concurrency is a whole number between 1 and 1024.")) from None
        if where == "kind":
            raise InvalidInput(
                _("The kind is ollama, openai or anthropic, not '{kind}'.").format(kind=clip(str(fields.get("kind"))))
            ) from None
        raise InvalidInput(
            _("The endpoint's {field} is not valid: {problem}.").format(
                field=where.replace("_", " "), problem=clip(first["msg"])
            )
        ) from None


class EndpointService:
    """The endpoints of one account, kept in its backend settings."""

    def __init__(self, settings: SettingsService) -> None:
        self.settings = settings

    def saved(self) -> list[Endpoint]:
        return list(self.settings.backend().endpoints)

    def get(self, name: str) -> Endpoint:
        for endpoint in self.saved():
            if endpoint.name == name:
                return endpoint
        raise NotFound(
            _("There is no endpoint '{name}'; `forge-tui settings endpoints list` shows them.").format(name=clip(name))
        )

    async def add(self, endpoint: Endpoint) -> Listed:
        """Saves a new endpoint with the models its server lists; a server that does not answer is still
        added (its problem is returned), with no models until a refresh."""
        self._check_new(endpoint, self.saved())
        models, problem = await self.read_models(endpoint)
        added = endpoint.model_copy(update={"models": models or []})
        self._change(lambda found: [*self._check_new(added, found), added])
        return Listed(added, problem)

    async def update(self, name: str, **changes: Any) -> Listed:
        """Changes kind, url, api_key_env or max_concurrency (None: leave it); a new kind or URL reads
        the models again."""
        unknown = set(changes) - set(CHANGEABLE)
        if unknown:
            raise InvalidInput(
                _("An endpoint's {names} cannot be changed here.").format(names=", ".join(sorted(unknown)))
            )
        current = self.get(name)
        given = {k: v for k, v in changes.items() if v is not None}
        if "url" in given:
            given["url"] = checked_url(str(given["url"]))
        if "api_key_env" in given:
            given["api_key_env"] = checked_env_name(str(given["api_key_env"]))
        changed = _validated(current.model_dump() | given)
        problem = None
        if (changed.kind, changed.url, changed.api_key_env) != (current.kind, current.url, current.api_key_env):
            others = [e for e in self.saved() if e.name != name]
            self._check_new(changed, others)
            models, problem = await self.read_models(changed)
            changed = changed.model_copy(update={"models": models if models is not None else []})
        self._change(lambda found: [changed if e.name == name else e for e in self._present(found, name)])
        return Listed(changed, problem)

    def remove(self, name: str) -> Endpoint:
        """Removes the endpoint; a choice that named it becomes the pool."""
        gone = self.get(name)

        def without(settings: BackendSettings) -> BackendSettings:
            kept = [e for e in self._present(settings.endpoints, name) if e.name != name]
            choice = None if settings.endpoint == name else settings.endpoint
            return settings.model_copy(update={"endpoints": kept, "endpoint": choice})

        self._save(without)
        return gone

    async def refresh(self, name: str | None = None) -> list[Listed]:
        """Reads the models of one endpoint (or of every one, at once) from their servers and saves them;
        an endpoint whose server does not answer keeps the models it had."""
        endpoints = [self.get(name)] if name is not None else self.saved()
        results = await asyncio.gather(*(self.read_models(e) for e in endpoints))
        read = {e.name: models for e, (models, _) in zip(endpoints, results, strict=True)}

        def fresh(found: list[Endpoint]) -> list[Endpoint]:
            return [e.model_copy(update={"models": read[e.name]}) if read.get(e.name) is not None else e for e in found]

        saved = {e.name: e for e in self._change(fresh)}
        return [Listed(saved.get(e.name, e), problem) for e, (_, problem) in zip(endpoints, results, strict=True)]

    def choose(self, name: str | None) -> str | None:
        """Saves the endpoint choice of Settings (Audition runs there; new jobs start with it); None or
        "pool": the pool. Returns the choice as saved."""
        choice = checked_choice(self.settings.backend(), name)
        self._save(lambda settings: settings.model_copy(update={"endpoint": choice}))
        return choice

    async def read_models(self, endpoint: Endpoint) -> tuple[list[str] | None, str | None]:
        """The model names the endpoint's server lists, or None and the sentence that says why not."""
        # Asked once: a user waits on the answer, and a refresh can be run again.
        asking = server_settings(self.settings.backend(), endpoint).model_copy(update={"max_retries": 0})
        try:
            async with BackendService(asking) as service:
                return [m.name for m in await service.models()], None
        except ForgeError as exc:
            return None, str(exc)

    # --- helpers ----------------------------------------------------------------------------------
    def _check_new(self, endpoint: Endpoint, others: list[Endpoint]) -> list[Endpoint]:
        for other in others:
            if other.name.lower() == endpoint.name.lower():
                raise InvalidInput(
                    _("There is an endpoint named '{name}' already; choose another name.").format(name=clip(other.name))
                )
            if (other.kind, other.url) == (endpoint.kind, endpoint.url):
                raise InvalidInput(
                    _("Endpoint '{name}' already points at {url}.").format(
                        name=clip(other.name), url=clip(endpoint.url or "")
                    )
                )
        return others

    def _present(self, found: list[Endpoint], name: str) -> list[Endpoint]:
        if all(e.name != name for e in found):
            raise NotFound(_("Endpoint '{name}' was removed meanwhile.").format(name=clip(name)))
        return found

    def _change(self, change: Callable[[list[Endpoint]], list[Endpoint]]) -> list[Endpoint]:
        saved = self._save(lambda settings: settings.model_copy(update={"endpoints": change(settings.endpoints)}))
        return list(saved.endpoints)

    def _save(self, change: Callable[[BackendSettings], BackendSettings]) -> BackendSettings:
        return self.settings.save_backend(change(self.settings.backend()))
