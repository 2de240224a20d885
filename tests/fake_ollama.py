"""A faithful fake Ollama server: a real HTTP/1.1 server on 127.0.0.1 speaking Ollama's wire format.

Standard library only. It runs an asyncio server on a background thread's event loop with its own
minimal HTTP/1.1 parsing, so per-token latency, queueing, dropped connections and hundreds of
concurrent keep-alive connections behave like the real thing. Field names, status codes and error
texts follow Ollama 0.12.6 (`api/types.go`, `server/routes.go`).

    with FakeOllama(token_latency=0.01) as fake:
        httpx.post(f"{fake.base_url}/api/chat", json={...})

Switches (`token_latency`, `first_byte_delay`, `parallel`, `busy`, `rate_limited`, `retry_after`,
`fail_after_chunks`, `drop_after_chunks`, `fixed_reply`, `replies_by_prompt_substring`, `faults_by_seed`,
`redirect_to`, `html_error`,
`bad_line`, `endless`, `invalid_tool_calls`, `capacity`, `serve_metrics`, and for /v1 only `api_key`,
`omit_usage`, `omit_done`, `think_in_content`, `accepted_formats`, `listing_waits`) may be changed while
the server runs;
each request reads them when it gets to the point where they matter. Observations:
`requests` (each chat body as the client sent it, on either API), `max_in_flight`, `in_flight`,
`disconnects`, `connections_accepted`, `refused`, and `keep_alive_requests` (each load or unload sent to
/api/generate: an empty prompt with `keep_alive: 0` unloads the model, without it loads it; /api/ps
follows). `POST /api/embed` and `POST /v1/embeddings` answer in Ollama's wire shapes with
`fake_embedding(text)`: deterministic vectors of the text's words.

Model management, as Ollama's handlers answer: `POST /api/pull` streams ProgressResponse lines
(`pulling manifest`, `pulling <12 hex>` with digest/total/completed per layer, `verifying sha256 digest`,
`writing manifest`, `success`) for a model of `registry` (or one installed already), then installs it;
an unknown name ends in `{"error": PULL_UNKNOWN_ERROR}`, `disk_full` in the ENOSPC error halfway
through the first layer; `stream: false` answers the last status, or the error with 500; `pull_steps`
and `pull_delay` shape the progress, and a client that leaves cancels the pull. Each pull's outcome is
in `pulls`. `DELETE /api/delete` and `POST /api/copy` answer 200 with an empty body or Ollama's 404.

Creating models, as HeadBlobHandler, CreateBlobHandler and CreateHandler answer: `HEAD /api/blobs/<digest>`
200 or 404; `POST /api/blobs/<digest>` stores the body in `blobs` (201, 200 when held; 400 "digest mismatch,
expected …, got …" when its sha256 is another); each is recorded in `blob_requests`. `POST /api/create` (each
body in `creates`) takes `from` (pulled from `registry` when not installed, else PULL_UNKNOWN_ERROR), `files`,
`adapters` (one GGUF, or adapter_config.json with its safetensors, converted for llama and gemma2 bases only:
"unsupported architecture" otherwise), `template`, `system`, `license`, `messages`, `quantize` (F16, BF16 and
F32 bases only, as Ollama) and `parameters` (merged over the base's); it
streams status lines to `{"status": "success"}`, an error as a last line once a status was sent (before
that, as a JSON answer with Ollama's status), and installs the model: /api/tags lists it, /api/show gives
its template, parameters, parent model and an ADAPTER line per adapter blob.

Replies to /api/chat are deterministic: a hash of (model, messages, options.seed) seeds the text, so
the same request gets the same answer and another seed another one. In order of precedence:

* `fixed_reply` set: the content is exactly that text (no tool call, no think tags), streamed in pieces;
* `judge_model` set and the request is for that model (issue 18's "until N pass"): a judge's verdict
  as JSON text, `{"score": S, "criteria": {...}, "reason": "...", "verdict": null}`, where S is
  `judge_fail_score` for one request in `judge_fail_every` (chosen by a hash of the messages, so the
  same answer always gets the same score) and `judge_pass_score` otherwise;
* `replies_by_prompt_substring` (a dict, in insertion order): the first key found in the contents of the
  request's messages gives the reply, as `fixed_reply` does (a judge whose scores are known);
* `tools` given and the last message is not a "tool" result: one chunk with `message.tool_calls`
  ([{"function": {"index": 0, "name": <first tool>, "arguments": {...from its JSON schema}}}]); while
  `invalid_tool_calls` is above 0, each such answer counts it down and leaves the schema's required
  arguments out (what small models do), so the call does not fit the schema;
* `format` given: JSON text valid for the schema (arrays: 3 distinct items unless minItems/maxItems say
  otherwise; objects: every listed property), or {"response": "..."} for "json";
* otherwise a few sentences of plain words, 20-60 pieces.

A model with the "thinking" capability streams `message.thinking` pieces first when `think` is true;
without `think` its content starts with "<think>\n...\n</think>\n\n" (with `think: false` an empty
"<think>\n\n</think>\n\n"), which clients must strip. `options.stop` cuts the content before the first
stop string; `options.num_predict` caps the pieces (thinking included) and sets done_reason "length".
`endless` makes a model that never stops: plain sentences stream until `num_predict` (OpenAI's
`max_tokens`) pieces were sent, then done_reason "length"; without a cap, until the client leaves (a
whole, unstreamed response never comes).
`eval_count` is the number of chunks before the final one; `prompt_eval_count` the number of
whitespace-separated words in all message contents (at least 1).

`rate_limited` answers chat requests on both APIs with 429 and `Retry-After: <retry_after>` (Ollama
itself never does; a proxy in front of it would).

`capacity` (None: off) makes a server that pushes back as vLLM behind a gateway or a loaded llama.cpp
does: it processes up to `capacity` chat requests at once (instead of `parallel`), answers one more
with 429 and `Retry-After: <retry_after>` (counted in `refused`), and slows down with load: each token
takes `token_latency × (1 + LOAD_SLOWDOWN × in flight / capacity)`. `serve_metrics` serves `GET
/metrics` in vLLM's Prometheus text (`vllm:num_requests_running`, `vllm:num_requests_waiting`).

Misbehaviour of what may stand between a client and Ollama (a proxy, or another server on the port):
`redirect_to` answers every request with 307 and `Location: <redirect_to><path>` (a proxy that moved,
http to https); `html_error` answers chat requests on both APIs with that status and a proxy's HTML
error page (`PROXY_ERROR_PAGE`); `bad_line` is sent as a stream's second line (on /v1 as a `data:`
event), as it is, and the stream carries on; a whole (unstreamed) answer is that text instead.

The OpenAI-compatible API (Ollama's `openai` middleware, `middleware/openai.go` and `openai/openai.go`
of 0.12.6) is served too: `GET /v1/models`, `GET /v1/models/{model}` and `POST /v1/chat/completions`.
A chat request is translated as Ollama translates it (max_tokens -> num_predict, stop, seed,
temperature and top_p defaulting to 1.0, response_format json_schema -> format = its schema,
json_object -> "json", reasoning_effort / reasoning.effort -> think with "none" meaning false) and
answered by the same generator, so a request gets the same text on both APIs. Streaming is SSE:
`data: {chat.completion.chunk}` events, each delta carrying role "assistant" and content (thinking in
`reasoning`), then a chunk with finish_reason ("tool_calls" once a call was sent), then with
`stream_options.include_usage` a chunk with `"choices": []` and `usage`, then `data: [DONE]`. Tool call
arguments are a JSON string (keys sorted, as Go marshals a map); unlike Ollama, which sends each call
whole, the fake splits the string over three chunks (id, type and name only in the first) as OpenAI
does, so clients must reassemble it. Since Ollama 0.12.4 a thinking model thinks unless told not to,
so on /v1 qwen3 streams `reasoning` deltas and clean content; `think_in_content` makes it write
"<think>...</think>" into content instead (Ollama before 0.12.4, vLLM without a reasoning parser,
llama.cpp with --reasoning-format none). Errors are {"error": {"message", "type", "param": null,
"code": null}} with the native status (type "api_error" for errors of the chat handler, as Ollama's
writeError says; "invalid_request_error" for requests the middleware rejects). `fail_after_chunks`
ends the SSE stream with a `data: {"error": {...}}` event and no [DONE] (what OpenAI and vLLM send;
Ollama 0.12.6 itself turns a mid-stream error into an empty chunk and stops), `drop_after_chunks`
closes the connection, `omit_usage` ignores include_usage (as llama-cpp-python does), `omit_done`
ends the body cleanly without [DONE], and with `api_key` set /v1 wants `Authorization: Bearer <key>`
(else 401).

`accepted_formats` makes /v1 check `response_format.type` as llama-cpp-python's server does (0.3.x: a
pydantic Literal of "text" and "json_object", and its route handler turns the failed validation into a
500 with the pydantic error as the message, `LLAMA_CPP_FORMAT_ERROR`): a type not in the tuple is answered
500 before anything is generated; a `json_object` with a `schema` beside it is answered by that schema
(llama-cpp-python builds a grammar from it), one without it by "json". `("text", "json_object")` is
llama-cpp-python; `("text",)` a server that takes no structured output at all. None: Ollama's middleware.

Run it in the foreground with ``python -m tests.fake_ollama --port 11434 [--token-latency 0.02]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import random
import re
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from types import TracebackType
from typing import Any

__all__ = ["DEFAULT_MODELS", "FakeModel", "FakeOllama", "KeepAliveRequest", "default_models"]

BUSY_ERROR = "server busy, please try again.  maximum pending requests exceeded"
STREAM_ERROR = "an error was encountered while running the model: unexpected EOF"
RATE_LIMIT_ERROR = "too many requests, please retry later"
AUTH_ERROR = "invalid api key"
# What llama-cpp-python 0.3.x's server says (500, type "internal_server_error") to a response_format
# type its pydantic model does not list; `expected` is "'text' or 'json_object'" there.
LLAMA_CPP_FORMAT_ERROR = (
    "1 validation error:\n  {{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
    "'msg': \"Input should be {expected}\", 'input': '{got}', 'ctx': {{'expected': \"{expected}\"}}}}\n\n"
    '  File "/usr/lib/python3/site-packages/llama_cpp/server/app.py", line 376, in create_chat_completion\n'
    "    POST /v1/chat/completions"
)
_MAX_HEAD = 64 * 1024
LOAD_SLOWDOWN = 0.25  # with `capacity`: a token takes this much longer at full load
FAULT_AFTER_CHUNKS = 3
_REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Request Entity Too Large",
    307: "Temporary Redirect",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
PROXY_ERROR_PAGE = """<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
    html { color-scheme: light dark; }
    body { width: 35em; margin: 0 auto; font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""
_JSON_TYPE = "application/json; charset=utf-8"
_TEXT_TYPE = "text/plain; charset=utf-8"
_OPENAI_JSON_TYPE = "application/json"  # what Ollama's openai middleware sets
_SSE_TYPE = "text/event-stream"
_CALL_ID_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


# --------------------------------------------------------------------------------------------- models


@dataclass
class FakeModel:
    """One installed model, as /api/tags and /api/show describe it."""

    name: str
    family: str = "llama"
    parameter_size: str = "3.2B"
    quantization_level: str = "Q4_K_M"
    size: int = 2_019_393_189
    context_length: int = 131_072
    capabilities: list[str] = field(default_factory=lambda: ["completion", "tools"])
    license: str = ""
    # Set by /api/create: what the Modelfile gave (None/empty: the family's own), the adapter blobs, the base.
    template: str | None = None
    system: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    adapters: list[str] = field(default_factory=list)
    parent_model: str = ""
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def canonical(self) -> str:
        return _canonical_name(self.name)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.canonical.encode()).hexdigest()

    @property
    def parameter_count(self) -> int:
        match = re.fullmatch(r"([\d.]+)\s*([KMBT]?)", self.parameter_size.strip(), re.IGNORECASE)
        if not match:
            return 1_000_000_000
        scale = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}[match.group(2).upper()]
        return round(float(match.group(1)) * scale)

    @property
    def modified_unix(self) -> int:
        """The modification time in whole seconds, as /v1/models reports it in `created`."""
        return 1_756_000_000 + int(self.digest[:6], 16) % 3_000_000

    @property
    def modified_at(self) -> str:
        """A stable RFC 3339 timestamp with nanoseconds and a local offset, as Go marshals a file mtime."""
        nanos = int(self.digest[6:14], 16) % 1_000_000_000
        return _rfc3339(self.modified_unix * 1_000_000_000 + nanos, offset_minutes=-7 * 60)

    @property
    def namespace(self) -> str:
        """`model.ParseName(name).Namespace`: /v1/models reports it as `owned_by`."""
        return _namespace(self.name)

    def details(self) -> dict[str, Any]:
        return {
            "parent_model": self.parent_model,
            "format": "gguf",
            "family": self.family,
            "families": [self.family],
            "parameter_size": self.parameter_size,
            "quantization_level": self.quantization_level,
        }


