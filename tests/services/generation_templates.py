"""What the generation tests share: the weather tool, a tool-calling template that offers it, and a
Simplified Chinese answer (the zh-TW flag's trigger)."""

from __future__ import annotations

from forge_tui.core.chat import ToolDef
from forge_tui.core.templates import SlotDef, TemplateInfo

WEATHER = ToolDef(
    name="get_weather",
    description="The weather in a city",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"]}},
        "required": ["city", "unit"],
    },
)
TOOLS = TemplateInfo(
    name="Weather",
    user_prompt="What is the weather in {{ city }}?",
    slots=[SlotDef(name="city", default="Taipei")],
    is_tool_calling=True,
    tools=[WEATHER],
)
SIMPLIFIED = "潮汐是由月球和太阳的引力造成的。海水每天涨落两次，渔民会根据潮汐安排出海的时间。"
