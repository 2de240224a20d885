"""Compact JSON as UTF-8 bytes, the way sealed fields and exported records are written."""

from __future__ import annotations

import json
from typing import Any

import orjson


def compact(value: Any) -> bytes:
    """orjson writes it several times faster than the json module; values it refuses (integers
    past 64 bits, keys that are not strings) go through the json module."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
