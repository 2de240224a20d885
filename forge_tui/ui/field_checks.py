"""Textual validators for form fields: an input is checked where it is typed, with one sentence when it is off.
Some are built from the checks core and services already make (PassesCheck, NoProblem)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError
from textual.validation import Failure, ValidationResult, Validator

from forge_tui.core.errors import ForgeError
from forge_tui.i18n import N_, _


class HttpUrl(Validator):
    """Empty (the default is used), or an http:// or https:// URL with a host. `what` is a message id
    (N_); the sentence is written in the language of the moment it fails."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self._what = what

    def describe_failure(self, failure: Failure) -> str | None:
        return _("{what} starts with http:// or https:// and names a host, e.g. http://localhost:11434.").format(
            what=_(self._what)
        )

    def validate(self, value: str) -> ValidationResult:
        text = value.strip()
        if not text:
            return self.success()
        try:
            parts = urlsplit(text)
            ok = parts.scheme in {"http", "https"} and bool(parts.hostname) and (parts.port or 0) >= 0
        except ValueError:  # a port that is not a number, or out of range
            ok = False
        return self.success() if ok else self.failure()


class ModelNumber(Validator):
    """A number that the field `name` of `model` accepts: its type and bounds are declared there, once.
    `what` is a message id (N_); the sentence is written in the language of the moment it fails."""

    def __init__(self, model: type[BaseModel], name: str, what: str) -> None:
        info = model.model_fields[name]
        self._whole = info.annotation is int
        self._metadata = list(info.metadata)
        constrained: Any = Annotated[(int if self._whole else float, *info.metadata)]
        self._adapter: TypeAdapter[Any] = TypeAdapter(constrained)
        self._what = what
        super().__init__()

    def describe_failure(self, failure: Failure) -> str | None:
        within = bounds(self._metadata)
        what = _(self._what)
        if self._whole:
            if within:
                return _("{what} is a whole number {bounds}.").format(what=what, bounds=within)
            return _("{what} is a whole number.").format(what=what)
        if within:
            return _("{what} is a number {bounds}.").format(what=what, bounds=within)
        return _("{what} is a number.").format(what=what)

    def validate(self, value: str) -> ValidationResult:
        try:
            self._adapter.validate_python(value.strip())
        except ValidationError:
            return self.failure()
        return self.success()


# A bound of a number, by annotated-types' name for it.
BOUND_WORDS = {"gt": N_("above {n}"), "lt": N_("below {n}"), "ge": N_("at least {n}"), "le": N_("at most {n}")}


def bounds(metadata: list[Any]) -> str:
    """ "between 1 and 1024", "above 0", … from a field's constraints (annotated-types' Ge, Gt, Le, Lt);
    "" when it has none."""
    found = {name: getattr(m, name) for m in metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)}
    if "ge" in found and "le" in found:
        return _("between {low} and {high}").format(low=shown(found["ge"]), high=shown(found["le"]))
    parts = [_(BOUND_WORDS[name]).format(n=shown(value)) for name, value in found.items()]
    if len(parts) == 2:
        return _("{first} and {second}").format(first=parts[0], second=parts[1])
    return parts[0] if parts else ""


def shown(number: float) -> str:
    return f"{number:,}" if abs(number) >= 10_000 else f"{number:g}"


class PassesCheck(Validator):
    """Accepts a value when `check(value)` raises no ForgeError; the error's sentence says why not."""

    def __init__(self, check: Callable[[str], object]) -> None:
        super().__init__()
        self._check = check

    def validate(self, value: str) -> ValidationResult:
        try:
            self._check(value)
        except ForgeError as exc:
            return self.failure(str(exc), value)
        return self.success()


class NoProblem(Validator):
    """Accepts a value when `problem(value)` finds none; else its sentence is the failure."""

    def __init__(self, problem: Callable[[str], str | None]) -> None:
        super().__init__()
        self._problem = problem

    def validate(self, value: str) -> ValidationResult:
        found = self._problem(value)
        return self.failure(found, value) if found else self.success()
