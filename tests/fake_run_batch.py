"""A stand-in for `vllm run-batch -i requests.jsonl -o results.jsonl --model M`: answers an OpenAI
Batch input file line by line by POSTing each body (unstreamed) to a server's /v1/chat/completions
(the fake Ollama) and writes vLLM's output lines (vllm/entrypoints/openai/protocol.py
BatchRequestOutput): {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error"}.

For the import tests it can also answer only the first `limit` lines (a partial file), write the
first answer twice, turn one line into an error line, and put a corrupt (non-JSON) line in.

    python -m tests.fake_run_batch -i requests.jsonl -o results.jsonl --url http://127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path
from typing import Any

import httpx

CORRUPT_LINE = '{"id": "vllm-cut-off", "custom_id": "job-'


def answer_line(custom_id: str, status: int, body: dict[str, Any] | None, error: str | None = None) -> str:
    line = {
        "id": f"vllm-{uuid.uuid4().hex}",
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": f"vllm-batch-{uuid.uuid4().hex}", "body": body},
        "error": error,
    }
    return json.dumps(line, ensure_ascii=False)


def run_batch(
    requests: Path,
    results: Path,
    url: str,
    *,
    limit: int | None = None,
    duplicate_first: bool = False,
    error_at: int | None = None,
    corrupt_at: int | None = None,
) -> list[str]:
    """Writes `results` for `requests` and returns its lines. `error_at` and `corrupt_at` count the
    output lines from 0: that answer comes back as an error, or a corrupt line is put before it."""
    out: list[str] = []
    with httpx.Client(base_url=url.rstrip("/"), timeout=30) as client:
        for number, raw in enumerate(requests.read_text(encoding="utf-8").splitlines()):
            if limit is not None and number >= limit:
                break
            line = json.loads(raw)
            if corrupt_at == number:
                out.append(CORRUPT_LINE)
            if error_at == number:
                out.append(answer_line(line["custom_id"], 500, None, "The model crashed on this request."))
                continue
            response = client.request(line["method"], line["url"], json=line["body"])
            out.append(answer_line(line["custom_id"], response.status_code, response.json()))
            if duplicate_first and number == 0:
                out.append(out[-1])
    results.write_text("".join(f"{line}\n" for line in out), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-i", dest="requests", type=Path, required=True)
    parser.add_argument("-o", dest="results", type=Path, required=True)
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:11434")
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    run_batch(args.requests, args.results, args.url, limit=args.limit)


if __name__ == "__main__":
    main()
