"""Prompt templates: slots, sandboxed rendering, and tool definitions (no I/O).

User prompts are Jinja2 with `{{ slot }}` placeholders, rendered in a sandbox with StrictUndefined:
a template cannot reach Python internals (`''.__class__.__mro__`, `cycler.__init__.__globals__`, …),
a missing slot is an error, not an empty string, and a render that passes one of the sandbox's limits
(size, steps, time: see core.sandbox) stops with TemplateLimitError naming the limit.
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema
from jinja2 import Template, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError
from pydantic import BaseModel, Field, field_validator

from forge_tui.core import sandbox
from forge_tui.core.chat import ToolDef
from forge_tui.core.control_chars import refuse_control_chars
from forge_tui.core.errors import ForgeError
from forge_tui.core.template_sizes import LimitExceeded
from forge_tui.i18n import N_, _

SLOT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SYSTEM_PROMPT_PROBLEM = N_("system prompt: {problem}")
USER_PROMPT_PROBLEM = N_("user prompt: {problem}")


class TemplateError(ForgeError):
    """A template that cannot be rendered; `line` is 1-based when known."""

    exit_code = 2

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(_("line {line}: {problem}").format(line=line, problem=message) if line else message)
        self.reason = message
        self.line = line


class TemplateSecurityError(TemplateError):
    """The template tried to reach something the sandbox forbids."""


class TemplateLimitError(TemplateError):
    """The render went past one of the sandbox's limits (size, steps, time), named in the message."""


class WeightedValue(BaseModel):
    value: str
    weight: float = Field(default=1.0, ge=0)


class SlotDef(BaseModel):
    name: str
    description: str = ""
    default: str = ""
    # Values for unattended generation, drawn in proportion to their weights.
    values: list[WeightedValue] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _valid_name(cls, name: str) -> str:
        if not SLOT_NAME.match(name):
            raise ValueError(_("a slot name is letters, digits and _, starting with a letter or _ (at most 64)"))
        return name


def _parse(source: str) -> nodes.Template:
    try:
        return sandbox.ENVIRONMENT.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or _("syntax error"), exc.lineno) from None
    except RecursionError:
        raise TemplateError(_("the template nests too deeply")) from None


def slot_names(source: str) -> list[str]:
    """The variables a template uses, from Jinja's AST, in order of first use."""
    tree = _parse(source)
    try:  # this compiles the tree: an unknown filter or test shows only here
        used = meta.find_undeclared_variables(tree)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or _("syntax error"), exc.lineno) from None
    ordered: list[str] = []
    for node in tree.find_all(nodes.Name):
        if node.name in used and node.name not in ordered and node.ctx == "load":
            ordered.append(node.name)
    return ordered


def compile_source(source: str) -> Template:
    """A template parsed once, to render many times with render_compiled."""
    tree = _parse(source)
    try:
        return sandbox.compile_tree(tree)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or _("syntax error"), exc.lineno) from None
    except RecursionError:
        raise TemplateError(_("the template nests too deeply")) from None


def render(source: str, values: dict[str, Any]) -> str:
    """Renders in the sandbox. Missing slots, syntax errors, escapes and limits raise TemplateError.
    Each render has sandbox.TIME_LIMIT seconds, or what an enclosing `sandbox.time_limit` allows."""
    return render_compiled(compile_source(source), values)


def render_compiled(template: Template, values: dict[str, Any]) -> str:
    try:
        return sandbox.render(template, values)
    except LimitExceeded as exc:
        raise TemplateLimitError(str(exc), _error_line(exc)) from None
    except sandbox.RenderStopped as exc:
        raise TemplateError(str(exc)) from None
    except SecurityError as exc:
        raise TemplateSecurityError(_("not allowed in a template: {problem}").format(problem=exc)) from None
    except UndefinedError as exc:
        raise TemplateError(_undefined_message(str(exc)), _error_line(exc)) from None
    except RecursionError as exc:
        raise TemplateError(_("the template calls itself too deeply"), _error_line(exc)) from None
    except Exception as exc:  # anything else a template expression can raise (e.g. 1/0, bad filter args)
        raise TemplateError(f"{type(exc).__name__}: {exc}", _error_line(exc)) from None


def _undefined_message(text: str) -> str:
    match = re.match(r"'(\w+)' is undefined", text)
    return _("slot '{name}' has no value").format(name=match.group(1)) if match else text


def _error_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def dummy_values(slots: list[SlotDef], names: list[str]) -> dict[str, str]:
    """Values for a preview: each slot's default, else a visible placeholder."""
    defined = {s.name: s for s in slots}
    return {n: (defined[n].default if n in defined and defined[n].default else f"<{n}>") for n in names}


