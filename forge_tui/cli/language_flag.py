"""--lang read from the command line before Typer parses it (the command modules' help strings are
translated when they are imported, so the language must be known first)."""

from __future__ import annotations

# The root options that take a value (forge-tui --home DIR --lang zh_TW COMMAND ...).
_VALUED = frozenset({"--home", "--lang"})


def language_flag(args: list[str]) -> tuple[str | None, bool]:
    """(the --lang value given before the command, or None; whether no command is named, so the TUI starts)."""
    flag: str | None = None
    index = 0
    while index < len(args):
        arg = args[index]
        if arg.startswith("--lang="):
            flag = arg.split("=", 1)[1]
        elif arg in _VALUED:
            if arg == "--lang" and index + 1 < len(args):
                flag = args[index + 1]
            index += 1
        elif arg in ("--help", "--version") or not arg.startswith("-"):
            return flag, False
        index += 1
    return flag, True
