"""Custom judge rubrics of one account (rubric rows): the name, template and few-shot count are one
sealed JSON value, and `name_tag` (a keyed hash) finds a name (store.named_sealed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from forge_tui.store.named_sealed import NamedSealed
from forge_tui.store.tables import RubricRow


@dataclass(frozen=True)
class RubricBody:
    name: str
    template: str
    few_shots: int = 0


def _value(body: RubricBody) -> object:
    return {"name": body.name, "template": body.template, "few_shots": body.few_shots}


def _body(value: Any) -> RubricBody:
    return RubricBody(str(value["name"]), str(value["template"]), int(value.get("few_shots", 0)))


def _name(body: RubricBody) -> str:
    return body.name


ROWS: NamedSealed[RubricRow, RubricBody] = NamedSealed(RubricRow, "rubric", _value, _body, _name)
open_row = ROWS.open_row
list_for_owner = ROWS.list_for_owner
get_by_name = ROWS.get_by_name
save = ROWS.save
reseal = ROWS.reseal
