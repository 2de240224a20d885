"""Finds user-visible string literals that do not go through the translation functions.

A literal counts as user-visible where it is passed to a widget's text (Label, Static, Button, …), a
dialog, `notify`, a Binding's description, a widget's `update`, a text attribute (`border_title`,
`placeholder`, …) or an error constructor (ForgeError and every class derived from it). It is wrapped
when it sits inside `_()`, `N_()` or `ngettext()` (`_("…").format(…)` included). Literals without a
letter ("", " · ", "✗"), names such as "forge-tui" and URLs are not language.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "forge_tui"

TRANSLATING = frozenset({"_", "N_", "ngettext"})
# Callables whose positional arguments are shown as they are (the first `count` of them).
SHOWN_POSITIONAL = {
    "Label": 1, "Static": 1, "Button": 1, "PlainLabel": 1, "PlainStatic": 1, "TLabel": 1, "TStatic": 1,
    "TButton": 1, "Checkbox": 1, "RadioButton": 1, "TabPane": 1, "Collapsible": 0, "Confirm": 1,
    "TextPrompt": 2, "PickOne": 1, "notify": 1, "update": 1, "Input": 0, "TInput": 0, "Select": 0,
}  # fmt: skip
SHOWN_KEYWORDS = frozenset({"title", "placeholder", "prompt", "description", "yes", "no", "label", "tooltip"})
SHOWN_ATTRIBUTES = frozenset({"border_title", "border_subtitle", "placeholder", "prompt", "label", "tooltip"})
NOT_LANGUAGE = frozenset({"forge-tui"})
URL = re.compile(r"https?://\S+")
ERROR_ROOT = "ForgeError"
# A damaged row's error names its table, column and row (identifiers, shown as they are); only what
# follows them is language.
IDENTIFIER_ROOT = "DamagedRow"
IDENTIFIERS = ("table", "column", "row_id")


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    call: str
    text: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.call}({self.text!r})"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)


def sources(folder: Path = PACKAGE) -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.py"))}


def error_classes(trees: dict[str, ast.Module], root: str = ERROR_ROOT) -> frozenset[str]:
    """`root` (ForgeError) and the names of every class derived from it, in any module."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(_name(b) for b in node.bases)
    found = {root}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return frozenset(found)
        found |= more


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _language(text: str) -> bool:
    stripped = text.strip()
    return any(c.isalpha() for c in text) and stripped not in NOT_LANGUAGE and not URL.fullmatch(stripped)


def unwrapped(node: ast.AST | None) -> Iterator[str]:
    """The literal text in `node` that is shown as written (not translated)."""
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if _language(node.value):
            yield node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
        if _language(text):
            yield text
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                yield from unwrapped(value.value)
    elif isinstance(node, ast.Call):
        function = node.func
        if _name(function) in TRANSLATING:
            return
        if isinstance(function, ast.Attribute) and function.attr in ("format", "join", "strip", "upper"):
            yield from unwrapped(function.value)
    elif isinstance(node, ast.IfExp):
        yield from unwrapped(node.body)
        yield from unwrapped(node.orelse)
    elif isinstance(node, ast.BinOp):
        yield from unwrapped(node.left)
        yield from unwrapped(node.right)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from unwrapped(value)


def findings(
    module: str, tree: ast.Module, errors: frozenset[str], *, widgets: bool, damaged: frozenset[str] = frozenset()
) -> Iterator[Finding]:
    """Unwrapped text passed to error constructors (every module; for a damaged row's error, what
    follows its table, column and row) and, where `widgets`, to widgets, dialogs, notify, Binding
    descriptions and text attributes."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _name(node.func)
            shown: list[ast.AST] = []
            if called in damaged:
                shown += [*node.args[len(IDENTIFIERS) :], *(k.value for k in node.keywords if k.arg not in IDENTIFIERS)]
            elif called in errors:
                shown += [*node.args, *(k.value for k in node.keywords)]
            elif widgets and called == "Binding":
                shown += node.args[2:3] + [k.value for k in node.keywords if k.arg == "description"]
            elif widgets and called in SHOWN_POSITIONAL:
                shown += node.args[: SHOWN_POSITIONAL[called]]
                shown += [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
            for argument in shown:
                for text in unwrapped(argument):
                    yield Finding(module, node.lineno, called, text)
        elif widgets and isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in SHOWN_ATTRIBUTES:
                    for text in unwrapped(node.value):
                        yield Finding(module, node.lineno, f".{target.attr} =", text)


def all_findings() -> dict[str, list[Finding]]:
    """Per module (only those with any): unwrapped user-visible text."""
    trees = sources()
    errors, damaged = error_classes(trees), error_classes(trees, IDENTIFIER_ROOT)
    result: dict[str, list[Finding]] = {}
    for module, tree in trees.items():
        found = list(findings(module, tree, errors, widgets=module.startswith("forge_tui.ui"), damaged=damaged))
        if found:
            result[module] = found
    return result
