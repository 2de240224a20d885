"""The command line (Typer)."""

from forge_tui.cli.main import app, main

__all__ = ["app", "main"]
