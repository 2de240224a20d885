"""The stop an ending signal raises can land in a finalizer, where Python would print "Exception
ignored" and a traceback: while a command handles ending signals that print is dropped."""

from __future__ import annotations

import signal
import sys
from typing import Any

import pytest

from forge_tui.cli import common


class StopInFinalizer:
    def __del__(self) -> None:
        raise KeyboardInterrupt


class OtherErrorInFinalizer:
    def __del__(self) -> None:
        raise ValueError("still reported")


def test_a_stop_landing_in_a_finalizer_prints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[type[BaseException]] = []

    def recorder(unraisable: Any) -> None:
        seen.append(type(unraisable.exc_value))

    monkeypatch.setattr(sys, "unraisablehook", recorder)
    restore = common.handle_ending_signals()
    try:
        monkeypatch.setattr(common._signals, "received", signal.SIGINT)
        StopInFinalizer()
        OtherErrorInFinalizer()
    finally:
        restore()
    assert seen == [ValueError]
    assert sys.unraisablehook is recorder
