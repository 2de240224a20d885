"""The password of the accounts the tests make.

One constant, imported wherever a test types or passes it: tests/leak_guard.py finds it here (it reads
every module-level string named like PASSWORD in the `tests` modules) and fails any test whose output
or data directory holds it."""

from __future__ import annotations

PASSWORD = "correct horse"