def default_models() -> list[FakeModel]:
    """Fresh copies of the default models: llama3.2:latest (tools) and qwen3:0.6b (tools, thinking)."""
    return [
        FakeModel(
            name="llama3.2:latest",
            family="llama",
            parameter_size="3.2B",
            quantization_level="Q4_K_M",
            size=2_019_393_189,
            context_length=131_072,
            capabilities=["completion", "tools"],
        ),
        FakeModel(
            name="qwen3:0.6b",
            family="qwen3",
            parameter_size="751.63M",
            quantization_level="Q4_K_M",
            size=522_653_767,
            context_length=40_960,
            capabilities=["completion", "tools", "thinking"],
        ),
    ]


DEFAULT_MODELS: tuple[FakeModel, ...] = tuple(default_models())


def registry_models() -> list[FakeModel]:
    """What the fake's registry offers to /api/pull: gemma3:270m (small) and llava:7b (vision)."""
    return [
        FakeModel(
            name="gemma3:270m",
            family="gemma3",
            parameter_size="268.10M",
            quantization_level="Q8_0",
            size=291_554_930,
            context_length=32_768,
            capabilities=["completion"],
            license="Gemma Terms of Use",
        ),
        FakeModel(
            name="llava:7b",
            family="llama",
            parameter_size="7B",
            quantization_level="Q4_0",
            size=4_733_363_377,
            context_length=32_768,
            capabilities=["completion", "vision"],
            license="Apache License 2.0",
        ),
    ]


PULL_UNKNOWN_ERROR = "pull model manifest: file does not exist"
DISK_FULL_ERROR = "write /usr/share/ollama/.ollama/models/blobs/sha256-{digest}-partial: no space left on device"


def pull_layers(m: FakeModel) -> list[tuple[str, int]]:
    """(digest, size) of each blob a pull of `m` downloads: the weights, template, params and config."""
    sizes = [max(m.size - 2_000, 1_000), 1_200, 300, 500]
    return [(f"sha256:{hashlib.sha256(f'{m.canonical}#{i}'.encode()).hexdigest()}", n) for i, n in enumerate(sizes)]


def _canonical_name(name: str) -> str:
    """Ollama matches names case-insensitively and adds the ":latest" tag when none is given."""
    name = name.strip().lower()
    for prefix in ("registry.ollama.ai/library/", "registry.ollama.ai/"):
        if name.startswith(prefix):
            name = name[len(prefix) :]
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name


def _namespace(name: str) -> str:
    parts = name.split(":", 1)[0].split("/")
    return parts[-2] if len(parts) >= 2 else "library"


# ------------------------------------------------------------------------------------- text helpers


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_ADJ = _words(
    "quiet bright old small gentle careful steady simple clear warm green narrow plain hidden quick "
    "patient curious humble bold late"
)
_NOUN = _words(
    "river lantern bridge garden window teacher engine market letter forest harbor signal kitchen "
    "library mountain student village record answer pattern method journey table question"
)
_VERB = _words(
    "carries follows builds finds keeps reads opens shows guides checks explains holds marks "
    "measures describes connects prepares collects"
)
_ADV = _words("slowly quietly often carefully always rarely gladly simply")
_PREP = _words("across near under beside through behind toward around")
_DET = _words("the a every one that this")

# A token: the think tags whole (one special token each, as real tokenizers have them), a word, or one
# other character, each with the whitespace in front of it.
_TOKEN_RE = re.compile(r"\s*(?:</?think>|\w+|[^\w\s])")


def _pieces(text: str) -> list[str]:
    """Split text into stream pieces whose concatenation is exactly `text`."""
    pieces = _TOKEN_RE.findall(text)
    joined = "".join(pieces)
    if joined != text:  # trailing whitespace only
        rest = text[len(joined) :]
        if pieces:
            pieces[-1] += rest
        else:
            pieces = [rest]
    return pieces


EMBEDDING_DIMS = 64


def fake_embedding(text: str) -> list[float]:
    """A deterministic vector of the text's words (each word hashed onto signed dimensions, then
    L2-normalised): texts sharing most words point the same way, as real embeddings of rewordings do."""
    vector = [0.0] * EMBEDDING_DIMS
    for word in text.casefold().split():
        digest = hashlib.blake2b(word.strip(".,;:!?").encode(), digest_size=8).digest()
        for at in range(0, 8, 2):
            vector[digest[at] % EMBEDDING_DIMS] += 1.0 if digest[at + 1] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


def _sentence(rng: random.Random) -> str:
    pattern = rng.randrange(4)
    a, n, v, d, p = rng.choice, _NOUN, _VERB, _DET, _PREP
    if pattern == 0:
        words = ["the", a(_ADJ), a(n), a(v), a(d), a(n), a(p), "the", a(_ADJ), a(n)]
    elif pattern == 1:
        words = [a(d), a(n), a(v), a(_ADV), a(p), "the", a(n)]
    elif pattern == 2:
        words = ["every", a(n), a(v), "a", a(_ADJ), a(n), "and", a(v), "the", a(n)]
    else:
        words = ["a", a(_ADJ), a(n), a(_ADV), a(v), "the", a(_ADJ), a(n), a(p), "the", a(n)]
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, min_tokens: int = 20, max_tokens: int = 60) -> str:
    target = rng.randint(min_tokens, max_tokens)
    sentences: list[str] = []
    count = 0
    while count < min_tokens or (count < target and rng.random() < 0.85):
        sentence = _sentence(rng)
        size = len(_pieces(sentence))
        if count >= min_tokens and count + size > max_tokens:
            break
        sentences.append(sentence)
        count += size
    return " ".join(sentences)


def _thought(rng: random.Random) -> str:
    return (
        f"Okay, the user wants something about the {rng.choice(_ADJ)} {rng.choice(_NOUN)}. "
        f"Let me think about the {rng.choice(_NOUN)} and the {rng.choice(_NOUN)} first. "
        "I should answer briefly and clearly."
    )


# ----------------------------------------------------------------------------- JSON schema values


