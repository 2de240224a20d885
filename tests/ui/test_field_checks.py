"""The form validators: bounds come from the model's fields, each failure is one sentence."""

from __future__ import annotations

import pytest

from forge_tui.core.backend_settings import BackendSettings
from forge_tui.ui.field_checks import HttpUrl, ModelNumber


@pytest.mark.parametrize(
    ("field", "good", "bad", "sentence"),
    [
        (
            "concurrency",
            ["1", "1024"],
            ["0", "1025", "1.5", "", "x"],
            "Concurrency is a whole number between 1 and 1024.",
        ),
        ("max_tokens", ["1", "1000000"], ["0", "1000001"], "Concurrency is a whole number between 1 and 1,000,000."),
        ("first_byte_timeout", ["0.5", "300"], ["0", "-1", ""], "Concurrency is a number above 0."),
    ],
)
def test_numbers_are_checked_against_the_fields_bounds(
    field: str, good: list[str], bad: list[str], sentence: str
) -> None:
    check = ModelNumber(BackendSettings, field, "Concurrency")
    assert all(check.validate(value).is_valid for value in good)
    for value in bad:
        result = check.validate(value)
        assert not result.is_valid and result.failure_descriptions == [sentence], value


def test_a_base_url_is_empty_or_http_with_a_host() -> None:
    check = HttpUrl("The base URL")
    for value in ("", "  ", "http://127.0.0.1:11434", "https://api.example.com/v1"):
        assert check.validate(value).is_valid, value
    for value in ("localhost:11434", "ftp://host", "http://", "http://host:port"):
        assert not check.validate(value).is_valid, value
