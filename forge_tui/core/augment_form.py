"""An augment job as typed in the Examples screen's dialog, or as a saved configuration holds it: text
as typed (the CLI fills one from its flags), read into numbers with one-sentence errors."""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

MAX_CONCURRENCY = 1024


@dataclass
class AugmentForm:
    field: str = "answer"
    instruction: str = ""
    context: str = ""  # field names, comma-separated
    model: str = ""
    temperature: str = ""  # "": the model's default
    language: str = ""
    concurrency: str = ""  # "": Settings'
    where: str = ""  # a filter expression (core.filter_language); "": every example
    into: str = ""  # the new dataset's name
    in_place: bool = False
    keep_as_rejected: bool = False
    endpoint: str = ""  # "": Settings'

    def context_names(self) -> tuple[str, ...]:
        return tuple(c.strip() for c in self.context.split(",") if c.strip())

    def temperature_value(self) -> float | None:
        text = self.temperature.strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0.0 <= value <= 2.0:
            raise InvalidInput(_("The temperature is a number from 0 to 2, such as 0.7."))
        return value

    def concurrency_value(self) -> int | None:
        text = self.concurrency.strip()
        if not text:
            return None
        if not text.isdigit() or not 1 <= int(text) <= MAX_CONCURRENCY:
            raise InvalidInput(_("The concurrency is a whole number from 1 to {limit}.").format(limit=MAX_CONCURRENCY))
        return int(text)
