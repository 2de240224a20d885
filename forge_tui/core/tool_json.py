"""JSON that people type in an editor: tool definitions (the Templates screen) and tool calls (an
audition card being edited). Both take one object or a list of them, and an empty text is none."""

from __future__ import annotations

import json
from typing import Any

from forge_tui.core.chat import ToolDef
from forge_tui.core.templates import TemplateError, check_tool
from forge_tui.i18n import _


def json_items(text: str) -> list[Any]:
    """The items of an edited JSON text: [] when blank, a list as it is, anything else as a list of
    one. Raises TemplateError with the line of a syntax error."""
    if not text.strip():
        return []
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(exc.msg, exc.lineno) from None
    return raw if isinstance(raw, list) else [raw]


def parse_tools(text: str) -> list[ToolDef]:
    """The tool editor's JSON: one tool object or a list of them, each checked, names distinct."""
    tools = [check_tool(item) for item in json_items(text)]
    names = [t.name for t in tools]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise TemplateError(_("two tools are named '{name}'").format(name=duplicate))
    return tools


def tools_text(tools: list[ToolDef]) -> str:
    """Tools as the tool editor shows them ("" for none), so that parse_tools reads them back."""
    return json.dumps([t.to_openai() for t in tools], indent=2) if tools else ""