def slot_warnings(source: str, slots: list[SlotDef]) -> list[str]:
    """Slots used but not defined, and defined but unused."""
    used = slot_names(source)
    defined = [s.name for s in slots]
    warnings = [
        _("'{name}' is used in the prompt but not defined as a slot").format(name=n) for n in used if n not in defined
    ]
    warnings += [
        _("slot '{name}' is defined but not used in the prompt").format(name=n) for n in defined if n not in used
    ]
    return warnings


def check_tool(raw: Any) -> ToolDef:
    """An OpenAI-style function tool, checked: name, description, and parameters that are a valid JSON
    schema of type object. Accepts the bare function or the {"type": "function", "function": …} wrapper."""
    if not isinstance(raw, dict):
        raise TemplateError(_("a tool is a JSON object"))
    if raw.get("type") == "function" and isinstance(raw.get("function"), dict):
        raw = raw["function"]
    name = raw.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise TemplateError(_("a tool needs a name of 1–64 letters, digits, '_' or '-'"))
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise TemplateError(_("tool '{name}': description must be text").format(name=name))
    parameters = raw.get("parameters", {"type": "object", "properties": {}})
    if not isinstance(parameters, dict) or parameters.get("type") != "object":
        raise TemplateError(
            _('tool \'{name}\': parameters must be a JSON schema with "type": "object"').format(name=name)
        )
    try:
        jsonschema.Draft202012Validator.check_schema(parameters)
    except jsonschema.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "parameters"
        raise TemplateError(
            _("tool '{name}': invalid schema at {where}: {problem}").format(name=name, where=where, problem=exc.message)
        ) from None
    required = parameters.get("required", [])
    properties = parameters.get("properties", {})
    missing = [r for r in required if r not in properties]
    if missing:
        raise TemplateError(
            _("tool '{name}': required {missing} not among the properties").format(name=name, missing=missing)
        )
    return ToolDef(name=name, description=description, parameters=parameters)


def check_tool_arguments(tool: ToolDef, arguments: dict[str, Any]) -> list[str]:
    """Problems with a call's arguments against the tool's schema (empty when they fit)."""
    validator = jsonschema.Draft202012Validator(tool.parameters)
    return [
        f"{'/'.join(str(p) for p in error.path) or 'arguments'}: {error.message}"
        for error in validator.iter_errors(arguments)
    ]


def check_template_name(name: str) -> str:
    refuse_control_chars(name, N_("A template name"), TemplateError)
    name = " ".join(name.split())
    if not name:
        raise TemplateError(_("A template needs a name."))
    if len(name) > 120:
        raise TemplateError(_("A template name is at most 120 characters."))
    return name


class TemplateInfo(BaseModel):
    """A prompt template as the screens and the CLI see it (sealed at rest, as example content is)."""

    id: int | None = None
    name: str
    system_prompt: str = ""
    user_prompt: str = ""
    slots: list[SlotDef] = Field(default_factory=list)
    is_tool_calling: bool = False
    tools: list[ToolDef] = Field(default_factory=list)
    archived: bool = False

    def slot(self, name: str) -> SlotDef | None:
        return next((s for s in self.slots if s.name == name), None)

    def used_slots(self) -> list[str]:
        """Slots the prompts use, system prompt first, in order of first use."""
        names = slot_names(self.system_prompt)
        return names + [n for n in slot_names(self.user_prompt) if n not in names]

    def check(self) -> TemplateInfo:
        """Raises TemplateError when the prompts do not parse, slot names repeat, or a tool-calling
        template has no tools."""
        for label, source in ((SYSTEM_PROMPT_PROBLEM, self.system_prompt), (USER_PROMPT_PROBLEM, self.user_prompt)):
            try:
                slot_names(source)
            except TemplateError as exc:
                error = TemplateError(_(label).format(problem=exc))
                error.line = exc.line
                raise error from None
        seen: set[str] = set()
        for slot in self.slots:
            if slot.name in seen:
                raise TemplateError(_("two slots are named '{name}'").format(name=slot.name))
            seen.add(slot.name)
        tool_names = [t.name for t in self.tools]
        duplicate = next((n for n in tool_names if tool_names.count(n) > 1), None)
        if duplicate:
            raise TemplateError(_("two tools are named '{name}'").format(name=duplicate))
        if self.is_tool_calling and not self.tools:
            raise TemplateError(_("a tool-calling template needs at least one tool"))
        self._check_limits()
        return self

    def _check_limits(self) -> None:
        """Renders with the preview's values and refuses a template that passes a sandbox limit. Other
        render errors may go away with real slot values, so they wait for the render that has them."""
        values = dummy_values(self.slots, self.used_slots())
        with sandbox.time_limit(sandbox.TIME_LIMIT):
            for label, source in ((SYSTEM_PROMPT_PROBLEM, self.system_prompt), (USER_PROMPT_PROBLEM, self.user_prompt)):
                try:
                    render(source, values)
                except TemplateLimitError as exc:
                    error = TemplateLimitError(_(label).format(problem=exc))
                    error.line = exc.line
                    raise error from None
                except TemplateError:
                    pass
