"""The judge rubrics a user can choose: the built-in ones and the account's custom rubrics (Jinja2
templates saved by name, sealed with the account's keys, checked before they are saved)."""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.core.rubrics import Rubric, builtin_rubrics, check_custom_rubric, check_rubric_name
from forge_tui.i18n import _
from forge_tui.services.accounts import Unlocked
from forge_tui.services.home import Home
from forge_tui.store import rubrics as rubric_rows
from forge_tui.store.db import read_session, write_session


@dataclass(frozen=True)
class RubricInfo:
    name: str
    kind: str
    builtin: bool
    few_shots: int


def info(rubric: Rubric) -> RubricInfo:
    return RubricInfo(rubric.name, rubric.kind, rubric.builtin, rubric.few_shots)


class RubricService:
    def __init__(self, home: Home, unlocked: Unlocked) -> None:
        self.home = home
        self.unlocked = unlocked

    def list(self) -> list[Rubric]:
        """The built-in rubrics, then the custom ones by name."""
        with read_session(self.home.engine) as s:
            saved = rubric_rows.list_for_owner(s, self.unlocked.keys_in(s), self.unlocked.user.id)
        custom = [Rubric(b.name, "custom", b.template, few_shots=b.few_shots) for b in saved]
        return [*builtin_rubrics().values(), *custom]

    def get(self, name: str) -> Rubric:
        builtin = builtin_rubrics().get(name)
        if builtin is not None:
            return builtin
        with read_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = rubric_rows.get_by_name(s, keys, self.unlocked.user.id, check_rubric_name(name))
            if row is None:
                known = ", ".join(r.name for r in self.list())
                raise NotFound(_("No rubric named '{name}'; there are: {known}.").format(name=name[:80], known=known))
            body = rubric_rows.open_row(keys, row)
        return Rubric(body.name, "custom", body.template, few_shots=body.few_shots)

    def save(self, name: str, template: str, few_shots: int = 0) -> Rubric:
        """Creates or replaces a custom rubric; its template must render for a sample example and ask
        for a score (TemplateError or InvalidInput say why not)."""
        rubric = check_custom_rubric(name, template, few_shots)
        with write_session(self.home.engine) as s:
            # Sealed with the account's key as stored now (Conflict when this session lacks it).
            keys = self.unlocked.keys_in(s)
            body = rubric_rows.RubricBody(rubric.name, rubric.template, rubric.few_shots)
            rubric_rows.save(s, keys, self.unlocked.user.id, body)
        return rubric

    def delete(self, name: str) -> None:
        if name in builtin_rubrics():
            raise InvalidInput(_("'{name}' is a built-in rubric and cannot be deleted.").format(name=name))
        with write_session(self.home.engine) as s:
            keys = self.unlocked.keys_in(s)
            row = rubric_rows.get_by_name(s, keys, self.unlocked.user.id, check_rubric_name(name))
            if row is None:
                raise NotFound(_("No custom rubric named '{name}'.").format(name=name[:80]))
            s.delete(row)
