"""Templates every new account starts with, so there is something to audition at once."""

from __future__ import annotations

from forge_tui.core.chat import ToolDef
from forge_tui.core.templates import SlotDef, TemplateInfo, WeightedValue


def _values(*items: str | tuple[str, float]) -> list[WeightedValue]:
    return [WeightedValue(value=i) if isinstance(i, str) else WeightedValue(value=i[0], weight=i[1]) for i in items]


def starter_templates() -> list[TemplateInfo]:
    return [
        TemplateInfo(
            name="Q&A pair on a topic",
            system_prompt="You are a patient expert. Answer accurately and plainly, without filler.",
            user_prompt="Explain {{ topic }} to {{ audience }} in two or three short paragraphs.",
            slots=[
                SlotDef(
                    name="topic",
                    description="What the question is about",
                    default="how vaccines train the immune system",
                    values=_values("why the sky is blue", "how a hash map works", ("what causes inflation", 2)),
                ),
                SlotDef(
                    name="audience",
                    description="Who is asking",
                    default="a curious high-school student",
                    values=_values("a ten-year-old", "a busy executive", "a graduate student"),
                ),
            ],
        ),
        TemplateInfo(
            name="Rewrite in a style",
            system_prompt="You rewrite text. Keep the meaning; change only the style. Reply with the rewrite alone.",
            user_prompt="Rewrite this in the style of {{ style }}:\n\n{{ text }}",
            slots=[
                SlotDef(
                    name="style",
                    description="The target style",
                    default="a polite business email",
                    values=_values("a pirate", "a haiku", "a legal notice"),
                ),
                SlotDef(
                    name="text",
                    description="The text to rewrite",
                    default="hey, can't make it tomorrow, something came up. thursday instead?",
                ),
            ],
        ),
        TemplateInfo(
            name="Tool call: weather",
            system_prompt=(
                "You can call tools. When the user asks about the weather, call get_weather with the city "
                "and the unit they use; do not guess the weather yourself."
            ),
            user_prompt="What's the weather like in {{ city }} {{ when }}?",
            slots=[
                SlotDef(
                    name="city",
                    description="A city name",
                    default="Lisbon",
                    values=_values("Oslo", "Nairobi", "Osaka", "Montréal"),
                ),
                SlotDef(name="when", description="When", default="today", values=_values("tomorrow", "this weekend")),
            ],
            is_tool_calling=True,
            tools=[
                ToolDef(
                    name="get_weather",
                    description="Current weather or forecast for a city",
                    parameters={
                        "type": "object",
                        "properties": {
                            "city": {"type": "string", "description": "City name"},
                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                            "day": {"type": "string", "description": "today, tomorrow, or a date"},
                        },
                        "required": ["city"],
                    },
                )
            ],
        ),
    ]


PASSAGE_TEMPLATE_NAME = "Questions and answers from a passage"


def passage_template() -> TemplateInfo:
    """The built-in template for grounded Q&A, given to an account when it adds its first document
    (its slots are filled by `chunk=docs:SET`)."""
    return TemplateInfo(
        name=PASSAGE_TEMPLATE_NAME,
        system_prompt=(
            "You write training data grounded in documents. Use only what the passage states; "
            "never add facts from elsewhere."
        ),
        user_prompt=(
            "Passage from {{ source }}:\n\n{{ chunk }}\n\n"
            "Write one question a reader of this passage could ask, then answer it from the passage alone. "
            "Reply in this form:\nQuestion: ...\nAnswer: ..."
        ),
        slots=[
            SlotDef(name="chunk", description="A passage of a document (chunk=docs:SET)", default=""),
            SlotDef(name="source", description="The document the passage is from", default="a document"),
        ],
    )
