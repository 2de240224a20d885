"""The lines of an offline batch: OpenAI Batch input (what `vllm run-batch` and hosted Batch APIs
read) and its output (what they write), and the custom_id that names a job item's request.

Input:  {"custom_id": ..., "method": "POST", "url": "/v1/chat/completions", "body": {...}}
Output: {"id": ..., "custom_id": ..., "response": {"status_code": 200, "request_id": ..., "body": {...}},
         "error": null}
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CHAT_URL = "/v1/chat/completions"
_CUSTOM_ID = re.compile(r"job-(\d+)-item-(\d+)-req-(\d+)")


@dataclass(frozen=True)
class RequestId:
    job_id: int
    idx: int
    req: int  # the item's requests are numbered from 0 in the order it asks them

    @property
    def text(self) -> str:
        return f"job-{self.job_id}-item-{self.idx}-req-{self.req}"

    @classmethod
    def parse(cls, text: str) -> RequestId | None:
        found = _CUSTOM_ID.fullmatch(text)
        return None if found is None else cls(*(int(g) for g in found.groups()))


def request_line(request_id: RequestId, body: dict[str, Any]) -> str:
    """One line of Batch input (without its newline)."""
    line = {"custom_id": request_id.text, "method": "POST", "url": CHAT_URL, "body": body}
    return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Answered:
    custom_id: str
    body: dict[str, Any]  # a chat completion


@dataclass(frozen=True)
class Refused:
    """A line that carries an error, or a status other than 200, for this custom_id."""

    custom_id: str
    reason: str


class NotAResultLine(ValueError):
    """A line that is not JSON, or not shaped as Batch output."""


def read_result(text: str) -> Answered | Refused:
    """One line of Batch output (vLLM's run-batch or a hosted Batch API); NotAResultLine otherwise."""
    try:
        line = json.loads(text)
    except ValueError:
        raise NotAResultLine("not JSON") from None
    if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
        raise NotAResultLine("no custom_id")
    custom_id: str = line["custom_id"]
    response = line.get("response")
    error = line.get("error")
    if error:
        message = error.get("message", error) if isinstance(error, dict) else error
        return Refused(custom_id, str(message))
    if not isinstance(response, dict):
        raise NotAResultLine("no response")
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        return Refused(custom_id, f"status {status}")
    if not isinstance(body, dict):
        raise NotAResultLine("the response has no body")
    return Answered(custom_id, body)
