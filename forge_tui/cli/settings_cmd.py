"""`forge-tui settings show|set`: the account's Settings (model server, default models, limits) without
the TUI. Settings are plain columns: no password is asked."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer

from forge_tui.cli.common import JsonOpt, UserOpt, account, command_help, echo, errors, open_home, sub_app
from forge_tui.cli.endpoints_cmd import endpoints_app
from forge_tui.core.backend_settings import BackendSettings
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

if TYPE_CHECKING:
    from forge_tui.services.settings import SettingsService

settings_app = sub_app(_("Show and change the account's Settings (model server, default models, limits)."))
settings_app.add_typer(endpoints_app, name="endpoints")

# Learned from the servers, not set by hand (settings show lists it); endpoints have their own commands.
_NOT_SET_HERE = {"structured_output", "endpoints", "endpoint"}
KEYS = tuple(name for name in BackendSettings.model_fields if name not in _NOT_SET_HERE)
_ALIASES = {"url": "base_url"}
_SHOWN_AS = {"base_url": "url"}
_DEFAULT_WORDS = {"", "none", "default"}


def _service(user: str | None) -> SettingsService:
    from forge_tui.services.settings import SettingsService

    home = open_home()
    return SettingsService(home, account(home, user))


def key_name(key: str) -> str:
    """The field a key names: `url` or `base_url`, `max-tokens` or `max_tokens`, any case."""
    name = key.strip().lower().replace("-", "_")
    name = _ALIASES.get(name, name)
    if name not in KEYS:
        shown = ", ".join(_SHOWN_AS.get(k, k) for k in KEYS)
        raise InvalidInput(_("There is no setting '{key}'; the settings are: {shown}.").format(key=key, shown=shown))
    return name


def updated(settings: BackendSettings, key: str, value: str) -> BackendSettings:
    """`settings` with one key set from text, checked by the same model the Settings screen saves."""
    from pydantic import ValidationError

    name = key_name(key)
    field = BackendSettings.model_fields[name]
    raw: object = value.strip()
    if value.strip().lower() in _DEFAULT_WORDS:
        raw = field.default
    if name == "base_url" and raw is not None and not _http_url(str(raw)):
        raise InvalidInput(
            _("url starts with http:// or https:// and names a host, not '{value}'.").format(value=value)
        )
    try:
        return BackendSettings.model_validate(settings.model_dump() | {name: raw})
    except ValidationError as exc:
        if field.annotation in (int, float):
            what = _("a whole number") if field.annotation is int else _("a number")
            bounds = _bounds(field.metadata)
            wrong = _("{name} is {what} {bounds}, not '{value}'.") if bounds else _("{name} is {what}, not '{value}'.")
            raise InvalidInput(wrong.format(name=name, what=what, bounds=bounds, value=value)) from None
        reason = str(exc.errors()[0]["msg"]).rstrip(".").lower()
        invalid = _("'{value}' is not a valid {name}: {reason}.")
        raise InvalidInput(invalid.format(value=value, name=_SHOWN_AS.get(name, name), reason=reason)) from None


def _http_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
        return parts.scheme in {"http", "https"} and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number, or out of range
        return False


def _bounds(metadata: list[Any]) -> str:
    """ "between 1 and 1024", "above 0", … from a field's constraints (annotated-types' Ge, Gt, Le, Lt)."""
    found = {name: getattr(m, name) for m in metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)}
    if "ge" in found and "le" in found:
        return _("between {low} and {high}").format(low=_number(found["ge"]), high=_number(found["le"]))
    words = {
        "gt": _("above {number}"),
        "lt": _("below {number}"),
        "ge": _("at least {number}"),
        "le": _("at most {number}"),
    }
    return " ".join(words[name].format(number=_number(value)) for name, value in found.items())


def _number(value: float) -> str:
    return f"{value:,}" if abs(value) >= 10_000 else f"{value:g}"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@settings_app.command("show")
@command_help(_("Print the account's Settings (--json: the field names as keys, never translated)."))
def settings_show(user: UserOpt = None, as_json: JsonOpt = False) -> None:
    from forge_tui.services.backends import BackendService

    with errors():
        settings = _service(user).backend()
        default_url = BackendService(settings.model_copy(update={"base_url": None})).backend.base_url
    if as_json:
        echo(json.dumps(settings.model_dump(mode="json"), indent=2))
        return
    width = max(len(_SHOWN_AS.get(k, k)) for k in KEYS)
    for name in KEYS:
        value = getattr(settings, name)
        text = _shown(value)
        if name == "base_url" and value is None:
            text = "— " + _("(default: {url})").format(url=default_url)
        echo(f"{_SHOWN_AS.get(name, name):<{width}}  {text}")
    if settings.endpoints:
        names = ", ".join(f"{e.name} ({e.url})" for e in settings.endpoints)
        echo(f"{'endpoints':<{width}}  {names}")
        echo(f"{'endpoint':<{width}}  {settings.endpoint or 'pool'}  " + _("(Audition and new jobs)"))
    for endpoint, mode in settings.structured_output.items():
        echo(_("structured output at {endpoint}: {mode}").format(endpoint=endpoint, mode=mode))


@settings_app.command("set")
@command_help(_("Change one setting; `forge-tui settings show` lists them."))
def settings_set(
    key: Annotated[str, typer.Argument(help=_("A setting's name, e.g. url or max_tokens."))],
    value: Annotated[str, typer.Argument(help=_("Its new value ('', none or default: the default)."))],
    user: UserOpt = None,
) -> None:
    with errors():
        service = _service(user)
        changed = updated(service.backend(), key, value)
        service.save_backend(changed)
    name = key_name(key)
    echo(f"{_SHOWN_AS.get(name, name)} = {_shown(getattr(changed, name))}")
