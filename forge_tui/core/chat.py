"""What is said to a model and what comes back, independent of the server's wire format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["system", "user", "assistant", "tool"]
# How a server is asked for structured output (core.structured_output).
StructuredMode = Literal["json_schema", "json_object", "text"]


class ToolCall(BaseModel):
    """One call, normalised: arguments are always a JSON object (Ollama sends objects, OpenAI strings)."""

    model_config = ConfigDict(frozen=True)

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    id: str | None = None


class ChatMessage(BaseModel):
    role: Role
    content: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    tool_call_id: str | None = None


class ToolDef(BaseModel):
    """An OpenAI-style function tool: name, description and JSON-schema parameters."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


class ChatRequest(BaseModel):
    model: str
    messages: list[ChatMessage]
    stream: bool = True
    temperature: float | None = None
    seed: int | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] = Field(default_factory=list)
    # Ollama only; other servers ignore them.
    num_ctx: int | None = None
    keep_alive: str | None = None
    # Anthropic only: extended thinking with this many tokens to think in (its minimum is 1024).
    thinking_budget: int | None = Field(default=None, ge=1024)
    tools: list[ToolDef] = Field(default_factory=list)
    # A JSON schema the answer must follow (structured output), and how the server is asked for it
    # (core.structured_output: "json_schema", "json_object" or "text"; in_mode sets it).
    response_schema: dict[str, Any] | None = None
    structured_mode: StructuredMode = "json_schema"


class Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_ms: float | None = None
    load_ms: float | None = None
    prompt_ms: float | None = None
    generation_ms: float | None = None
    # True when the server reported no counts and completion_tokens is the number of streamed deltas.
    estimated: bool = False

    @property
    def tokens_per_second(self) -> float | None:
        if self.completion_tokens and self.generation_ms:
            return self.completion_tokens / (self.generation_ms / 1000)
        return None


@dataclass(slots=True)
class ChatChunk:
    """A piece of a streamed answer. The last one has done=True and carries usage and tool calls.

    A plain slotted dataclass rather than a pydantic model: one is made per streamed token, and the
    backends build it from values they have already checked."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    done: bool = False
    done_reason: str | None = None
    usage: Usage | None = None


class ChatResult(BaseModel):
    """A whole answer, gathered from its chunks."""

    content: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    done_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)


class ModelInfo(BaseModel):
    name: str
    size: int | None = None
    family: str | None = None
    parameter_size: str | None = None
    quantization: str | None = None
    context_length: int | None = None
    capabilities: list[str] = Field(default_factory=list)
    modified_at: str | None = None

    @property
    def size_text(self) -> str:
        if not self.size:
            return "—"
        value = float(self.size)
        for unit in ("B", "KB", "MB", "GB", "TB"):
            if value < 1000 or unit == "TB":
                return f"{value:.0f} {unit}" if unit in ("B", "KB") else f"{value:.1f} {unit}"
            value /= 1000
        return "—"  # pragma: no cover


class Health(BaseModel):
    """`busy` (with `ok` false): the server took the connection but said it was busy or did not answer
    in time. It is there, at work on something else: llama.cpp's server answers nothing, not even its
    model list, while it serves its one request."""

    ok: bool
    base_url: str
    kind: str
    version: str | None = None
    message: str = ""
    busy: bool = False
