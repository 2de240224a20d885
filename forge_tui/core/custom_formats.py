"""Export formats that users write: a Jinja2 body, run in the sandbox, that renders each example
as a JSON object (or a list of them, or nothing to leave the example out).

The body sees `example` (every field: `example.reasoning`, `example.desirability`, `example.extra` with
what an import kept aside, `example.meta` with model, params, token counts and desirability),
`messages` (the conversation in OpenAI's shape, tool-call arguments as JSON strings, reasoning as
`reasoning_content`) and `conversation` (neutral messages). Jinja's `tojson` filter quotes text safely.
The export's reasoning choice applies before the body runs: `drop` empties `example.reasoning`,
`think-tags` moves it into the answer's text; the default, `field`, leaves it to the body.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from forge_tui.core.conversation import conversation
from forge_tui.core.export_formats import ExportFormat, openai_messages
from forge_tui.core.models import Example, ExampleContent, ExampleMeta
from forge_tui.core.raw_records import example_fields
from forge_tui.core.templates import TemplateError, TemplateLimitError, compile_source, render_compiled
from forge_tui.i18n import N_, _

CUSTOM_PREFIX = "custom:"

STARTER_BODY = """{
  "question": {{ example.user_prompt | tojson }},
  "answer": {{ example.output | tojson }}
}
"""


def context(example: Example) -> dict[str, Any]:
    neutral = conversation(example.content)
    return {"example": example_fields(example), "messages": openai_messages(neutral), "conversation": neutral}


def custom_format(name: str, body: str) -> ExportFormat:
    """Compiles the body (a syntax error raises TemplateError with its line)."""
    template = compile_source(body)

    def render(example: Example) -> Iterator[dict[str, Any]]:
        text = render_compiled(template, context(example)).strip()
        if not text:
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(
                _(
                    "example {id}: the template did not write JSON ({problem} at line {line}, column {column}): {text}"
                ).format(id=example.id, problem=exc.msg, line=exc.lineno, column=exc.colno, text=text[:80])
            ) from None
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not isinstance(item, dict):
                raise TemplateError(
                    _("example {id}: the template must write a JSON object, not {value}").format(
                        id=example.id, value=f"{item!r:.40}"
                    )
                )
            yield item

    return ExportFormat(
        f"{CUSTOM_PREFIX}{name}", N_("custom (Jinja2)"), render, source=body, reasoning="field", reasoning_field=True
    )


_SAMPLE = Example(
    id="sample",
    dataset_id=0,
    content=ExampleContent(
        system_prompt="A system prompt.", user_prompt="A question?", output="An answer.", reasoning="Some thinking."
    ),
    meta=ExampleMeta(model="a-model", desirability=True),
    created_at=datetime(2025, 1, 1, tzinfo=UTC),
    updated_at=datetime(2025, 1, 1, tzinfo=UTC),
)


def checked_format(name: str, body: str) -> ExportFormat:
    """The format, compiled and tried on a sample example: a body that passes a sandbox limit there is
    refused (TemplateLimitError names the limit). Other errors may depend on the data, so they wait
    for the export."""
    fmt = custom_format(name, body)
    try:
        list(fmt.render(_SAMPLE))
    except TemplateLimitError:
        raise
    except TemplateError:
        pass
    return fmt
