"""A judge job as typed in the Jobs screen's dialog (text as typed), and its checks."""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.errors import InvalidInput
from forge_tui.core.judge_counts import Action
from forge_tui.core.judging import MAX_SCORE, MIN_SCORE
from forge_tui.i18n import _

ONLY_UNREVIEWED = "unreviewed"
ONLY_ALL = "all"


@dataclass
class JudgeForm:
    rubric: str = "overall"
    only: str = ONLY_UNREVIEWED
    threshold: str = "7"
    action: str = Action.NONE.value
    model: str = ""
    fix_model: str = ""
    endpoint: str = ""  # "": the pool

    def threshold_value(self) -> float:
        try:
            value = float(self.threshold.strip())
        except ValueError:
            value = float("nan")
        if not MIN_SCORE <= value <= MAX_SCORE:
            raise InvalidInput(
                _("The threshold must be a number from {low} to {high}.").format(
                    low=f"{MIN_SCORE:g}", high=f"{MAX_SCORE:g}"
                )
            )
        return value

    def action_value(self) -> Action:
        try:
            return Action(self.action)
        except ValueError as exc:
            raise InvalidInput(_("Below the threshold: choose none, reject or fix.")) from exc