def _resolve_ref(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    node: Any = root
    if ref.startswith("#/"):
        for part in ref[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


def _value_for_schema(
    schema: Any, rng: random.Random, root: dict[str, Any], *, short: bool = False, depth: int = 0
) -> Any:
    """A value valid for a (practical subset of) JSON Schema: type, properties, required, items,
    minItems/maxItems, enum, const, anyOf/oneOf/allOf, $ref, minimum/maximum, minLength/maxLength."""
    if not isinstance(schema, dict) or depth > 12:
        return _phrase(rng) if short else _sentence(rng)
    if "$ref" in schema and isinstance(schema["$ref"], str):
        merged = {**_resolve_ref(schema["$ref"], root), **{k: v for k, v in schema.items() if k != "$ref"}}
        return _value_for_schema(merged, rng, root, short=short, depth=depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return _value_for_schema((usable or options)[0], rng, root, short=short, depth=depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged.update(part)
        return _value_for_schema(merged, rng, root, short=short, depth=depth + 1)

    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "array" if "items" in schema else "string"

    if kind == "object":
        props = schema.get("properties")
        out: dict[str, Any] = {}
        if isinstance(props, dict):
            for name, sub in props.items():
                out[name] = _value_for_schema(sub, rng, root, short=short, depth=depth + 1)
        return out
    if kind == "array":
        lo = schema.get("minItems")
        hi = schema.get("maxItems")
        count = 3
        if isinstance(lo, int):
            count = max(count, lo)
        if isinstance(hi, int):
            count = min(count, hi)
        items = schema.get("items", {})
        values: list[Any] = []
        seen: set[str] = set()
        attempts = 0
        while len(values) < count and attempts < count * 20:
            attempts += 1
            value = _value_for_schema(items, rng, root, short=short, depth=depth + 1)
            key = json.dumps(value, sort_keys=True)
            if key in seen and attempts < count * 10:
                continue  # prefer distinct items (paraphrases must differ)
            if key in seen and isinstance(value, str):
                value = f"{value[:-1]} {len(values) + 1}." if value.endswith(".") else f"{value} {len(values) + 1}"
                key = json.dumps(value, sort_keys=True)
            seen.add(key)
            values.append(value)
        return values
    if kind == "integer":
        lo_i = _bound(schema, "minimum", "exclusiveMinimum", 1, 0)
        hi_i = _bound(schema, "maximum", "exclusiveMaximum", -1, lo_i + 100)
        return rng.randint(lo_i, max(lo_i, hi_i))
    if kind == "number":
        lo_f = float(schema.get("minimum", 0.0))
        hi_f = float(schema.get("maximum", lo_f + 100.0))
        return round(rng.uniform(lo_f, max(lo_f, hi_f)), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    text = _phrase(rng) if short else _sentence(rng)
    min_len = schema.get("minLength")
    max_len = schema.get("maxLength")
    if isinstance(min_len, int):
        while len(text) < min_len:
            text += " " + _phrase(rng)
    if isinstance(max_len, int):
        text = text[:max_len]
    return text


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, step: int, default: int) -> int:
    value = schema.get(inclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    value = schema.get(exclusive)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value) + step
    return default


def _phrase(rng: random.Random) -> str:
    return f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}"


def _format_content(fmt: Any, rng: random.Random) -> str:
    """The assistant text for a `format` request: JSON text valid for the schema (or any object)."""
    value = _value_for_schema(fmt, rng, fmt) if isinstance(fmt, dict) else {"response": _sentence(rng)}
    return json.dumps(value, ensure_ascii=False)


def _format_problem(fmt: Any) -> str | None:
    if fmt is None or fmt == "" or fmt == "json" or isinstance(fmt, dict):
        return None
    raw = json.dumps(fmt)
    return f'invalid format: {json.dumps(raw)}; expected "json" or a valid JSON Schema object'


# ------------------------------------------------------------------------- /v1 request translation


def _go_dynamic_type(value: Any) -> str:
    """Go's %T of a value json.Unmarshal put in an `any`."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return "[]interface {}" if isinstance(value, list) else "string"


def _unmarshal_error(value: Any, field_name: str, go_type: str) -> str:
    return (
        f"json: cannot unmarshal {_go_type_name(value) if not isinstance(value, dict) else 'object'} into Go struct "
        f"field ChatCompletionRequest.{field_name} of type {go_type}"
    )


def _from_openai_tool_calls(raw: Any) -> tuple[list[dict[str, Any]], str | None]:
    """OpenAI tool calls (arguments as a JSON string) to Ollama's (arguments as an object)."""
    calls: list[dict[str, Any]] = []
    for call in raw if isinstance(raw, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        function = function if isinstance(function, dict) else {}
        try:
            arguments = json.loads(function.get("arguments") or "")
        except (TypeError, json.JSONDecodeError):
            return [], "invalid tool call arguments"
        if not isinstance(arguments, dict):
            return [], "invalid tool call arguments"
        calls.append({"function": {"name": str(function.get("name") or ""), "arguments": arguments}})
    return calls, None


def _name_from_tool_call_id(messages: list[Any], call_id: Any) -> str:
    for message in reversed(messages):  # "last one wins", as Ollama does
        for call in (message.get("tool_calls") or []) if isinstance(message, dict) else []:
            if isinstance(call, dict) and call.get("id") == call_id:
                function = call.get("function")
                return str(function.get("name") or "") if isinstance(function, dict) else ""
    return ""


def _native_message(
    role: str, content: str, calls: list[dict[str, Any]], tool_name: str, thinking: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": role, "content": content}
    if thinking:
        message["thinking"] = thinking
    if calls:
        message["tool_calls"] = calls
    if tool_name:
        message["tool_name"] = tool_name
    return message


def _from_openai_request(r: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """An OpenAI chat request as the /api/chat request Ollama's `openai.FromChatRequest` makes of it,
    or the message of the 400 its middleware answers with."""
    model = r.get("model")
    if model is not None and not isinstance(model, str):
        return None, _unmarshal_error(model, "model", "string")
    raw_messages = r.get("messages")
    if raw_messages is not None and not isinstance(raw_messages, list):
        return None, _unmarshal_error(raw_messages, "messages", "[]openai.Message")
    for key, go_type in (("max_tokens", "int"), ("seed", "int")):
        value = r.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            return None, _unmarshal_error(value, key, go_type)
    for key in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
        value = r.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            return None, _unmarshal_error(value, key, "float64")
    stream = r.get("stream")
    if stream is not None and not isinstance(stream, bool):
        return None, _unmarshal_error(stream, "stream", "bool")
    if not raw_messages:
        return None, "[] is too short - 'messages'"

    messages: list[dict[str, Any]] = []
    for msg in raw_messages:
        if not isinstance(msg, dict):
            return None, _unmarshal_error(msg, "messages", "openai.Message")
        role = str(msg.get("role") or "")
        tool_name = ""
        if role.lower() == "tool":
            tool_name = str(msg.get("name") or "")
            if not tool_name and msg.get("tool_call_id"):
                tool_name = _name_from_tool_call_id(raw_messages, msg["tool_call_id"])
        content = msg.get("content")
        calls, problem = _from_openai_tool_calls(msg.get("tool_calls"))
        if problem is not None:
            return None, problem
        if isinstance(content, str):
            messages.append(_native_message(role, content, calls, tool_name, msg.get("reasoning")))
        elif isinstance(content, list):
            for part in content:
                kind = part.get("type") if isinstance(part, dict) else None
                if kind == "text" and isinstance(part.get("text"), str):
                    messages.append({"role": role, "content": part["text"]})
                elif kind == "image_url" and isinstance(part.get("image_url"), str | dict):
                    messages.append({"role": role, "content": "", "images": [json.dumps(part["image_url"])[:64]]})
                else:
                    return None, "invalid message format"
            if messages and calls:
                messages[-1]["tool_calls"] = calls
                if tool_name:
                    messages[-1]["tool_name"] = tool_name
        else:
            if msg.get("tool_calls") is None:  # content is only optional when tool calls are present
                return None, f"invalid message content type: {_go_dynamic_type(content)}"
            messages.append(_native_message(role, "", calls, "", msg.get("reasoning")))

    options: dict[str, Any] = {}
    stop = r.get("stop")
    if isinstance(stop, str):
        options["stop"] = [stop]
    elif isinstance(stop, list):
        options["stop"] = [s for s in stop if isinstance(s, str)]
    if r.get("max_tokens") is not None:
        options["num_predict"] = r["max_tokens"]
    options["temperature"] = r["temperature"] if r.get("temperature") is not None else 1.0
    for key in ("seed", "frequency_penalty", "presence_penalty"):
        if r.get(key) is not None:
            options[key] = r[key]
    options["top_p"] = r["top_p"] if r.get("top_p") is not None else 1.0

    fmt: Any = None
    response_format = r.get("response_format")
    if isinstance(response_format, dict):
        kind = str(response_format.get("type") or "").strip().lower()
        if kind == "json_object":
            fmt = "json"
        elif kind == "json_schema" and isinstance(response_format.get("json_schema"), dict):
            fmt = response_format["json_schema"].get("schema")

    reasoning = r.get("reasoning")
    effort = reasoning.get("effort") if isinstance(reasoning, dict) else r.get("reasoning_effort")
    think: Any = None
    if effort:
        if effort not in ("high", "medium", "low", "none"):
            return None, f'invalid reasoning value: \'{effort}\' (must be "high", "medium", "low", or "none")'
        think = False if effort == "none" else effort

    tools = r.get("tools")
    return {
        "model": model or "",
        "messages": messages,
        "format": fmt,
        "options": options,
        "stream": stream is True,
        "tools": tools if isinstance(tools, list) else [],
        "think": think,
    }, None


def _without_required(call: dict[str, Any], tools: list[Any]) -> dict[str, Any]:
    """The call with the arguments its tool's schema requires left out."""
    function = call["function"]
    required: set[str] = set()
    for tool in tools:
        spec = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(spec, dict) and spec.get("name") == function["name"]:
            params = spec.get("parameters")
            listed = params.get("required") if isinstance(params, dict) else None
            required = {r for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
    arguments = {k: v for k, v in function["arguments"].items() if k not in required}
    return {"function": {**function, "arguments": arguments}}


def _split_arguments(text: str, parts: int = 3) -> list[str]:
    """A JSON string cut into `parts` pieces (fewer if it is shorter), as OpenAI streams arguments."""
    count = max(1, min(parts, len(text)))
    bounds = [len(text) * i // count for i in range(count + 1)]
    return [text[bounds[i] : bounds[i + 1]] for i in range(count)]


# ----------------------------------------------------------------------------------- wire helpers


def _go_json(value: Any, *, sort_keys: bool = False) -> bytes:
    """Compact JSON as Go's encoding/json writes it (UTF-8, with <, >, & and U+2028/9 escaped; a Go map
    has its keys sorted)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
    if any(c in text for c in "<>&\u2028\u2029"):
        text = (
            text.replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
            .replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")
        )
    return text.encode()


def _rfc3339(ns: int, offset_minutes: int = 0) -> str:
    """RFC 3339 with nanoseconds, trailing zeros trimmed, like Go's time.RFC3339Nano."""
    local = ns + offset_minutes * 60 * 1_000_000_000
    seconds, frac = divmod(local, 1_000_000_000)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    digits = f"{frac:09d}".rstrip("0")
    if digits:
        text += "." + digits
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


_DIGEST_RE = re.compile(r"sha256[:-][0-9a-fA-F]{64}")


def _valid_path(path: str) -> bool:
    """Go's fs.ValidPath: a relative, slash-separated path without "." or ".." elements."""
    return path == "." or (bool(path) and all(part not in ("", ".", "..") for part in path.split("/")))


def _files_kind(files: dict[str, str]) -> str | None:
    """detectModelTypeFromFiles: "safetensors" or "gguf" by the names' endings (None: neither)."""
    for name in files:
        if name.endswith(".safetensors"):
            return "safetensors"
        if name.endswith(".gguf"):
            return "gguf"
    return None


def _missing_blob(digest: str) -> str:
    return f"open /usr/share/ollama/.ollama/models/blobs/{digest.replace(':', '-')}: no such file or directory"


def _param_text(value: Any) -> str:
    """A parameter's value as `ollama show` prints it (Go's %v)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _now() -> str:
    return _rfc3339(time.time_ns())


def _keep_alive_seconds(value: Any) -> float | None:
    """Seconds from an Ollama keep_alive (number of seconds or a Go duration like "5m"); None if unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        with contextlib.suppress(ValueError):
            return float(text)
        total = 0.0
        units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
        sign = -1.0 if text.startswith("-") else 1.0
        parts = re.findall(r"([\d.]+)(ns|us|µs|ms|s|m|h)", text)
        if not parts:
            return None
        for number, unit in parts:
            total += float(number) * units[unit]
        return sign * total
    return None


def _json_error_text(body: str, exc: json.JSONDecodeError) -> str:
    """Roughly what Go's encoding/json says for a malformed body."""
    if exc.pos >= len(body.rstrip()):
        return "unexpected EOF"
    char = body[exc.pos]
    for python_msg, go_context in (
        ("Expecting property name", "looking for beginning of object key string"),
        ("Expecting value", "looking for beginning of value"),
        ("Expecting ':' delimiter", "after object key"),
        ("Expecting ',' delimiter", "after object key:value pair"),
        ("Extra data", "after top-level value"),
    ):
        if exc.msg.startswith(python_msg):
            return f"invalid character '{char}' {go_context}"
    return f"invalid character '{char}' in JSON body"


def _go_type_name(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return "null"


# ------------------------------------------------------------------------------------ HTTP plumbing


class _HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


class _Conn:
    """One accepted connection, with a byte buffer of its own so a watcher can read ahead for EOF."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = False
        self.client_gone = False
        self.completed = False  # the current response has been written in full
        self.task: asyncio.Task[Any] | None = None
        self.watcher: asyncio.Task[None] | None = None

    async def fill(self) -> bool:
        if self.eof:
            return False
        try:
            data = await self.reader.read(65536)
        except (ConnectionError, OSError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    async def read_head(self) -> bytes | None:
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.buf[:end])
                del self.buf[: end + 4]
                return head
            if len(self.buf) > _MAX_HEAD:
                raise _HttpError(431)
            if not await self.fill():
                if self.buf.strip():
                    raise _HttpError(400)
                return None

    async def read_exact(self, size: int) -> bytes:
        while len(self.buf) < size:
            if not await self.fill():
                raise ConnectionResetError("client closed the connection mid-body")
        data = bytes(self.buf[:size])
        del self.buf[:size]
        return data

    async def read_line(self) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[: end + 2]
                return line
            if len(self.buf) > _MAX_HEAD:
                raise _HttpError(400)
            if not await self.fill():
                raise ConnectionResetError("client closed the connection mid-body")

    async def read_request(self) -> _Request | None:
        head = await self.read_head()
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        while lines and not lines[0]:  # tolerate stray CRLFs between requests
            lines.pop(0)
        parts = lines[0].split(" ") if lines else []
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _HttpError(400)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _HttpError(400)
            headers[name.strip().lower()] = value.strip()
        request = _Request(parts[0].upper(), parts[1], parts[2], headers)
        if headers.get("expect", "").lower() == "100-continue":
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = (await self.read_line()).split(b";", 1)[0].strip()
                try:
                    size = int(size_line, 16)
                except ValueError as exc:
                    raise _HttpError(400) from exc
                if size == 0:
                    while await self.read_line():  # trailers
                        pass
                    break
                chunks.append(await self.read_exact(size))
                await self.read_exact(2)
            request.body = b"".join(chunks)
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError as exc:
                raise _HttpError(400) from exc
            if length < 0:
                raise _HttpError(400)
            if length > 256 * 1024 * 1024:
                raise _HttpError(413)
            request.body = await self.read_exact(length)
        return request


@dataclass(frozen=True)
class KeepAliveRequest:
    """A load or unload sent to /api/generate, with what the server was doing when it came."""

    body: dict[str, Any]  # as the client sent it
    chats_in_flight: int  # chat requests holding a processing slot at that moment
    chats_received: int  # len(requests) at that moment: the chat requests that came before it
    at: float  # time.monotonic()

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def unload(self) -> bool:
        return _keep_alive_seconds(self.body.get("keep_alive")) == 0


class _ClientGone(Exception):
    """The client went away while its chat request was queued or streaming."""


class _Slots:
    """A FIFO semaphore whose size is read from the owner on every decision (OLLAMA_NUM_PARALLEL)."""

    def __init__(self, owner: FakeOllama) -> None:
        self._owner = owner
        self._active = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def active(self) -> int:
        return self._active

    @property
    def waiting(self) -> int:
        return sum(1 for w in self._waiters if not w.done())

    def _limit(self) -> int:
        capacity = self._owner.capacity
        return max(1, int(self._owner.parallel if capacity is None else capacity))

    async def acquire(self) -> None:
        if self._active < self._limit() and not self._waiters:
            self._active += 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self._active -= 1
        self.wake()

    def wake(self) -> None:
        while self._waiters and self._active < self._limit():
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(None)


# -------------------------------------------------------------------------------------- the plan


@dataclass
class _Plan:
    """What one chat request will produce, decided before it is queued."""

    model: str  # as the client spelled it; Ollama echoes req.Model
    canonical: str
    stream: bool
    thinking: list[str]
    content: list[str]
    tool_calls: list[dict[str, Any]] | None
    done_reason: str
    prompt_eval_count: int
    keep_alive: float | None
    wire: str = "ollama"  # "ollama" (/api/chat, NDJSON) or "openai" (/v1/chat/completions, SSE)
    include_usage: bool = False  # openai: stream_options.include_usage
    fault: str | None = None  # "fail", "drop" or "stall" after FAULT_AFTER_CHUNKS, from `faults_by_seed`
    endless: random.Random | None = None  # `endless` without a cap: more content from this, for good
    admitted: bool = False  # counted against `capacity` (until its last bytes are about to be written)

    @property
    def chunk_count(self) -> int:
        return len(self.thinking) + len(self.content) + (1 if self.tool_calls else 0)


def _content(plan: _Plan) -> Iterator[str]:
    """The plan's content pieces; for an endless plan, more sentences after them, for good."""
    yield from plan.content
    rng = plan.endless
    while rng is not None:
        yield from _pieces(" " + _sentence(rng))


# ---------------------------------------------------------------------------------------- server


class FakeOllama:
    """A real HTTP server on 127.0.0.1 that answers like Ollama. See the module docstring."""

    def __init__(
        self,
        models: list[FakeModel] | None = None,
        *,
        token_latency: float = 0.0,
        first_byte_delay: float = 0.0,
        parallel: int = 4,
        version: str = "0.12.6",
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.models: list[FakeModel] = list(models) if models is not None else default_models()
        self.token_latency = token_latency
        self.first_byte_delay = first_byte_delay
        self._parallel = parallel
        self.version = version
        self.host = host
        self.port = port
        self.verbose = verbose
        self.busy = False
        self.rate_limited = False
        self.retry_after = 1
        self.capacity: int | None = None
        self.serve_metrics = False
        self.refused = 0  # chat requests answered 429 because `capacity` were in flight
        self._admitted = 0  # chat requests past the capacity check and not finished
        self.fail_after_chunks: int | None = None
        self.drop_after_chunks: int | None = None
        self.fixed_reply: str | None = None
        # Judge replies (issue 18): see the module's docstring.
        self.judge_model: str | None = None
        self.judge_fail_every = 3
        self.judge_pass_score = 9.0
        self.judge_fail_score = 3.0
        # Replies chosen by what the request says: the first key (in insertion order) found in any
        # message's content gives the reply, as `fixed_reply` would (a judge whose scores are known).
        self.replies_by_prompt_substring: dict[str, str] = {}
        self.invalid_tool_calls = 0
        self.endless = False
        # llama-cpp-python's server takes one lock around the model in every route, so while a chat
        # runs even GET /v1/models waits for it: with this on, the listing waits for a free slot.
        self.listing_waits = False
        # Faults for single requests, chosen by options.seed: "fail" (mid-stream error), "drop"
        # (connection cut mid-stream), "stall" (a stream that stops sending but stays open; a whole
        # response ignores it) or "404" (the model is gone). One card of a batch can fail this way.
        self.faults_by_seed: dict[int, str] = {}
        self.redirect_to: str | None = None
        self.html_error: int | None = None
        self.bad_line: str | None = None
        # /v1 only
        self.api_key: str | None = None
        self.omit_usage = False
        self.omit_done = False
        self.think_in_content = False
        self.accepted_formats: tuple[str, ...] | None = None
        self.requests: list[dict[str, Any]] = []
        # /api/generate loads and unloads (issue 17's pause that frees the GPU)
        self.keep_alive_requests: list[KeepAliveRequest] = []
        # /api/pull: the registry, the steps of progress per layer and the pause between them, a disk that
        # fills after the first steps, and what happened to each pull ("success", "cancelled", an error)
        self.registry: list[FakeModel] = registry_models()
        self.pull_steps = 4
        self.pull_delay = 0.0
        self.disk_full = False
        self.pulls: list[tuple[str, str]] = []
        # /api/blobs and /api/create: the blobs held (digest "sha256:<hex>" -> bytes), each blob request as
        # (method, digest as the path gave it), and each create request's body as the client sent it
        self.blobs: dict[str, bytes] = {}
        self.blob_requests: list[tuple[str, str]] = []
        self.creates: list[dict[str, Any]] = []
        self.max_in_flight = 0
        self.disconnects = 0
        self.connections_accepted = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()
        self._slots = _Slots(self)
        self._loaded: dict[str, tuple[float, FakeModel]] = {}
        self._stopping = False
        self._date_cache: tuple[int, str] = (0, "")

    # ---------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeOllama is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeOllama:
        if self._thread is not None:
            return self
        self._stopping = False
        self._slots = _Slots(self)
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run_loop, args=(loop,), name="fake-ollama", daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(timeout=10)
        except BaseException:
            self._halt_loop()
            raise
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None or self._thread is None:
            return
        if loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._astop(), loop).result(timeout=5)
        self._halt_loop()

    def _halt_loop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        self._loop = self._thread = None
        self._server = None

    def __enter__(self) -> FakeOllama:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.running else "stopped"
        return f"<FakeOllama {where} models={[m.name for m in self.models]}>"

    @staticmethod
    def _run_loop(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    async def _astart(self) -> None:
        self._server = await asyncio.start_server(
            self._serve_conn, self.host, self.port, backlog=2048, reuse_address=True, limit=_MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _astop(self) -> None:
        self._stopping = True
        server = self._server
        if server is not None:
            server.close()
        tasks = []
        for conn in list(self._conns):
            conn.writer.transport.abort()
            if conn.task is not None and not conn.task.done():
                conn.task.cancel()
                tasks.append(conn.task)
        if tasks:
            await asyncio.wait(tasks, timeout=2)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), timeout=1)

    # ---------------------------------------------------------------- switches and observations

    @property
    def parallel(self) -> int:
        return self._parallel

    @parallel.setter
    def parallel(self, value: int) -> None:
        self._parallel = value
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._slots.wake)

    @property
    def in_flight(self) -> int:
        """Chat requests holding a processing slot right now."""
        return self._slots.active

    @property
    def queued(self) -> int:
        """Chat requests waiting for a slot right now."""
        return self._slots.waiting

    def _leave(self, plan: _Plan) -> None:
        """The request stops counting against `capacity`: as vLLM frees a sequence's slot when it is
        generated, before the last bytes reach the client (which may send the next one at once)."""
        if plan.admitted:
            plan.admitted = False
            self._admitted -= 1

    def _token_delay(self) -> float:
        if self.capacity is None:
            return self.token_latency
        return self.token_latency * (1 + LOAD_SLOWDOWN * self._admitted / max(1, self.capacity))

    def reset_stats(self) -> None:
        """Forget recorded requests and counters (not the switches)."""
        with self._lock:
            self.requests.clear()
            self.keep_alive_requests.clear()
            self.max_in_flight = self._slots.active
            self.disconnects = 0
            self.connections_accepted = 0
            self.refused = 0

    def model(self, name: str) -> FakeModel | None:
        wanted = _canonical_name(name)
        return next((m for m in self.models if m.canonical == wanted), None)

    # ---------------------------------------------------------------- connection loop

    async def _serve_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(reader, writer)
        conn.task = asyncio.current_task()
        self._conns.add(conn)
        with self._lock:
            self.connections_accepted += 1
        try:
            while not self._stopping:
                try:
                    request = await conn.read_request()
                except _HttpError as exc:
                    await self._send(conn, None, exc.status, _TEXT_TYPE, f"{exc.status} {_REASONS[exc.status]}")
                    break
                if request is None:
                    break
                keep = await self._dispatch(conn, request)
                if self.verbose:
                    print(f"fake-ollama: {request.method} {request.path}", file=sys.stderr, flush=True)
                if not keep or conn.eof:
                    break
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop(): end quietly (asyncio 3.11 logs a cancelled connection task as an error)
        finally:
            self._conns.discard(conn)
            with contextlib.suppress(Exception):
                writer.close()

    async def _send(
        self,
        conn: _Conn,
        request: _Request | None,
        status: int,
        content_type: str,
        body: str | bytes,
        *,
        head_only: bool = False,
        extra_headers: list[tuple[str, str]] | None = None,
    ) -> bool:
        data = body.encode() if isinstance(body, str) else body
        keep = request is not None and request.keep_alive
        headers = [
            ("Content-Type", content_type),
            ("Date", self._date()),
            ("Content-Length", str(len(data))),
            *(extra_headers or []),
        ]
        if not keep:
            headers.append(("Connection", "close"))
        conn.writer.write(self._head(status, headers) + (b"" if head_only else data))
        conn.completed = True
        await conn.writer.drain()
        return keep

    async def _send_json(self, conn: _Conn, request: _Request, status: int, value: Any) -> bool:
        return await self._send(conn, request, status, _JSON_TYPE, _go_json(value), head_only=request.method == "HEAD")

    @staticmethod
    def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
        lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
        lines.extend(f"{k}: {v}" for k, v in headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _date(self) -> str:
        now = int(time.time())
        if self._date_cache[0] != now:
            self._date_cache = (now, formatdate(now, usegmt=True))
        return self._date_cache[1]

    async def _dispatch(self, conn: _Conn, request: _Request) -> bool:
        method, path = request.method, request.path
        if self.redirect_to is not None:
            moved = [("Location", self.redirect_to.rstrip("/") + path)]
            return await self._send(conn, request, 307, _TEXT_TYPE, "", extra_headers=moved)
        if path == "/" and method in ("GET", "HEAD"):
            return await self._send(conn, request, 200, _TEXT_TYPE, "Ollama is running", head_only=method == "HEAD")
        if path == "/api/version" and method in ("GET", "HEAD"):
            return await self._send_json(conn, request, 200, {"version": self.version})
        if path == "/api/tags" and method in ("GET", "HEAD"):
            return await self._send_json(conn, request, 200, self._tags())
        if path == "/api/ps" and method == "GET":
            return await self._send_json(conn, request, 200, self._ps())
        if path == "/api/show" and method == "POST":
            return await self._show(conn, request)
        if path == "/api/chat" and method == "POST":
            return await self._chat(conn, request)
        if path == "/api/generate" and method == "POST":
            return await self._generate(conn, request)
        if path == "/api/embed" and method == "POST":
            return await self._embed(conn, request)
        if path == "/api/pull" and method == "POST":
            return await self._pull(conn, request)
        if path == "/api/delete" and method == "DELETE":
            return await self._delete(conn, request)
        if path == "/api/copy" and method == "POST":
            return await self._copy(conn, request)
        if path.startswith("/api/blobs/") and method in ("HEAD", "POST"):
            return await self._blob(conn, request, path[len("/api/blobs/") :])
        if path == "/api/create" and method == "POST":
            return await self._create(conn, request)
        if path == "/metrics" and method == "GET" and self.serve_metrics:
            return await self._send(conn, request, 200, "text/plain; version=0.0.4", self._metrics())
        if path.startswith("/v1/") and method in ("GET", "POST"):
            return await self._openai(conn, request)
        return await self._send(conn, request, 404, "text/plain", "404 page not found", head_only=method == "HEAD")

    # ---------------------------------------------------------------- simple endpoints

    def _tags(self) -> dict[str, Any]:
        return {
            "models": [
                {
                    "name": m.name,
                    "model": m.name,
                    "modified_at": m.modified_at,
                    "size": m.size,
                    "digest": m.digest,
                    "details": m.details(),
                }
                for m in self.models
            ]
        }

    def _ps(self) -> dict[str, Any]:
        now = time.time()
        models = []
        for name, (expires, m) in list(self._loaded.items()):
            if expires <= now:
                del self._loaded[name]
                continue
            models.append(
                {
                    "name": m.name,
                    "model": m.name,
                    "size": m.size,
                    "digest": m.digest,
                    "details": m.details(),
                    "expires_at": _rfc3339(int(min(expires, 4_102_444_800) * 1e9)),
                    "size_vram": m.size,
                    "context_length": min(m.context_length, 4096),
                }
            )
        return {"models": models}

    def _metrics(self) -> str:
        """vLLM's gauges in Prometheus text, one sample per model."""
        lines = [
            "# HELP vllm:num_requests_running Number of requests in model execution batches.",
            "# TYPE vllm:num_requests_running gauge",
        ]
        models = [m.name for m in self.models] or ["none"]
        lines += [f'vllm:num_requests_running{{engine="0",model_name="{n}"}} {float(self.in_flight)}' for n in models]
        lines += [
            "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.",
            "# TYPE vllm:num_requests_waiting gauge",
        ]
        lines += [f'vllm:num_requests_waiting{{engine="0",model_name="{n}"}} {float(self.queued)}' for n in models]
        return "\n".join(lines) + "\n"

    async def _parse_body(self, conn: _Conn, request: _Request, type_name: str) -> dict[str, Any] | bool:
        """The JSON object in the body, or the keep-alive result of the 400 already sent."""
        text = request.body.decode("utf-8", errors="replace")
        if not text.strip():
            return await self._send_json(conn, request, 400, {"error": "missing request body"})
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return await self._send_json(conn, request, 400, {"error": _json_error_text(text, exc)})
        if not isinstance(data, dict):
            error = f"json: cannot unmarshal {_go_type_name(data)} into Go value of type {type_name}"
            return await self._send_json(conn, request, 400, {"error": error})
        return data

    async def _show(self, conn: _Conn, request: _Request) -> bool:
        data = await self._parse_body(conn, request, "api.ShowRequest")
        if isinstance(data, bool):
            return data
        name = data.get("model") or data.get("name")
        if not isinstance(name, str) or not name:
            return await self._send_json(conn, request, 400, {"error": "model is required"})
        m = self.model(name)
        if m is None:
            return await self._send_json(conn, request, 404, {"error": f"model '{name}' not found"})
        return await self._send_json(conn, request, 200, self._show_body(m))

    @staticmethod
    def _family_defaults(m: FakeModel) -> tuple[str, dict[str, Any]]:
        """The template and parameters a model of this family comes with (what a pull installs)."""
        if m.family.startswith("qwen"):
            template = (
                "{{- range $i, $_ := .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
                "{{ end }}<|im_start|>assistant\n"
            )
            params: dict[str, Any] = {"stop": ["<|im_start|>", "<|im_end|>"], "temperature": 0.6, "top_k": 20}
            params |= {"top_p": 0.95, "repeat_penalty": 1}
            return template, params
        template = (
            "<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
            "{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
            "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
        )
        return template, {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]}

    def _show_body(self, m: FakeModel) -> dict[str, Any]:
        template, params = self._family_defaults(m)
        if m.template is not None:
            template = m.template
        if m.parameters:
            params = dict(m.parameters)
        stops = [str(s) for s in params.get("stop") or []]
        others = {k: _param_text(v) for k, v in params.items() if k != "stop"}
        param_lines = [f'stop                           "{s}"' for s in stops]
        param_lines += [f"{k:<30} {v}" for k, v in others.items()]
        parameters = "\n".join(param_lines)
        blobs = "/usr/share/ollama/.ollama/models/blobs/"
        modelfile = (
            '# Modelfile generated by "ollama show"\n'
            "# To build a new Modelfile based on this, replace FROM with:\n"
            f"# FROM {m.name}\n\n"
            f"FROM {blobs}sha256-{m.digest}\n"
            + "".join(f"ADAPTER {blobs}{a.replace(':', '-')}\n" for a in m.adapters)
            + f'TEMPLATE """{template}"""\n'
            + (f'SYSTEM """{m.system}"""\n' if m.system else "")
            + "".join(f'PARAMETER stop "{s}"\n' for s in stops)
            + "".join(f"PARAMETER {k} {v}\n" for k, v in others.items())
        )
        body: dict[str, Any] = {
            "license": m.license,
            "modelfile": modelfile,
            "parameters": parameters,
            "template": template,
            "details": m.details(),
            "model_info": {
                "general.architecture": m.family,
                "general.basename": m.canonical.split(":")[0],
                "general.file_type": 15,
                "general.parameter_count": m.parameter_count,
                "general.quantization_version": 2,
                f"{m.family}.context_length": m.context_length,
                f"{m.family}.block_count": 28,
                f"{m.family}.embedding_length": 3072 if m.parameter_count > 2_000_000_000 else 1024,
                "tokenizer.ggml.model": "gpt2",
            },
            "capabilities": list(m.capabilities),
            "modified_at": m.modified_at,
        }
        if m.system:
            body["system"] = m.system
        if m.messages:
            body["messages"] = m.messages
        return body

    # ---------------------------------------------------------------- /api/pull, /api/delete, /api/copy

    def _registry_model(self, name: str) -> FakeModel | None:
        wanted = _canonical_name(name)
        return next((m for m in self.registry if m.canonical == wanted), self.model(name))

    def _pull_lines(self, m: FakeModel | None) -> Iterator[dict[str, Any]]:
        """The ProgressResponse objects of PullModel (server/images.go, download.go), an error last."""
        yield {"status": "pulling manifest"}
        if m is None:
            yield {"error": PULL_UNKNOWN_ERROR}
            return
        steps = max(self.pull_steps, 1)
        for index, (digest, total) in enumerate(pull_layers(m)):
            for step in range(steps + 1):
                if self.disk_full and (index, step) == (0, steps // 2 + 1):
                    yield {"error": DISK_FULL_ERROR.format(digest=digest[7:])}
                    return
                line: dict[str, Any] = {"status": f"pulling {digest[7:19]}", "digest": digest, "total": total}
                completed = total * step // steps
                if completed:
                    line["completed"] = completed
                yield line
        yield {"status": "verifying sha256 digest"}
        yield {"status": "writing manifest"}
        yield {"status": "success"}

    def _installed(self, m: FakeModel, name: str | None = None) -> None:
        copy = FakeModel(**{**m.__dict__, "name": name or m.canonical, "capabilities": list(m.capabilities)})
        self.models = [x for x in self.models if x.canonical != copy.canonical] + [copy]

    async def _pull(self, conn: _Conn, request: _Request) -> bool:
        """PullHandler: NDJSON progress (or with `stream: false` the last status, or the error with 500).
        A client that leaves cancels the pull, as the request's context does in Ollama."""
        data = await self._parse_body(conn, request, "api.PullRequest")
        if isinstance(data, bool):
            return data
        name = data.get("model") or data.get("name")
        if not isinstance(name, str) or not name.strip():
            return await self._send_json(conn, request, 400, {"error": "invalid model name"})
        m = self._registry_model(name)
        lines = list(self._pull_lines(m))
        error = lines[-1].get("error")
        if data.get("stream") is False:
            if self.pull_delay > 0:
                await asyncio.sleep(self.pull_delay * len(lines))
            self._pulled(name, m, error)
            if error is not None:
                return await self._send_json(conn, request, 500, {"error": error})
            return await self._send_json(conn, request, 200, {"status": "success"})
        chunked = request.version != "HTTP/1.0"
        keep = request.keep_alive and chunked
        headers = [("Content-Type", "application/x-ndjson"), ("Date", self._date())]
        headers += [("Transfer-Encoding", "chunked")] if chunked else [("Connection", "close")]
        conn.completed = False
        task = asyncio.current_task()
        assert task is not None
        watcher = asyncio.create_task(self._watch(conn, task))
        try:
            conn.writer.write(self._head(200, headers))
            for line in lines:
                if self.pull_delay > 0:
                    await asyncio.sleep(self.pull_delay)
                body = _go_json(line) + b"\n"
                conn.writer.write(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body)
                await conn.writer.drain()
            conn.writer.write(b"0\r\n\r\n" if chunked else b"")
            conn.completed = True
            await conn.writer.drain()
        except (asyncio.CancelledError, ConnectionError, OSError):
            if not conn.client_gone or self._stopping:
                raise
            task.uncancel()
            with self._lock:
                self.pulls.append((name, "cancelled"))
            return False
        finally:
            watcher.cancel()
            await asyncio.wait([watcher])
        self._pulled(name, m, error)
        return keep

    def _pulled(self, name: str, m: FakeModel | None, error: Any) -> None:
        if m is not None and error is None:
            self._installed(m)
        with self._lock:
            self.pulls.append((name, "success" if error is None else str(error)))

    async def _delete(self, conn: _Conn, request: _Request) -> bool:
        """DeleteHandler: 200 with an empty body, or 404 "model '<name>' not found"."""
        data = await self._parse_body(conn, request, "api.DeleteRequest")
        if isinstance(data, bool):
            return data
        name = data.get("model") or data.get("name") or ""
        m = self.model(name) if isinstance(name, str) and name else None
        if m is None:
            return await self._send_json(conn, request, 404, {"error": f"model '{name}' not found"})
        self.models = [x for x in self.models if x.canonical != m.canonical]
        self._loaded.pop(m.canonical, None)
        return await self._send(conn, request, 200, _TEXT_TYPE, "")

    async def _copy(self, conn: _Conn, request: _Request) -> bool:
        """CopyHandler: 200 with an empty body; 404 `model "<source>" not found`; 400 for a bad name."""
        data = await self._parse_body(conn, request, "api.CopyRequest")
        if isinstance(data, bool):
            return data
        source, destination = data.get("source", ""), data.get("destination", "")
        if not isinstance(source, str) or not source.strip():
            return await self._send_json(conn, request, 400, {"error": f'source "{source}" is invalid'})
        if not isinstance(destination, str) or not re.fullmatch(r"[A-Za-z0-9][\w.\-/]*(:[\w.\-]+)?", destination):
            return await self._send_json(conn, request, 400, {"error": f'destination "{destination}" is invalid'})
        m = self.model(source)
        if m is None:
            return await self._send_json(conn, request, 404, {"error": f'model "{source}" not found'})
        self._installed(m, _canonical_name(destination))
        return await self._send(conn, request, 200, _TEXT_TYPE, "")

    # ---------------------------------------------------------------- /api/blobs, /api/create

    async def _blob(self, conn: _Conn, request: _Request, digest: str) -> bool:
        """HeadBlobHandler and CreateBlobHandler: HEAD answers 200 or 404; POST stores the body under its
        digest (201; 200 when held already) or refuses a body whose sha256 is another (400)."""
        with self._lock:
            self.blob_requests.append((request.method, digest))
        if not _DIGEST_RE.fullmatch(digest):
            return await self._send_json(conn, request, 400, {"error": "invalid digest format"})
        held = self._held_blob(digest)
        if request.method == "HEAD":
            if held is None:
                return await self._send_json(conn, request, 404, {"error": f"blob {json.dumps(digest)} not found"})
            return await self._send(conn, request, 200, _TEXT_TYPE, "", head_only=True)
        if held is not None:
            return await self._send(conn, request, 200, _TEXT_TYPE, "")
        got = "sha256:" + hashlib.sha256(request.body).hexdigest()
        if got != digest:  # Ollama compares the strings as they are: "sha256-…" or upper case never match
            error = f"digest mismatch, expected {json.dumps(digest)}, got {json.dumps(got)}"
            return await self._send_json(conn, request, 400, {"error": error})
        self.blobs[got] = request.body
        return await self._send(conn, request, 201, _TEXT_TYPE, "")

    def _held_blob(self, digest: str) -> bytes | None:
        """The blob's bytes if the server holds it (the path replaces ':' with '-', so both spellings find it)."""
        if not isinstance(digest, str) or not _DIGEST_RE.fullmatch(digest):
            return None
        return self.blobs.get("sha256:" + digest[7:])

    async def _create(self, conn: _Conn, request: _Request) -> bool:
        """CreateHandler: checks the request, then streams ProgressResponse lines (an error as the last
        line once a status was sent, else as a JSON answer with its status), and installs the model."""
        data = await self._parse_body(conn, request, "api.CreateRequest")
        if isinstance(data, bool):
            return data
        with self._lock:
            self.creates.append(data)
        files, adapters = data.get("files"), data.get("adapters")
        for key, value in (("files", files), ("adapters", adapters)):
            if value is not None and (
                not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
            ):
                error = f"json: cannot unmarshal into Go struct field CreateRequest.{key} of type map[string]string"
                return await self._send_json(conn, request, 400, {"error": error})
        for path in files or {}:
            if not _valid_path(path):
                return await self._send_json(conn, request, 400, {"error": "file path must be relative"})
        for digest in [*(files or {}).values(), *(adapters or {}).values()]:
            if digest == "":
                return await self._send_json(conn, request, 400, {"error": "invalid digest format"})
        name = data.get("model") or data.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][\w.\-/]*(:[\w.\-]+)?", name):
            return await self._send_json(conn, request, 400, {"error": "invalid model name"})
        events, made = self._create_events(data, name, files or {}, adapters or {})
        if made is not None:
            self._installed(made)
        if data.get("stream") is False:
            last = events[-1]
            if "error" in last:
                return await self._send_json(conn, request, int(last.get("code", 500)), {"error": last["error"]})
            return await self._send_json(conn, request, 200, last)
        if "error" in events[0]:
            return await self._send_json(conn, request, int(events[0].get("code", 500)), {"error": events[0]["error"]})
        lines = [{"error": e["error"]} if "error" in e else e for e in events]
        return await self._send_ndjson(conn, request, lines)

    def _create_events(
        self, data: dict[str, Any], name: str, files: dict[str, str], adapters: dict[str, str]
    ) -> tuple[list[dict[str, Any]], FakeModel | None]:
        """What CreateHandler sends, in order, and the model it makes (None when it fails). An error is
        {"error": …, "code": the status it gets when nothing was sent before it}."""
        events: list[dict[str, Any]] = []
        source = data.get("from")
        base: FakeModel | None
        if isinstance(source, str) and source:
            base = self.model(source)
            if base is None:  # Ollama pulls a FROM it does not have
                pulled = list(
                    self._pull_lines(next((m for m in self.registry if m.canonical == _canonical_name(source)), None))
                )
                if "error" in pulled[-1]:
                    return [*pulled[:-1], {**pulled[-1], "code": 500}], None
                events += pulled[:-1]
                base = next(m for m in self.registry if m.canonical == _canonical_name(source))
            events.append({"status": f"using existing layer sha256:{base.digest}"})
        elif files:
            failed, base = self._model_from_files(files, name, events)
            if failed:
                return events, None
        else:
            return [{"error": "neither 'from' or 'files' was specified", "code": 400}], None
        assert base is not None
        if adapters and not self._adapter_layers(adapters, base, events):
            return events, None
        template = data.get("template")
        if isinstance(template, str) and template and template.count("{{") != template.count("}}"):
            return [*events, {"error": "template error: unclosed action", "code": 400}], None
        quantize = data.get("quantize") or data.get("quantization")
        if quantize and base.quantization_level.upper() not in ("F16", "BF16", "F32"):
            return [
                *events,
                {"error": "quantization is only supported for F16, BF16 and F32 models", "code": 500},
            ], None
        parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        system = data.get("system") if isinstance(data.get("system"), str) else ""
        licenses = data.get("license")
        license_text = "\n".join(licenses) if isinstance(licenses, list) else licenses or ""
        messages = data.get("messages") if isinstance(data.get("messages"), list) else []
        layers = (("template", template), ("system", system), ("license", license_text), ("params", parameters))
        for kind, given in (*layers, ("messages", messages)):
            if given:
                layer = hashlib.sha256(json.dumps([kind, given], sort_keys=True).encode()).hexdigest()
                events.append({"status": f"creating new layer sha256:{layer}"})
        events += [{"status": "writing manifest"}, {"status": "success"}]
        _, base_params = self._family_defaults(base)
        made = FakeModel(
            **{
                **base.__dict__,
                "name": _canonical_name(name),
                "capabilities": list(base.capabilities),
                "template": template if isinstance(template, str) and template else base.template,
                "system": system or base.system,
                "parameters": {**(base.parameters or base_params), **(parameters or {})},
                "adapters": [*base.adapters, *sorted(adapters.values())],
                "parent_model": base.canonical if isinstance(source, str) and source else "",
                "license": str(license_text) or base.license,
                "messages": messages or base.messages,
                "quantization_level": str(quantize).upper() if quantize else base.quantization_level,
                "size": base.size + sum(len(self._held_blob(d) or b"") for d in adapters.values()),
            }
        )
        return events, made

    def _model_from_files(
        self, files: dict[str, str], name: str, events: list[dict[str, Any]]
    ) -> tuple[bool, FakeModel | None]:
        """A model from uploaded GGUF or safetensors files: (failed, model); events get the statuses."""
        kind = _files_kind(files)
        if kind is None:
            events.append({"error": "unknown type", "code": 400})
            return True, None
        events.append({"status": "parsing GGUF" if kind == "gguf" else "converting model"})
        for digest in files.values():
            blob = self._held_blob(digest)
            if blob is None:
                events.append({"error": _missing_blob(digest), "code": 500})
                return True, None
            if kind == "gguf" and not blob.startswith(b"GGUF"):
                events.append({"error": "supplied file was not in GGUF format", "code": 400})
                return True, None
        events += [{"status": f"using existing layer {d}"} for d in sorted(files.values())]
        return False, FakeModel(
            name=name, family="llama", size=sum(len(self._held_blob(d) or b"") for d in files.values())
        )

    def _adapter_layers(self, adapters: dict[str, str], base: FakeModel, events: list[dict[str, Any]]) -> bool:
        """convertModelFromFiles for adapters: one GGUF, or a PEFT folder (adapter_config.json and its
        safetensors) that Ollama converts for llama and gemma2 bases only. False (with an error) on failure."""
        kind = _files_kind(adapters)
        if kind is None:
            events.append({"error": "unknown type", "code": 400})
            return False
        if kind == "gguf":
            if len(adapters) > 1:
                events.append({"error": "only one adapter is currently supported", "code": 400})
                return False
            events.append({"status": "parsing GGUF"})
            digest = next(iter(adapters.values()))
            blob = self._held_blob(digest)
            if blob is None:
                events.append({"error": _missing_blob(digest), "code": 400})
                return False
            if not blob.startswith(b"GGUF"):
                events.append({"error": "supplied file was not in GGUF format", "code": 400})
                return False
            events.append({"status": f"using existing layer {digest}"})
            return True
        events.append({"status": "converting adapter"})
        for needed in ("adapter_config.json", *sorted(n for n in adapters if n.endswith(".safetensors"))):
            if needed not in adapters or self._held_blob(adapters[needed]) is None:
                events.append({"error": f"open {needed}: no such file or directory", "code": 400})
                return False
        if base.family not in ("llama", "gemma2"):
            events.append({"error": "unsupported architecture", "code": 400})
            return False
        joined = "".join(sorted(adapters.values()))
        events.append({"status": f"creating new layer sha256:{hashlib.sha256(joined.encode()).hexdigest()}"})
        return True

    async def _send_ndjson(self, conn: _Conn, request: _Request, lines: list[dict[str, Any]]) -> bool:
        """A 200 answer of NDJSON lines, chunked (HTTP/1.1) as gin streams it."""
        chunked = request.version != "HTTP/1.0"
        keep = request.keep_alive and chunked
        headers = [("Content-Type", "application/x-ndjson"), ("Date", self._date())]
        headers += [("Transfer-Encoding", "chunked")] if chunked else [("Connection", "close")]
        conn.writer.write(self._head(200, headers))
        for line in lines:
            body = _go_json(line) + b"\n"
            conn.writer.write(b"%x\r\n%s\r\n" % (len(body), body) if chunked else body)
        conn.writer.write(b"0\r\n\r\n" if chunked else b"")
        conn.completed = True
        await conn.writer.drain()
        return keep

    # ---------------------------------------------------------------- /api/generate: load and unload

    async def _generate(self, conn: _Conn, request: _Request) -> bool:
        """Ollama's GenerateHandler for an empty prompt: `keep_alive: 0` unloads the model at once
        (done_reason "unload"), otherwise the model is loaded and kept `keep_alive` (done_reason "load").
        Each is recorded in `keep_alive_requests`; /api/ps follows. A prompt to complete is not served."""
        data = await self._parse_body(conn, request, "api.GenerateRequest")
        if isinstance(data, bool):
            return data
        name = data.get("model")
        if not isinstance(name, str) or not name.strip():
            return await self._send_json(conn, request, 400, {"error": "model is required"})
        m = self.model(name)
        if m is None:
            return await self._send_json(conn, request, 404, {"error": f"model '{name}' not found"})
        prompt = data.get("prompt")
        if prompt:
            return await self._send_json(
                conn, request, 501, {"error": "the fake serves /api/generate only to load and unload"}
            )
        keep_alive = _keep_alive_seconds(data.get("keep_alive"))
        with self._lock:
            self.keep_alive_requests.append(
                KeepAliveRequest(dict(data), self._slots.active, len(self.requests), time.monotonic())
            )
        if keep_alive == 0:
            self._loaded.pop(m.canonical, None)
            reason = "unload"
        else:
            expiry = 300.0 if keep_alive is None else keep_alive
            self._loaded[m.canonical] = (time.time() + (expiry if expiry >= 0 else 1e12), m)
            reason = "load"
        done = {"model": name, "created_at": _now(), "response": "", "done": True, "done_reason": reason}
        return await self._send_json(conn, request, 200, done)

    # ---------------------------------------------------------------- /api/chat

    async def _chat(self, conn: _Conn, request: _Request) -> bool:
        started = time.perf_counter_ns()
        data = await self._parse_body(conn, request, "api.ChatRequest")
        if isinstance(data, bool):
            return data
        with self._lock:
            self.requests.append(data)
        if self.html_error is not None:
            return await self._send(conn, request, self.html_error, "text/html", PROXY_ERROR_PAGE)
        if self.rate_limited:
            return await self._rate_limit(conn, request, {"error": RATE_LIMIT_ERROR}, _JSON_TYPE)
        return await self._chat_handler(conn, request, data, started)

    async def _rate_limit(self, conn: _Conn, request: _Request, body: Any, content_type: str) -> bool:
        retry = [("Retry-After", str(self.retry_after))]
        return await self._send(conn, request, 429, content_type, _go_json(body), extra_headers=retry)

    async def _chat_handler(
        self, conn: _Conn, request: _Request, data: dict[str, Any], started: int, *, include_usage: bool | None = None
    ) -> bool:
        """Ollama's ChatHandler. `include_usage` None: a native request; else one translated from /v1,
        whose errors are then wrapped as Ollama's openai middleware wraps them."""
        wire = "ollama" if include_usage is None else "openai"

        async def fail(status: int, error: str) -> bool:
            if wire == "openai":
                return await self._send_openai_error(conn, request, status, error)
            return await self._send_json(conn, request, status, {"error": error})

        name = data.get("model")
        if not isinstance(name, str) or not name.strip():
            return await fail(400, "model is required")
        m = self.model(name)
        if m is None:
            return await fail(404, f"model {json.dumps(name)} not found, try pulling it first")
        messages = data.get("messages")
        if messages is None:
            messages = []
        if not isinstance(messages, list) or not all(isinstance(x, dict) for x in messages):
            return await fail(
                400, "json: cannot unmarshal messages into Go struct field ChatRequest.messages of type api.Message"
            )
        raw_options = data.get("options")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        raw_tools = data.get("tools")
        tools: list[Any] = raw_tools if isinstance(raw_tools, list) else []
        think = data.get("think")
        keep_alive = _keep_alive_seconds(data.get("keep_alive"))
        quoted = json.dumps(name)

        if not messages and keep_alive == 0:
            self._loaded.pop(m.canonical, None)
            return await self._send_json(conn, request, 200, self._bare_done(name, "unload"))
        if tools and "tools" not in m.capabilities:
            return await fail(400, f"registry.ollama.ai/library/{m.canonical} does not support tools")
        if "thinking" not in m.capabilities and think is True:
            return await fail(400, f"{quoted} does not support thinking")
        if isinstance(think, str) and m.family != "gptoss":
            return await fail(400, f"think value {json.dumps(think)} is not supported for this model")
        problem = _format_problem(data.get("format"))
        if problem is not None:
            return await fail(500, problem)
        if self.busy:
            return await fail(503, BUSY_ERROR)
        seed = options.get("seed")
        fault = self.faults_by_seed.get(seed) if isinstance(seed, int) else None
        if fault == "404":
            return await fail(404, f"model {json.dumps(name)} not found, try pulling it first")

        plan = self._plan(name, m, data, messages, options, tools, think, keep_alive)
        plan.fault = fault
        if include_usage is not None:
            plan.wire = "openai"
            plan.include_usage = include_usage
        return await self._run_chat(conn, request, plan, m, started, empty=not messages)

    def _reply_by_substring(self, messages: list[dict[str, Any]]) -> str | None:
        replies = dict(self.replies_by_prompt_substring)
        if not replies:
            return None
        said = "\n".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))
        return next((reply for key, reply in replies.items() if key in said), None)

    @staticmethod
    def _bare_done(model: str, reason: str) -> dict[str, Any]:
        return {
            "model": model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done_reason": reason,
            "done": True,
        }

    def _judge_reply(self, messages: list[dict[str, Any]]) -> str:
        digest = hashlib.sha256(json.dumps(messages, sort_keys=True, default=str).encode()).digest()
        fails = int.from_bytes(digest[:8], "big") % max(1, self.judge_fail_every) == 0
        score = self.judge_fail_score if fails else self.judge_pass_score
        criteria = ("content_quality", "alignment", "factual_correctness", "format", "training_usefulness")
        reason = "The answer misses the point." if fails else "The answer is clear and correct."
        verdict = {"score": score, "criteria": dict.fromkeys(criteria, score), "reason": reason, "verdict": None}
        return json.dumps(verdict)

    def _plan(
        self,
        name: str,
        m: FakeModel,
        data: dict[str, Any],
        messages: list[dict[str, Any]],
        options: dict[str, Any],
        tools: list[Any],
        think: Any,
        keep_alive: float | None,
    ) -> _Plan:
        seed = options.get("seed")
        key = json.dumps([m.canonical, messages, seed], sort_keys=True, default=str)
        rng = random.Random(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
        thinking_model = "thinking" in m.capabilities
        fixed = self.fixed_reply if self.fixed_reply is not None else self._reply_by_substring(messages)
        fmt = data.get("format")

        thinking_text = ""
        prefix = ""
        if thinking_model:
            thought = _thought(rng)
            if think is True or isinstance(think, str):
                thinking_text = thought
            elif think is False:
                prefix = "<think>\n\n</think>\n\n"
            else:
                prefix = f"<think>\n{thought}\n</think>\n\n"

        tool_calls: list[dict[str, Any]] | None = None
        last_role = messages[-1].get("role") if messages else None
        if fixed is not None:
            content = fixed
        elif self.judge_model is not None and m.canonical == _canonical_name(self.judge_model):
            content = self._judge_reply(messages)
        elif tools and last_role != "tool":
            tool_calls = self._tool_calls(tools, rng)
            with self._lock:
                invalid, self.invalid_tool_calls = self.invalid_tool_calls > 0, max(0, self.invalid_tool_calls - 1)
            if invalid and tool_calls:
                tool_calls = [_without_required(call, tools) for call in tool_calls]
            content = ""
        elif fmt:
            content = prefix + _format_content(fmt, rng)
        else:
            content = prefix + _paragraph(rng)

        done_reason = "stop"
        stops = options.get("stop")
        if isinstance(stops, str):
            stops = [stops]
        if isinstance(stops, list) and content:
            cut = min((i for s in stops if isinstance(s, str) and s and (i := content.find(s)) >= 0), default=-1)
            if cut >= 0:
                content = content[:cut]

        thinking = _pieces(thinking_text) if thinking_text else []
        pieces = _pieces(content) if content else []
        num_predict = options.get("num_predict")
        cap: int | None = None  # how many pieces num_predict allows, where it asks for a cap
        if isinstance(num_predict, int | float) and not isinstance(num_predict, bool) and num_predict > 0:
            cap = int(num_predict)
        endless: random.Random | None = None
        if self.endless:
            tool_calls = None
            if cap is not None:
                while len(thinking) + len(pieces) <= cap:
                    pieces += _pieces(" " + _sentence(rng))
            else:
                endless = rng
        if cap is not None:
            budget = cap
            total = len(thinking) + len(pieces) + (1 if tool_calls else 0)
            if total > budget:
                done_reason = "length"
                thinking = thinking[:budget]
                pieces = pieces[: max(0, budget - len(thinking))]
                tool_calls = None

        prompt_words = sum(len(str(msg.get("content") or "").split()) for msg in messages)
        return _Plan(
            model=name,
            canonical=m.canonical,
            stream=data.get("stream") is not False,
            thinking=thinking,
            content=pieces,
            tool_calls=tool_calls,
            done_reason=done_reason,
            prompt_eval_count=max(1, prompt_words),
            keep_alive=keep_alive,
            endless=endless,
        )

    @staticmethod
    def _tool_calls(tools: list[Any], rng: random.Random) -> list[dict[str, Any]] | None:
        for tool in tools:
            function = tool.get("function") if isinstance(tool, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                params = function.get("parameters")
                arguments = _value_for_schema(params, rng, params, short=True) if isinstance(params, dict) else {}
                if not isinstance(arguments, dict):
                    arguments = {}
                return [{"function": {"index": 0, "name": function["name"], "arguments": arguments}}]
        return None

    async def _run_chat(
        self, conn: _Conn, request: _Request, plan: _Plan, m: FakeModel, started: int, *, empty: bool
    ) -> bool:
        if self.capacity is not None and self._admitted >= self.capacity:
            with self._lock:
                self.refused += 1
            if plan.wire == "openai":
                body: Any = {
                    "error": {"message": RATE_LIMIT_ERROR, "type": "rate_limit_error", "param": None, "code": None}
                }
                return await self._rate_limit(conn, request, body, _OPENAI_JSON_TYPE)
            return await self._rate_limit(conn, request, {"error": RATE_LIMIT_ERROR}, _JSON_TYPE)
        task = asyncio.current_task()
        assert task is not None
        conn.completed = False
        watcher = conn.watcher = asyncio.create_task(self._watch(conn, task))
        holding = False
        self._admitted += 1
        plan.admitted = True
        try:
            await self._slots.acquire()
            holding = True
            with self._lock:
                self.max_in_flight = max(self.max_in_flight, self._slots.active)
            if self.first_byte_delay > 0:
                await asyncio.sleep(self.first_byte_delay)
            loaded = time.perf_counter_ns()
            expiry = 300.0 if plan.keep_alive is None else plan.keep_alive
            self._loaded[m.canonical] = (time.time() + (expiry if expiry >= 0 else 1e12), m)
            if empty:
                return await self._send_json(conn, request, 200, self._bare_done(plan.model, "load"))
            if plan.wire == "openai":
                if plan.stream:
                    return await self._openai_stream(conn, request, plan)
                return await self._openai_whole(conn, request, plan)
            if plan.stream:
                return await self._stream(conn, request, plan, started, loaded)
            return await self._respond_whole(conn, request, plan, started, loaded)
        except asyncio.CancelledError:
            if conn.client_gone and not self._stopping:
                task.uncancel()
                if not conn.completed:  # a client closing after the whole answer did not disconnect early
                    self._count_disconnect()
                return False
            raise
        except (ConnectionError, OSError, _ClientGone):
            if not conn.completed:
                self._count_disconnect()
            return False
        finally:
            self._leave(plan)
            if holding:
                self._slots.release()
            watcher.cancel()
            conn.watcher = None
            # The watcher must be gone before the connection loop reads the next request.
            await asyncio.wait([watcher])

    async def _watch(self, conn: _Conn, task: asyncio.Task[Any]) -> None:
        """Read ahead while a chat request is processed; EOF means the client left: cancel it."""
        while await conn.fill():
            if len(conn.buf) > _MAX_HEAD:  # a client pipelining a lot: stop watching, keep the bytes
                return
        conn.client_gone = True
        task.cancel()

    def _count_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1

    def _final(self, plan: _Plan, started: int, loaded: int, gen_start: int, chunks: int) -> dict[str, Any]:
        now = time.perf_counter_ns()
        load = max(loaded - started, 1_000)
        prompt_eval = plan.prompt_eval_count * 40_000 + 1
        eval_duration = max(now - gen_start, chunks * 1_000, 1)
        total = max(now - started, load + prompt_eval + eval_duration)
        return {
            "model": plan.model,
            "created_at": _now(),
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": plan.done_reason,
            "total_duration": total,
            "load_duration": load,
            "prompt_eval_count": plan.prompt_eval_count,
            "prompt_eval_duration": prompt_eval,
            "eval_count": chunks,
            "eval_duration": eval_duration,
        }

    def _chunks(self, plan: _Plan) -> Iterator[dict[str, Any]]:
        for piece in plan.thinking:
            yield {"role": "assistant", "content": "", "thinking": piece}
        for piece in _content(plan):
            yield {"role": "assistant", "content": piece}
        if plan.tool_calls:
            yield {"role": "assistant", "content": "", "tool_calls": plan.tool_calls}

    async def _stream(self, conn: _Conn, request: _Request, plan: _Plan, started: int, loaded: int) -> bool:
        writer = conn.writer
        chunked = request.version != "HTTP/1.0"
        keep = request.keep_alive and chunked
        headers = [("Content-Type", "application/x-ndjson"), ("Date", self._date())]
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        if not keep:
            headers.append(("Connection", "close"))
        writer.write(self._head(200, headers))
        await writer.drain()

        def frame(line: bytes) -> bytes:
            return b"%x\r\n%s\r\n" % (len(line), line) if chunked else line

        cut, failure = self._failure(plan)
        gen_start = time.perf_counter_ns()
        sent = 0
        for message in self._chunks(plan):
            if cut is not None and sent >= cut:
                break
            if sent and self.token_latency > 0:
                await asyncio.sleep(self._token_delay())
            if conn.client_gone:
                raise _ClientGone
            line = _go_json({"model": plan.model, "created_at": _now(), "message": message, "done": False})
            if sent == 1 and self.bad_line is not None:
                line = self.bad_line.encode() + b"\n" + line
            writer.write(frame(line + b"\n"))
            await writer.drain()
            sent += 1
        if failure == "drop":
            return await self._drop(conn)
        while failure == "stall":  # a model that stops producing but keeps the connection open
            if conn.client_gone:
                raise _ClientGone
            await asyncio.sleep(0.05)
        if sent and self.token_latency > 0:
            await asyncio.sleep(self._token_delay())
        if failure == "fail":
            last = _go_json({"error": STREAM_ERROR})
        else:
            last = _go_json(self._final(plan, started, loaded, gen_start, sent))
        self._leave(plan)
        writer.write(frame(last + b"\n") + (b"0\r\n\r\n" if chunked else b""))
        conn.completed = True
        await writer.drain()
        return keep

    @staticmethod
    async def _never_answer(conn: _Conn) -> bool:
        """An endless answer asked for whole: generating until the client gives up."""
        while not conn.client_gone:
            await asyncio.sleep(0.05)
        raise _ClientGone

    async def _respond_whole(self, conn: _Conn, request: _Request, plan: _Plan, started: int, loaded: int) -> bool:
        if plan.endless is not None:
            return await self._never_answer(conn)
        gen_start = time.perf_counter_ns()
        total = plan.chunk_count
        cut, failure = self._failure(plan)
        generated = total if cut is None else min(cut, total)
        if self.token_latency > 0 and generated > 0:
            await asyncio.sleep(self._token_delay() * generated)
        if failure == "drop":
            return await self._drop(conn)
        if failure == "fail":
            return await self._send_json(conn, request, 500, {"error": STREAM_ERROR})
        if self.bad_line is not None:
            return await self._send(conn, request, 200, _JSON_TYPE, self.bad_line)
        body = self._final(plan, started, loaded, gen_start, total)
        self._leave(plan)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        if plan.thinking:
            message["thinking"] = "".join(plan.thinking)
        if plan.tool_calls:
            message["tool_calls"] = plan.tool_calls
        body["message"] = message
        return await self._send_json(conn, request, 200, body)

    def _failure(self, plan: _Plan) -> tuple[int | None, str | None]:
        """(chunks to send, "drop" | "fail" | None) from the switches; a drop wins a tie. Either switch
        means the response never completes, even when the reply has fewer chunks than the number."""
        if plan.fault in ("fail", "drop", "stall"):
            return FAULT_AFTER_CHUNKS, plan.fault
        fail, drop = self.fail_after_chunks, self.drop_after_chunks
        if drop is not None and (fail is None or drop <= fail):
            return max(0, drop), "drop"
        if fail is not None:
            return max(0, fail), "fail"
        return None, None

    async def _drop(self, conn: _Conn) -> bool:
        """Close the connection mid-response without the final chunk (as a crashed server would):
        what was written is flushed, then FIN; the client sees an incomplete chunked body."""
        if conn.watcher is not None:
            conn.watcher.cancel()  # our own close must not look like the client leaving
            conn.watcher = None
        conn.writer.close()
        with contextlib.suppress(Exception):
            await conn.writer.wait_closed()
        return False

    # ---------------------------------------------------------------- /v1 (Ollama's openai middleware)

    async def _send_openai_error(
        self,
        conn: _Conn,
        request: _Request,
        status: int,
        message: str,
        error_type: str = "api_error",
        code: str | None = None,
    ) -> bool:
        body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
        return await self._send(conn, request, status, _OPENAI_JSON_TYPE, _go_json(body) + b"\n")

    def _authorised(self, request: _Request) -> bool:
        key = self.api_key
        if key is None:
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token.strip() == key

    async def _openai(self, conn: _Conn, request: _Request) -> bool:
        method, path = request.method, request.path
        model_name = path[len("/v1/models/") :] if path.startswith("/v1/models/") else ""
        if method == "GET" and path == "/v1/models":
            handler = "list"
        elif method == "GET" and model_name and "/" not in model_name:
            handler = "retrieve"
        elif method == "POST" and path == "/v1/chat/completions":
            handler = "chat"
        elif method == "POST" and path == "/v1/embeddings":
            handler = "embeddings"
        else:
            return await self._send(conn, request, 404, "text/plain", "404 page not found")
        if not self._authorised(request):
            return await self._send_openai_error(
                conn, request, 401, AUTH_ERROR, "invalid_request_error", code="invalid_api_key"
            )
        if handler == "list":
            if self.listing_waits:
                await self._slots.acquire()
                self._slots.release()
            data = [
                {"id": m.name, "object": "model", "created": m.modified_unix, "owned_by": m.namespace}
                for m in self.models
            ]
            body: dict[str, Any] = {"object": "list", "data": data or None}  # a nil Go slice when nothing is installed
            return await self._send(conn, request, 200, _OPENAI_JSON_TYPE, _go_json(body) + b"\n")
        if handler == "retrieve":
            m = self.model(model_name)
            if m is None:
                return await self._send_openai_error(conn, request, 404, f"model '{model_name}' not found")
            model = {
                "id": model_name,
                "object": "model",
                "created": m.modified_unix,
                "owned_by": _namespace(model_name),
            }
            return await self._send(conn, request, 200, _OPENAI_JSON_TYPE, _go_json(model) + b"\n")
        if handler == "embeddings":
            return await self._openai_embeddings(conn, request)
        return await self._openai_chat(conn, request)

    # ---------------------------------------------------------------- embeddings

    async def _embed(self, conn: _Conn, request: _Request) -> bool:
        """POST /api/embed: `input` a string or a list of strings; `embeddings` one L2-normalised vector each."""
        started = time.perf_counter_ns()
        data = await self._parse_body(conn, request, "api.EmbedRequest")
        if isinstance(data, bool):
            return data
        name, texts = data.get("model"), data.get("input")
        if not isinstance(name, str) or not name:
            return await self._send_json(conn, request, 400, {"error": "model is required"})
        if self.model(name) is None:
            return await self._send_json(
                conn, request, 404, {"error": f'model "{name}" not found, try pulling it first'}
            )
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return await self._send_json(conn, request, 400, {"error": "invalid input type"})
        body = {
            "model": name,
            "embeddings": [fake_embedding(t) for t in texts],
            "total_duration": time.perf_counter_ns() - started,
            "load_duration": 0,
            "prompt_eval_count": sum(len(_words(t)) for t in texts),
        }
        return await self._send_json(conn, request, 200, body)

    async def _openai_embeddings(self, conn: _Conn, request: _Request) -> bool:
        """POST /v1/embeddings as Ollama's OpenAI layer answers it: `data` of `embedding` objects in order."""
        try:
            data = json.loads(request.body.decode("utf-8", errors="replace") or "null")
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, dict):
            return await self._send_openai_error(conn, request, 400, "invalid request", "invalid_request_error")
        name, texts = data.get("model"), data.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return await self._send_openai_error(conn, request, 400, "invalid input", "invalid_request_error")
        if not isinstance(name, str) or self.model(name) is None:
            return await self._send_openai_error(conn, request, 404, f'model "{name}" not found, try pulling it first')
        tokens = sum(len(_words(t)) for t in texts)
        body = {
            "object": "list",
            "data": [{"object": "embedding", "embedding": fake_embedding(t), "index": i} for i, t in enumerate(texts)],
            "model": name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return await self._send(conn, request, 200, _OPENAI_JSON_TYPE, _go_json(body) + b"\n")

    async def _openai_chat(self, conn: _Conn, request: _Request) -> bool:
        started = time.perf_counter_ns()
        text = request.body.decode("utf-8", errors="replace")

        async def invalid(message: str) -> bool:
            return await self._send_openai_error(conn, request, 400, message, "invalid_request_error")

        if not text.strip():
            return await invalid("EOF")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return await invalid(_json_error_text(text, exc))
        if not isinstance(data, dict):
            return await invalid(
                f"json: cannot unmarshal {_go_type_name(data)} into Go value of type openai.ChatCompletionRequest"
            )
        with self._lock:
            self.requests.append(data)
        if self.html_error is not None:
            return await self._send(conn, request, self.html_error, "text/html", PROXY_ERROR_PAGE)
        if self.rate_limited:
            body = {"error": {"message": RATE_LIMIT_ERROR, "type": "rate_limit_error", "param": None, "code": None}}
            return await self._rate_limit(conn, request, body, _OPENAI_JSON_TYPE)
        if self.accepted_formats is not None:
            refused = self._llama_cpp_format(data)
            if refused is not None:
                body = {"error": {"message": refused, "type": "internal_server_error", "param": None, "code": None}}
                raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
                return await self._send(conn, request, 500, _OPENAI_JSON_TYPE, raw)
        native, problem = _from_openai_request(data)
        if native is None:
            return await invalid(problem or "invalid request")
        if self.accepted_formats is not None:
            response_format = data.get("response_format")
            if isinstance(response_format, dict) and isinstance(response_format.get("schema"), dict):
                native["format"] = response_format["schema"]
        m = self.model(native["model"]) if native["model"] else None
        if native["think"] is None and m is not None and "thinking" in m.capabilities and not self.think_in_content:
            native["think"] = True  # Ollama >= 0.12.4: a thinking model thinks unless told not to
        options = data.get("stream_options")
        include_usage = isinstance(options, dict) and options.get("include_usage") is True
        return await self._chat_handler(conn, request, native, started, include_usage=include_usage)

    def _llama_cpp_format(self, data: dict[str, Any]) -> str | None:
        """llama-cpp-python's message for a response_format type outside `accepted_formats`, else None."""
        accepted = self.accepted_formats or ()
        response_format = data.get("response_format")
        if not isinstance(response_format, dict) or response_format.get("type") in accepted:
            return None
        quoted = [f"'{a}'" for a in accepted]
        expected = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"
        return LLAMA_CPP_FORMAT_ERROR.format(expected=expected, got=response_format.get("type"))

    @staticmethod
    def _openai_usage(plan: _Plan) -> dict[str, int]:
        completion = plan.chunk_count  # Ollama's eval_count
        return {
            "prompt_tokens": plan.prompt_eval_count,
            "completion_tokens": completion,
            "total_tokens": plan.prompt_eval_count + completion,
        }

    @staticmethod
    def _call_id() -> str:
        return "call_" + "".join(random.choices(_CALL_ID_CHARS, k=8))

    def _openai_calls(self, plan: _Plan) -> list[dict[str, Any]]:
        """The plan's tool calls as OpenAI's whole calls: arguments a JSON string with sorted keys."""
        calls = []
        for i, call in enumerate(plan.tool_calls or []):
            function = call["function"]
            calls.append(
                {
                    "id": self._call_id(),
                    "index": function.get("index", i),
                    "type": "function",
                    "function": {
                        "name": function["name"],
                        "arguments": _go_json(function["arguments"], sort_keys=True).decode(),
                    },
                }
            )
        return calls

    def _openai_deltas(self, plan: _Plan) -> Iterator[dict[str, Any]]:
        for piece in plan.thinking:
            yield {"role": "assistant", "content": "", "reasoning": piece}
        for piece in _content(plan):
            yield {"role": "assistant", "content": piece}
        for call in self._openai_calls(plan):
            first, *rest = _split_arguments(call["function"]["arguments"])
            head = {**call, "function": {"name": call["function"]["name"], "arguments": first}}
            yield {"role": "assistant", "content": "", "tool_calls": [head]}
            for part in rest:
                yield {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"index": call["index"], "function": {"arguments": part}}],
                }

    async def _openai_stream(self, conn: _Conn, request: _Request, plan: _Plan) -> bool:
        writer = conn.writer
        chunked = request.version != "HTTP/1.0"
        keep = request.keep_alive and chunked
        headers = [("Content-Type", _SSE_TYPE), ("Date", self._date())]
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        if not keep:
            headers.append(("Connection", "close"))
        writer.write(self._head(200, headers))
        await writer.drain()
        ident = f"chatcmpl-{random.randrange(999)}"

        def event(value: Any) -> bytes:
            data = b"data: %s\n\n" % (value if isinstance(value, bytes) else _go_json(value))
            return b"%x\r\n%s\r\n" % (len(data), data) if chunked else data

        def chunk(choices: list[dict[str, Any]], usage: dict[str, int] | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": plan.model,
                "system_fingerprint": "fp_ollama",
                "choices": choices,
            }
            if usage is not None:
                out["usage"] = usage
            return out

        cut, failure = self._failure(plan)
        sent = 0
        for delta in self._openai_deltas(plan):
            if cut is not None and sent >= cut:
                break
            if sent and self.token_latency > 0:
                await asyncio.sleep(self._token_delay())
            if conn.client_gone:
                raise _ClientGone
            if sent == 1 and self.bad_line is not None:
                writer.write(event(self.bad_line.encode()))
            writer.write(event(chunk([{"index": 0, "delta": delta, "finish_reason": None}])))
            await writer.drain()
            sent += 1
        if failure == "drop":
            return await self._drop(conn)
        if sent and self.token_latency > 0:
            await asyncio.sleep(self._token_delay())
        if failure == "fail":
            last = event({"error": {"message": STREAM_ERROR, "type": "api_error", "param": None, "code": None}})
        else:
            reason = "tool_calls" if plan.tool_calls else plan.done_reason
            done = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": reason}
            last = event(chunk([done]))
            if plan.include_usage and not self.omit_usage:
                last += event(chunk([], self._openai_usage(plan)))
            if not self.omit_done:
                last += event(b"[DONE]")
        self._leave(plan)
        writer.write(last + (b"0\r\n\r\n" if chunked else b""))
        conn.completed = True
        await writer.drain()
        return keep

    async def _openai_whole(self, conn: _Conn, request: _Request, plan: _Plan) -> bool:
        if plan.endless is not None:
            return await self._never_answer(conn)
        total = plan.chunk_count
        cut, failure = self._failure(plan)
        generated = total if cut is None else min(cut, total)
        if self.token_latency > 0 and generated > 0:
            await asyncio.sleep(self._token_delay() * generated)
        if failure == "drop":
            return await self._drop(conn)
        if failure == "fail":
            return await self._send_openai_error(conn, request, 500, STREAM_ERROR)
        if self.bad_line is not None:
            return await self._send(conn, request, 200, _OPENAI_JSON_TYPE, self.bad_line)
        self._leave(plan)
        message: dict[str, Any] = {"role": "assistant", "content": "".join(plan.content)}
        if plan.thinking:
            message["reasoning"] = "".join(plan.thinking)
        if plan.tool_calls:
            message["tool_calls"] = self._openai_calls(plan)
        body = {
            "id": f"chatcmpl-{random.randrange(999)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": plan.model,
            "system_fingerprint": "fp_ollama",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if plan.tool_calls else plan.done_reason,
                }
            ],
            "usage": self._openai_usage(plan),
        }
        return await self._send(conn, request, 200, _OPENAI_JSON_TYPE, _go_json(body) + b"\n")


# ------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_ollama", description="A fake Ollama server speaking its wire format."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=11434, help="0 picks a free port (default 11434)")
    parser.add_argument("--token-latency", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--first-byte-delay", type=float, default=0.0, help="seconds before response headers")
    parser.add_argument("--parallel", type=int, default=4, help="chat requests processed at once")
    parser.add_argument("--api-key", default=None, help="require `Authorization: Bearer <key>` on /v1")
    parser.add_argument("--reply-words", type=int, default=0, help="every reply is this many words (fixed_reply)")
    parser.add_argument("--fixed-reply", default=None, help="every reply is this text (fixed_reply; a judge's JSON)")
    parser.add_argument("--capacity", type=int, default=None, help="429 with Retry-After above this many in flight")
    parser.add_argument("--serve-metrics", action="store_true", help="GET /metrics in vLLM's Prometheus text")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args(argv)

    fake = FakeOllama(
        token_latency=args.token_latency,
        first_byte_delay=args.first_byte_delay,
        parallel=args.parallel,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )
    fake.api_key = args.api_key
    fake.capacity = args.capacity
    fake.serve_metrics = args.serve_metrics
    if args.reply_words > 0:
        fake.fixed_reply = " ".join(f"word{i % 1000}" for i in range(args.reply_words))
    if args.fixed_reply is not None:
        fake.fixed_reply = args.fixed_reply
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    print(fake.base_url, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
