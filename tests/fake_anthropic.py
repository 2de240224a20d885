"""A fake of Anthropic's Messages API: a real HTTP/1.1 server on 127.0.0.1 (standard library only).

    with FakeAnthropic(api_key="sk-ant-test") as fake:
        httpx.post(f"{fake.base_url}/v1/messages", headers={...}, json={...})

It speaks the wire format of `POST /v1/messages` (anthropic-version 2023-06-01) and `GET /v1/models`
(`GET /v1/models/{id or alias}`), as Anthropic's API reference describes them:

* Streaming (`"stream": true`) is server-sent events over a chunked body, each event an `event: NAME`
  line and a `data: JSON` line whose `type` is NAME: `message_start` (a Message with empty content and
  `usage.input_tokens`), then per content block `content_block_start`, `content_block_delta`s and
  `content_block_stop`, a `ping` now and then, `message_delta` (`stop_reason`, cumulative
  `usage.output_tokens`) and `message_stop`. Text streams as `text_delta`s; a `thinking` block (only
  when the request enables `thinking`) as `thinking_delta`s and one `signature_delta`; a `tool_use`
  block starts with `input: {}` and streams its input as `input_json_delta` pieces of a JSON string.
* Without `stream`, the whole Message: `content` blocks, `stop_reason`, `usage`.
* Errors are `{"type": "error", "error": {"type": ..., "message": ...}, "request_id": ...}` with the
  status: 400 invalid_request_error, 401 authentication_error, 403 permission_error, 404
  not_found_error, 429 rate_limit_error (with `retry-after`), 500 api_error, 529 overloaded_error.

What the real API refuses, the fake refuses (400): no `anthropic-version` header, no `max_tokens`, no
messages, a "system" role among the messages, a temperature outside 0..1, thinking with a temperature or with
`budget_tokens` not below `max_tokens`, a `tool_result` whose `tool_use_id` is not a `tool_use` of
the assistant message before it. An unknown model is 404 ("model: NAME"); with `api_key` set, a
missing or wrong `x-api-key` is 401.

Replies are deterministic: a hash of (model, system, messages) seeds the words. In order:
`fixed_reply`; the first key of `replies_by_prompt_substring` found in the system prompt or a message;
with `tools` offered and no tool result in the last user message, a short sentence and a `tool_use` of
the first tool with arguments from its input schema (`stop_reason` "tool_use"); otherwise a few
sentences. `max_tokens` caps the text deltas (`stop_reason` "max_tokens"); `stop_sequences` cut the
text before the first one found (`stop_reason` "stop_sequence", `stop_sequence` set).

Switches (change them while it runs): `api_key`, `error_status` (message requests are answered with
that status and its error; the next `error_count` of them, or every one while `error_count` is
None), `retry_after` (the header of 429 and 529), `overloaded_after` (a stream sends an `error`
event of type overloaded_error after that many deltas and ends; the next `overloaded_count` streams,
or every one while it is None),
`drop_after` (the connection is closed after that many deltas), `page_size` (models per page at
most, so that paging is used), `token_latency`. Observations: `requests` (each message body as sent)
and `headers` (each message request's headers, lower-cased names).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fake_ollama import _paragraph, _pieces, _thought, _value_for_schema

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
ERROR_TEXTS = {
    401: "invalid x-api-key",
    403: "Your API key does not have permission to use the specified resource.",
    429: "Number of request tokens has exceeded your per-minute rate limit",
    500: "Internal server error",
    529: "Overloaded",
}
PING_EVERY = 8  # deltas between two pings


@dataclass(frozen=True)
class FakeClaude:
    id: str
    display_name: str
    created_at: str = "2025-09-29T00:00:00Z"

    @property
    def alias(self) -> str:
        """The id without its date: "claude-sonnet-4-5-20250929" -> "claude-sonnet-4-5"."""
        head, _dash, tail = self.id.rpartition("-")
        return head if tail.isdigit() and len(tail) == 8 else self.id


DEFAULT_MODELS = (
    FakeClaude("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"),
    FakeClaude("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
)


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class FakeAnthropic:
    """A real HTTP server on 127.0.0.1 that answers as Anthropic's API does. See the module docstring."""

    def __init__(
        self, models: tuple[FakeClaude, ...] = DEFAULT_MODELS, *, api_key: str | None = None, token_latency: float = 0
    ) -> None:
        self.models = list(models)
        self.api_key = api_key
        self.token_latency = token_latency
        self.error_status: int | None = None
        self.error_count: int | None = None
        self.overloaded_count: int | None = None
        self.retry_after: int | None = 2
        self.overloaded_after: int | None = None
        self.drop_after: int | None = None
        self.page_size = 1000
        self.fixed_reply: str | None = None
        self.replies_by_prompt_substring: dict[str, str] = {}
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeAnthropic:
        owner = self

        class Handler(_Handler):
            fake = owner

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="fake-anthropic", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def _take(self, counter: str) -> bool:
        """Whether a switch limited by `counter` (None: no limit) applies to this request; counts it down."""
        with self._lock:
            left = getattr(self, counter)
            if left is None:
                return True
            if left <= 0:
                return False
            setattr(self, counter, left - 1)
            return True

    # ---------------------------------------------------------------- models
    def model(self, name: str) -> FakeClaude | None:
        return next((m for m in self.models if name in (m.id, m.alias)), None)

    def models_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        limit = min(int(query.get("limit", ["20"])[0]), self.page_size)
        after = query.get("after_id", [None])[0]
        start = next((i + 1 for i, m in enumerate(self.models) if m.id == after), 0)
        page = self.models[start : start + limit]
        return {
            "data": [model_json(m) for m in page],
            "has_more": start + limit < len(self.models),
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        }

    # ---------------------------------------------------------------- a message
    def check(self, headers: dict[str, str], body: Any) -> FakeClaude:
        """The model asked for; _Refused as the API refuses a request."""
        if self.api_key is not None and headers.get("x-api-key") != self.api_key:
            raise _Refused(401, ERROR_TEXTS[401])
        if "anthropic-version" not in headers:
            raise _Refused(400, "anthropic-version: header is required")
        if self.error_status is not None and self._take("error_count"):
            raise _Refused(self.error_status, ERROR_TEXTS.get(self.error_status, "Error"))
        if not isinstance(body, dict):
            raise _Refused(400, "There was an issue with your request body: not a JSON object")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                raise _Refused(400, f"{name}: Field required")
        if not body["messages"]:
            raise _Refused(400, "messages: at least one message is required")
        temperature = body.get("temperature")
        if temperature is not None and not 0 <= temperature <= 1:
            raise _Refused(400, "temperature: range: 0..1")
        thinking = body.get("thinking")
        if isinstance(thinking, dict) and thinking.get("type") == "enabled":
            if temperature is not None and temperature != 1:
                raise _Refused(400, "`temperature` may only be set to 1 when thinking is enabled.")
            if thinking.get("budget_tokens", 0) >= body["max_tokens"]:
                raise _Refused(400, "`max_tokens` must be greater than `thinking.budget_tokens`.")
        previous: list[dict[str, Any]] = []
        for index, message in enumerate(body["messages"]):
            role = message.get("role")
            if role not in ("user", "assistant"):
                raise _Refused(
                    400,
                    f'messages: Unexpected role "{role}". The Messages API accepts a top-level `system` '
                    'parameter, not "system" as an input message role.',
                )
            blocks = _blocks(message)
            uses = {b.get("id") for b in previous if b.get("type") == "tool_use"}
            for b in blocks:
                if b.get("type") == "tool_result" and b.get("tool_use_id") not in uses:
                    raise _Refused(
                        400,
                        f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{b.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message.",
                    )
            previous = blocks
        model = self.model(str(body["model"]))
        if model is None:
            raise _Refused(404, f"model: {body['model']}")
        return model

    def reply(self, body: dict[str, Any], model: FakeClaude) -> dict[str, Any]:
        """What the model answers: thinking, text and tool use, as whole blocks with their pieces."""
        said = json.dumps([model.id, body.get("system"), body["messages"]], sort_keys=True)
        rng = random.Random(hashlib.sha256(said.encode()).digest())
        everything = " ".join([str(body.get("system") or ""), said])
        text = self.fixed_reply
        if text is None:
            text = next((r for k, r in self.replies_by_prompt_substring.items() if k in everything), None)
        tools = body.get("tools") or []
        last = _blocks(body["messages"][-1]) if body["messages"] else []
        call: dict[str, Any] | None = None
        if text is None and tools and not any(b.get("type") == "tool_result" for b in last):
            tool = tools[0]
            schema = tool.get("input_schema") or {}
            call = {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": tool["name"],
                "input": _value_for_schema(schema, rng, schema, short=True),
            }
            text = f"I will use {tool['name']}."
        if text is None:
            text = _paragraph(rng)
        thinking = body.get("thinking")
        thought = _thought(rng) if isinstance(thinking, dict) and thinking.get("type") == "enabled" else None
        pieces = _pieces(text)
        stop_reason, stop_sequence = ("tool_use" if call else "end_turn"), None
        for stop in body.get("stop_sequences") or []:
            cut = "".join(pieces).find(stop)
            if cut >= 0:
                pieces, stop_reason, stop_sequence = _pieces("".join(pieces)[:cut]), "stop_sequence", stop
        if len(pieces) > body["max_tokens"]:
            pieces, stop_reason, call = pieces[: body["max_tokens"]], "max_tokens", None
        words = " ".join([str(body.get("system") or "")] + [json.dumps(m.get("content")) for m in body["messages"]])
        return {
            "thought": _pieces(thought) if thought else None,
            "pieces": pieces,
            "call": call,
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "input_tokens": max(1, len(words.split())),
        }


def model_json(m: FakeClaude) -> dict[str, Any]:
    return {"type": "model", "id": m.id, "display_name": m.display_name, "created_at": m.created_at}


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def error_body(status: int, message: str) -> dict[str, Any]:
    return {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": f"req_{uuid.uuid4().hex[:24]}",
    }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAnthropic
    protocol_version = "HTTP/1.1"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ---------------------------------------------------------------- plumbing
    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", f"req_{uuid.uuid4().hex[:24]}")
        for name, value_ in (headers or {}).items():
            self.send_header(name, value_)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        extra = {}
        if status in (429, 529) and self.fake.retry_after is not None:
            extra["retry-after"] = str(self.fake.retry_after)
        self._json(status, error_body(status, message), extra)

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, name: str, value: dict[str, Any]) -> None:
        self._chunk(f"event: {name}\ndata: {json.dumps({'type': name, **value})}\n\n".encode())

    # ---------------------------------------------------------------- routes
    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.fake.api_key is not None and headers.get("x-api-key") != self.fake.api_key:
            self._error(401, ERROR_TEXTS[401])
        elif parts.path == "/v1/models":
            self._json(200, self.fake.models_page(parse_qs(parts.query)))
        elif parts.path.startswith("/v1/models/"):
            name = unquote(parts.path.removeprefix("/v1/models/"))
            model = self.fake.model(name)
            if model is None:
                self._error(404, f"model: {name}")
            else:
                self._json(200, model_json(model))
        else:
            self._error(404, "Not found")

    def do_POST(self) -> None:
        body_bytes = self.rfile.read(int(self.headers.get("content-length", "0")))
        if urlsplit(self.path).path != "/v1/messages":
            self._error(404, "Not found")
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(body_bytes)
        except ValueError:
            body = None
        with self.fake._lock:
            self.fake.headers.append(headers)
            if isinstance(body, dict):
                self.fake.requests.append(body)
        try:
            model = self.fake.check(headers, body)
        except _Refused as refused:
            self._error(refused.status, refused.message)
            return
        reply = self.fake.reply(body, model)
        if body.get("stream"):
            self._stream(body, model, reply)
        else:
            self._whole(model, reply)

    def _message(self, model: FakeClaude, content: list[dict[str, Any]], reply: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": model.id,
            "content": content,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": reply["input_tokens"],
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "output_tokens": 1,
            },
        }

    def _whole(self, model: FakeClaude, reply: dict[str, Any]) -> None:
        content: list[dict[str, Any]] = []
        if reply["thought"]:
            content.append({"type": "thinking", "thinking": "".join(reply["thought"]), "signature": "c2lnbmVk"})
        content.append({"type": "text", "text": "".join(reply["pieces"])})
        if reply["call"]:
            content.append(reply["call"])
        message = self._message(model, content, reply)
        output = len(reply["pieces"]) + len(reply["thought"] or [])
        message |= {"stop_reason": reply["stop_reason"], "stop_sequence": reply["stop_sequence"]}
        message["usage"]["output_tokens"] = output
        self._json(200, message)

    def _stream(self, body: dict[str, Any], model: FakeClaude, reply: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._event("message_start", {"message": self._message(model, [], reply)})
        sent = 0
        index = 0
        overloaded_after = self.fake.overloaded_after
        if overloaded_after is not None and not self.fake._take("overloaded_count"):
            overloaded_after = None

        def delta(value: dict[str, Any]) -> bool:
            """Sends one delta; False when the stream was broken off (a switch)."""
            nonlocal sent
            if overloaded_after is not None and sent >= overloaded_after:
                self._event("error", {"error": {"type": "overloaded_error", "message": "Overloaded"}})
                self._chunk(b"")
                return False
            if self.fake.drop_after is not None and sent >= self.fake.drop_after:
                self.close_connection = True
                self.wfile.flush()
                self.connection.shutdown(2)
                return False
            if self.fake.token_latency:
                time.sleep(self.fake.token_latency)
            self._event("content_block_delta", {"index": index, "delta": value})
            sent += 1
            if sent % PING_EVERY == 0:
                self._event("ping", {})
            return True

        if reply["thought"]:
            self._event("content_block_start", {"index": index, "content_block": {"type": "thinking", "thinking": ""}})
            for piece in reply["thought"]:
                if not delta({"type": "thinking_delta", "thinking": piece}):
                    return
            self._event(
                "content_block_delta", {"index": index, "delta": {"type": "signature_delta", "signature": "c2ln"}}
            )
            self._event("content_block_stop", {"index": index})
            index += 1
        self._event("content_block_start", {"index": index, "content_block": {"type": "text", "text": ""}})
        for piece in reply["pieces"]:
            if not delta({"type": "text_delta", "text": piece}):
                return
        self._event("content_block_stop", {"index": index})
        call = reply["call"]
        if call:
            index += 1
            start = {"type": "tool_use", "id": call["id"], "name": call["name"], "input": {}}
            self._event("content_block_start", {"index": index, "content_block": start})
            arguments = json.dumps(call["input"])
            third = max(1, len(arguments) // 3)
            for at in range(0, len(arguments), third):
                if not delta({"type": "input_json_delta", "partial_json": arguments[at : at + third]}):
                    return
            self._event("content_block_stop", {"index": index})
        self._event(
            "message_delta",
            {
                "delta": {"stop_reason": reply["stop_reason"], "stop_sequence": reply["stop_sequence"]},
                "usage": {"output_tokens": sent},
            },
        )
        self._event("message_stop", {})
        self._chunk(b"")
