"""Defaults of an audition batch, read by the service, the Audition form and `forge-tui audition`."""

from __future__ import annotations

DEFAULT_BATCH = 3  # cards per batch
MAX_BATCH = 64
DEFAULT_TEMPERATURE = 0.8
