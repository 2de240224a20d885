"""Textual validators for form fields: an input is checked where it is typed, with one sentence when it is off.
Some are built from the checks core and services already make (PassesCheck, NoProblem)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter, ValidationError
from textual.validation import ValidationResult, Validator

from forge_tui.core.errors import ForgeError


class HttpUrl(Validator):
    """Empty (the default is used), or an http:// or https:// URL with a host."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} starts with http:// or https:// and names a host, e.g. http://localhost:11434.")

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
    """A number that the field `name` of `model` accepts: its type and bounds are declared there, once."""

    def __init__(self, model: type[BaseModel], name: str, what: str) -> None:
        info = model.model_fields[name]
        whole = info.annotation is int
        constrained: Any = Annotated[(int if whole else float, *info.metadata)]
        self._adapter: TypeAdapter[Any] = TypeAdapter(constrained)
        super().__init__(f"{what} is {'a whole number' if whole else 'a number'}{bounds(info.metadata)}.")

    def validate(self, value: str) -> ValidationResult:
        try:
            self._adapter.validate_python(value.strip())
        except ValidationError:
            return self.failure()
        return self.success()


def bounds(metadata: list[Any]) -> str:
    """ " between 1 and 1024", " above 0", … from a field's constraints (annotated-types' Ge, Gt, Le, Lt)."""
    found = {name: getattr(m, name) for m in metadata for name in ("ge", "gt", "le", "lt") if hasattr(m, name)}
    if "ge" in found and "le" in found:
        return f" between {shown(found['ge'])} and {shown(found['le'])}"
    words = {"gt": "above", "lt": "below", "ge": "at least", "le": "at most"}
    parts = [f"{words[name]} {shown(value)}" for name, value in found.items()]
    return " " + " and ".join(parts) if parts else ""


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
