"""A template rendered with slot values: the system and user prompts as sent (Audition and jobs)."""

from __future__ import annotations

from dataclasses import dataclass

from forge_tui.core.templates import TemplateError, TemplateInfo, render
from forge_tui.i18n import _


@dataclass(frozen=True)
class RenderedPrompt:
    slots: dict[str, str]  # the value of every slot the prompts use
    system_prompt: str
    user_prompt: str


def render_prompts(template: TemplateInfo, slots: dict[str, str]) -> RenderedPrompt:
    """Renders both prompts with `slots` over the slots' defaults; a used slot that is neither
    defined nor given, or an empty user prompt, is a TemplateError."""
    values = {s.name: s.default for s in template.slots} | dict(slots)
    missing = [name for name in template.used_slots() if name not in values]
    if missing:
        raise TemplateError(_("slot '{name}' has no value and no default").format(name=missing[0]))
    used = {name: values[name] for name in template.used_slots()}
    system_prompt = render(template.system_prompt, used).strip() if template.system_prompt else ""
    user_prompt = render(template.user_prompt, used).strip()
    if not user_prompt:
        raise TemplateError(_("the user prompt is empty"))
    return RenderedPrompt(used, system_prompt, user_prompt)
