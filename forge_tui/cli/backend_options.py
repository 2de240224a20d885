"""The options every command that talks to a model takes (`--kind`, `--url`, `--api-key-env`, and
`--endpoint` for one configured server or the pool), and the one function that turns the account's
Settings and those flags into the backend settings to use."""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.home import Home

KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind", metavar="ollama|openai|anthropic", help=_("Model server kind (default: Settings, else ollama).")
    ),
]
UrlOpt = Annotated[
    str | None, typer.Option("--url", metavar="URL", help=_("Base URL of the model server (default: Settings)."))
]
ApiKeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key-env",
        metavar="VAR",
        help=_("Environment variable that holds the server's API key (default: Settings)."),
    ),
]

EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        metavar="NAME|pool",
        help=_("A configured endpoint, or pool: every one that serves the model (default: Settings; a job: its own)."),
    ),
]


@dataclass(frozen=True)
class BackendFlags:
    """`--kind`, `--url`, `--api-key-env` and `--endpoint` as given on the command line (None: not given)."""

    kind: str | None = None
    url: str | None = None
    api_key_env: str | None = None
    endpoint: str | None = None

    def over(self, settings: BackendSettings) -> BackendSettings:
        """`settings` with these flags put over them (see with_flags)."""
        return with_flags(settings, self.kind, self.url, self.api_key_env, self.endpoint)

    def endpoint_for(self, settings: BackendSettings, stored: str | None) -> str | None:
        """The endpoint a job runs on: --endpoint, else none but the one server --kind/--url name, else
        the choice the job was made with (`stored`). `settings` are these flags over Settings."""
        if self.endpoint is not None or self.kind or self.url:
            return settings.endpoint
        return stored

    def argv(self) -> list[str]:
        """The flags again as command-line words, for a process that runs the command anew."""
        words: list[str] = []
        given = (("--kind", self.kind), ("--url", self.url), ("--api-key-env", self.api_key_env))
        for option, value in (*given, ("--endpoint", self.endpoint)):
            if value is not None:
                words += [option, value]
        return words


NO_FLAGS = BackendFlags()

_FLAG_PARAMETERS = tuple(
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
    for name, annotation in (
        ("kind", KindOpt),
        ("url", UrlOpt),
        ("api_key_env", ApiKeyEnvOpt),
        ("endpoint", EndpointOpt),
    )
)


def backend_options(command: Callable[..., None]) -> Callable[..., None]:
    """Gives `command` the options --kind, --url, --api-key-env and --endpoint in place of its parameter
    `flags: BackendFlags`, so that each command does not declare them again. Put it below
    `@app.command()`: typer reads the signature this returns."""
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "flags":
            parameters += _FLAG_PARAMETERS
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def run(**options: Any) -> None:
        given = (options.pop(name) for name in ("kind", "url", "api_key_env", "endpoint"))
        flags = BackendFlags(*given)
        command(**options, flags=flags)

    run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
    return run


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def with_flags(
    settings: BackendSettings,
    kind: str | None,
    url: str | None,
    api_key_env: str | None,
    endpoint: str | None = None,
) -> BackendSettings:
    """`settings` with the flags given on the command line put over them. Another kind than Settings'
    drops Settings' URL (it belongs to the other server) unless --url names one. --kind or --url name
    the one server to use, so the endpoints of Settings are left out; --endpoint chooses among them."""
    updates: dict[str, object] = {}
    if endpoint is not None:
        from forge_tui.services.endpoints import checked_choice

        if kind or url or api_key_env is not None:
            raise InvalidInput(_("--endpoint chooses a configured server: leave out --kind, --url and --api-key-env."))
        return settings.model_copy(update={"endpoint": checked_choice(settings, endpoint)})
    if kind or url:
        updates |= {"endpoints": [], "endpoint": None}
    if kind:
        if kind not in ("ollama", "openai", "anthropic"):
            raise InvalidInput(_("--kind is 'ollama', 'openai' or 'anthropic', not '{kind}'.").format(kind=kind))
        if kind != settings.kind:
            updates["base_url"] = None
        updates["kind"] = kind
    if url:
        if not url.startswith(("http://", "https://")):
            raise InvalidInput(_("--url must start with http:// or https://, not '{url}'.").format(url=url))
        updates["base_url"] = url
    if api_key_env is not None:
        if api_key_env and not _ENV_NAME.fullmatch(api_key_env):
            raise InvalidInput(
                _("--api-key-env takes the name of an environment variable, not '{name}'.").format(name=api_key_env)
            )
        if api_key_env and api_key_env not in os.environ:
            raise InvalidInput(
                _("--api-key-env names ${name}, which is not set in this environment.").format(name=api_key_env)
            )
        updates["api_key_env"] = api_key_env or None
    return settings.model_copy(update=updates)


def account_backend(
    home: Home, user: str | None, kind: str | None, url: str | None, api_key_env: str | None
) -> BackendSettings:
    """The backend settings of the account (`user`, or the only one; none: the defaults) with the flags
    over them. Settings are plain columns: no password is needed."""
    from forge_tui.core.backend_settings import BackendSettings
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.settings import SettingsService

    accounts = AccountService(home)
    names = accounts.usernames()
    settings = BackendSettings()
    if user or len(names) == 1:
        settings = SettingsService(home, accounts.get(user or names[0])).backend()
    return with_flags(settings, kind, url, api_key_env)
