"""The Templates screen's preview: both prompts rendered with stand-in values, or the error."""

from __future__ import annotations

from collections.abc import Callable

from forge_tui.core.sandbox import time_limit
from forge_tui.core.templates import TemplateError, render
from forge_tui.i18n import _


def preview_text(
    system: str, user: str, values: dict[str, str], seconds: float, stop: Callable[[], bool]
) -> tuple[str, bool]:
    """The preview of both prompts, or the error; (text, is an error). Runs in a worker thread: it
    gives up after `seconds`, or as soon as `stop()` says so."""
    try:
        with time_limit(seconds, stop):
            rendered_system = render(system, values) if system.strip() else ""
            rendered_user = render(user, values)
    except TemplateError as exc:
        return _("✗ Template error — {problem}").format(problem=exc), True
    text = f"[system]\n{rendered_system}\n\n[user]\n{rendered_user}" if rendered_system else rendered_user
    return text or _("(empty)"), False
