"""Tool calls checked against a template's tools, and written as stored JSON (Audition and jobs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from forge_tui.core.chat import ToolCall, ToolDef
from forge_tui.core.templates import check_tool_arguments
from forge_tui.i18n import _


def tool_call_problems(tools: Iterable[ToolDef], calls: Iterable[ToolCall]) -> list[str]:
    """What is wrong with each call: a tool not offered, or arguments that do not fit its schema."""
    offered = {t.name: t for t in tools}
    problems = []
    for call in calls:
        tool = offered.get(call.name)
        if tool is None:
            if offered:
                problem = _("'{name}' is not one of the template's tools ({tools})").format(
                    name=call.name, tools=", ".join(offered)
                )
            else:
                problem = _("'{name}' is not one of the template's tools (none)").format(name=call.name)
            problems.append(problem)
            continue
        problems += [f"{call.name}: {p}" for p in check_tool_arguments(tool, call.arguments)]
    return problems


def calls_to_json(calls: Iterable[ToolCall]) -> list[dict[str, Any]]:
    return [{"name": c.name, "arguments": c.arguments, **({"id": c.id} if c.id else {})} for c in calls]
