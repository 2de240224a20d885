"""A fine-tuned adapter as an Ollama model: its Modelfile and the equivalent /api/create request.

The Modelfile (docs/modelfile.mdx) says `FROM` the base, `ADAPTER` the adapter folder or GGUF, the
`TEMPLATE` of the chat format trained on and its stop tokens as `PARAMETER stop`, then the parameters
the user sets. The request carries the same, as `ollama create` builds it from that file
(parser.CreateRequest): parameters typed as Ollama's Options declare them, stop a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from forge_tui.core.chat_templates import chat_template
from forge_tui.core.errors import InvalidInput
from forge_tui.i18n import _

__all__ = [
    "PARAMETER_TYPES",
    "ModelfileSpec",
    "create_request",
    "parse_parameter",
    "render_modelfile",
    "user_parameters",
]

# api.Options and api.Runner: each parameter a Modelfile may set, with its type
PARAMETER_TYPES: dict[str, type] = {
    "num_ctx": int,
    "num_batch": int,
    "num_gpu": int,
    "main_gpu": int,
    "use_mmap": bool,
    "num_thread": int,
    "num_keep": int,
    "seed": int,
    "num_predict": int,
    "top_k": int,
    "top_p": float,
    "min_p": float,
    "typical_p": float,
    "repeat_last_n": int,
    "temperature": float,
    "repeat_penalty": float,
    "presence_penalty": float,
    "frequency_penalty": float,
    "stop": list,
}
_TRUE = ("1", "t", "true", "T", "TRUE", "True")
_FALSE = ("0", "f", "false", "F", "FALSE", "False")


@dataclass(frozen=True)
class ModelfileSpec:
    """What a deployed model is made of. `adapter` is the path the ADAPTER line names (relative to the
    Modelfile's folder); `parameters` are (name, value) pairs as the user wrote them."""

    base: str
    adapter: str
    chat_format: str
    parameters: tuple[tuple[str, str], ...] = ()
    system: str | None = None


def parse_parameter(text: str) -> tuple[str, str]:
    """`name=value` (or `name value`) as a checked pair; InvalidInput names what is wrong."""
    name, sep, value = text.partition("=")
    if not sep:
        name, _space, value = text.strip().partition(" ")
    name, value = name.strip(), value.strip()
    if name not in PARAMETER_TYPES:
        raise InvalidInput(
            _("'{name}' is not a parameter Ollama knows (known: {known}).").format(
                name=name[:40], known=", ".join(PARAMETER_TYPES)
            )
        )
    if not value:
        raise InvalidInput(_("The parameter '{name}' needs a value, like {name}=0.7.").format(name=name))
    _typed(name, value)
    return name, value


def _typed(name: str, value: str) -> Any:
    kind = PARAMETER_TYPES[name]
    try:
        if kind is int:
            return int(value)
        if kind is float:
            return float(value)
    except ValueError:
        raise InvalidInput(
            _("The parameter '{name}' takes a number, not '{value}'.").format(name=name, value=value[:40])
        ) from None
    if kind is bool:
        if value not in _TRUE + _FALSE:
            raise InvalidInput(
                _("The parameter '{name}' is true or false, not '{value}'.").format(name=name, value=value[:40])
            )
        return value in _TRUE
    return value


def _parameters(spec: ModelfileSpec) -> list[tuple[str, str]]:
    """Every PARAMETER line's (name, value): the chat format's stop tokens first, then the user's."""
    stops = [("stop", s) for s in chat_template(spec.chat_format).stop]
    return stops + [p for p in spec.parameters if p not in stops]


def _quoted(text: str) -> str:
    """A Modelfile argument as parser.quote writes it: in quotes when it has a newline or outer spaces."""
    if "\n" in text or text != text.strip():
        return f'"""{text}"""' if '"' in text else f'"{text}"'
    return text


def _block(text: str) -> str:
    if '"""' in text:
        raise InvalidInput(_('A Modelfile cannot hold a template or system prompt that contains """.'))
    return f'"""{text}"""'


def render_modelfile(spec: ModelfileSpec) -> str:
    """The Modelfile's text."""
    template = chat_template(spec.chat_format)
    lines = [
        f"# Made by forge-tui: the {spec.chat_format} chat format ({template.name} in Ollama).",
        f"FROM {_quoted(spec.base)}",
        f"ADAPTER {_quoted(spec.adapter)}",
        f"TEMPLATE {_block(template.template)}",
    ]
    if spec.system:
        lines.append(f"SYSTEM {_block(spec.system)}")
    for name, value in _parameters(spec):
        shown = f'"{value}"' if name == "stop" else _quoted(value)
        lines.append(f"PARAMETER {name} {shown}")
    return "\n".join(lines) + "\n"


def create_request(spec: ModelfileSpec, name: str, adapters: Mapping[str, str]) -> dict[str, Any]:
    """The /api/create body for the spec: `adapters` maps each adapter file's name to its blob digest."""
    parameters: dict[str, Any] = {}
    for key, value in _parameters(spec):
        if key == "stop":
            parameters.setdefault("stop", []).append(value)
        else:
            parameters[key] = _typed(key, value)
    body: dict[str, Any] = {
        "model": name,
        "from": spec.base,
        "adapters": dict(adapters),
        "template": chat_template(spec.chat_format).template,
        "parameters": parameters,
        "stream": True,
    }
    if spec.system:
        body["system"] = spec.system
    return body


def user_parameters(texts: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Each `name=value` the user gave, checked."""
    return tuple(parse_parameter(t) for t in texts)
