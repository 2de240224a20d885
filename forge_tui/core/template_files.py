"""Templates as files (TOML or JSON) to share and keep in git.

A file holds one template:

    name = "Q&A pair on a topic"
    system_prompt = "You are …"
    user_prompt = "Write a question about {{ topic }} …"
    tool_calling = false

    [[slots]]
    name = "topic"
    description = "…"
    default = "photosynthesis"
    values = [{ value = "tides", weight = 2.0 }]

    [[tools]]            # OpenAI function tools: {type = "function", function = {name, description, parameters}}

JSON files carry the same keys.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

import tomli_w
from pydantic import ValidationError

from forge_tui.core.templates import SlotDef, TemplateError, TemplateInfo, check_template_name, check_tool
from forge_tui.i18n import _

FILE_TYPES = ("toml", "json")
_KNOWN_KEYS = {"name", "system_prompt", "user_prompt", "tool_calling", "is_tool_calling", "slots", "tools"}


def to_document(template: TemplateInfo) -> dict[str, Any]:
    slots = []
    for slot in template.slots:
        entry: dict[str, Any] = {"name": slot.name}
        if slot.description:
            entry["description"] = slot.description
        entry["default"] = slot.default
        if slot.values:
            entry["values"] = [{"value": v.value, "weight": v.weight} for v in slot.values]
        slots.append(entry)
    return {
        "name": template.name,
        "system_prompt": template.system_prompt,
        "user_prompt": template.user_prompt,
        "tool_calling": template.is_tool_calling,
        "slots": slots,
        "tools": [t.to_openai() for t in template.tools],
    }


def dump(template: TemplateInfo, file_type: str) -> str:
    document = to_document(template)
    if file_type == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if file_type != "toml":
        raise TemplateError(_("a template file is .toml or .json, not .{type}").format(type=file_type))
    try:
        return tomli_w.dumps(document, multiline_strings=True)
    except TypeError as exc:  # TOML has no null: a tool schema with `null` in it
        raise TemplateError(
            _("this template cannot be written as TOML ({problem}); export it as .json").format(problem=exc)
        ) from None


def file_type_of(filename: str, text: str) -> str:
    """By the extension, else by the content: JSON starts with '{'."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in FILE_TYPES:
        return suffix
    return "json" if text.lstrip().startswith("{") else "toml"


def parse(text: str, file_type: str) -> TemplateInfo:
    """A template from a file's text; TemplateError says what is wrong and, where it can, on which line."""
    if file_type == "json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TemplateError(_("not valid JSON: {problem}").format(problem=exc.msg), exc.lineno) from None
    else:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TemplateError(_("not valid TOML: {problem}").format(problem=exc)) from None
    if not isinstance(raw, dict):
        raise TemplateError(_("a template file holds one object with name, user_prompt, slots and tools"))
    return from_document(raw)


def from_document(raw: dict[str, Any]) -> TemplateInfo:
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise TemplateError(
            _("unknown keys {unknown}; a template file has {known}").format(
                unknown=unknown, known=sorted(_KNOWN_KEYS - {"is_tool_calling"})
            )
        )
    name = raw.get("name")
    if not isinstance(name, str):
        raise TemplateError(_("the template file needs a name"))
    for key in ("system_prompt", "user_prompt"):
        if not isinstance(raw.get(key, ""), str):
            raise TemplateError(_("{key} must be text").format(key=key))
    tool_calling = raw.get("tool_calling", raw.get("is_tool_calling", False))
    if not isinstance(tool_calling, bool):
        raise TemplateError(_("tool_calling is true or false"))
    raw_slots = raw.get("slots", [])
    raw_tools = raw.get("tools", [])
    if not isinstance(raw_slots, list) or not isinstance(raw_tools, list):
        raise TemplateError(_("slots and tools are lists"))
    slots = []
    for index, item in enumerate(raw_slots, start=1):
        try:
            slots.append(SlotDef.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'slot'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise TemplateError(_("slot {index}: {problem}").format(index=index, problem=problems)) from None
    tools = []
    for index, item in enumerate(raw_tools, start=1):
        try:
            tools.append(check_tool(item))
        except TemplateError as exc:
            raise TemplateError(_("tool {index}: {problem}").format(index=index, problem=exc.reason)) from None
    return TemplateInfo(
        name=check_template_name(name),
        system_prompt=raw.get("system_prompt", ""),
        user_prompt=raw.get("user_prompt", ""),
        slots=slots,
        is_tool_calling=tool_calling,
        tools=tools,
    ).check()
