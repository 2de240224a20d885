"""Textual Validators for dialog fields, built from the checks the core and services already make."""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import ValidationResult, Validator

from forge_tui.core.errors import ForgeError


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
