"""Separating `<think>…</think>` reasoning from the answer, also when tags are split across chunks."""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"


class ThinkSplitter:
    """Feed streamed text; get back (answer, thinking) pieces. Holds back a possible partial tag."""

    def __init__(self) -> None:
        self._inside = False
        self._pending = ""

    def feed(self, text: str) -> tuple[str, str]:
        if not self._inside and not self._pending and "<" not in text:
            return text, ""  # the common case, once per token: nothing that could start a tag
        buffer = self._pending + text
        self._pending = ""
        answer: list[str] = []
        thinking: list[str] = []
        while buffer:
            tag = CLOSE if self._inside else OPEN
            index = buffer.find(tag)
            if index >= 0:
                (thinking if self._inside else answer).append(buffer[:index])
                buffer = buffer[index + len(tag) :]
                self._inside = not self._inside
                continue
            keep = _partial_suffix(buffer, tag)
            (thinking if self._inside else answer).append(buffer[: len(buffer) - keep])
            self._pending = buffer[len(buffer) - keep :]
            break
        return "".join(answer), "".join(thinking)

    def flush(self) -> tuple[str, str]:
        rest, self._pending = self._pending, ""
        return ("", rest) if self._inside else (rest, "")


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a beginning of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


def split_thinking(text: str) -> tuple[str, str]:
    splitter = ThinkSplitter()
    answer, thinking = splitter.feed(text)
    rest_answer, rest_thinking = splitter.flush()
    return (answer + rest_answer).strip(), (thinking + rest_thinking).strip()


def leading_thinking(text: str) -> tuple[str, str]:
    """(answer, thinking) of a whole text that starts with a closed `<think>…</think>` block, as Qwen3
    and DeepSeek-R1 write it; other text comes back as it is, with no thinking."""
    body = text.lstrip()
    if not body.startswith(OPEN):
        return text, ""
    end = body.find(CLOSE, len(OPEN))
    if end < 0:
        return text, ""
    return body[end + len(CLOSE) :].lstrip(), body[len(OPEN) : end].strip()
