"""Every user-visible string in forge_tui/ui and in every ForgeError goes through the translation
functions (tests/i18n/unwrapped.py says what counts)."""

from __future__ import annotations

import ast

from tests.i18n.unwrapped import all_findings, error_classes, findings


def test_no_user_visible_text_is_left_unwrapped() -> None:
    found = {m: [str(f) for f in fs] for m, fs in all_findings().items()}
    assert not found, f"wrap these in _() (or N_() for a constant shown through _()): {found}"


SAMPLE = """
from forge_tui.i18n import N_, _, ngettext

class Problem(ForgeError): ...
class Worse(Problem): ...

class Screen:
    BINDINGS = [Binding("a", "add", "Add"), Binding("b", "back", N_("Back")), Binding("c", "c", description="Copy")]

    def compose(self):
        yield Label("Username")
        yield Label(_("Password"))
        yield Label(f"{count} items")
        yield Label(f"{count}")
        yield Label(" · ")
        yield Static(_("{n} left").format(n=3))
        yield Button("OK" if ok else _("Cancel"))
        yield Input(placeholder="e.g. alice", id="name-field")
        yield Label(ngettext("{n} card", "{n} cards", n).format(n=n), id="cards")

    def act(self):
        self.notify("Saved.", title=_("Done"))
        self.notify(message, title="Oops")
        self.query_one(Static).update("Working…")
        self.border_title = "Examples"
        raise Worse(f"No dataset named {name!r}.")

    def fine(self):
        raise Worse(_("No dataset named {name!r}.").format(name=name))
"""


def test_the_check_finds_what_it_should() -> None:
    tree = ast.parse(SAMPLE)
    errors = error_classes({"sample": tree})
    assert errors == {"ForgeError", "Problem", "Worse"}
    found = sorted((f.line, f.call, f.text) for f in findings("sample", tree, errors, widgets=True))
    assert found == [
        (8, "Binding", "Add"),
        (8, "Binding", "Copy"),
        (11, "Label", "Username"),
        (13, "Label", " items"),
        (17, "Button", "OK"),
        (18, "Input", "e.g. alice"),
        (22, "notify", "Saved."),
        (23, "notify", "Oops"),
        (24, "update", "Working…"),
        (25, ".border_title =", "Examples"),
        (26, "Worse", "No dataset named ."),
    ]
    # Outside forge_tui/ui only error constructors count.
    assert [f.call for f in findings("sample", tree, errors, widgets=False)] == ["Worse"]


def test_a_damaged_rows_table_column_and_row_are_identifiers_but_its_problem_is_language() -> None:
    tree = ast.parse(
        "class DamagedRow(ForgeError): ...\n"
        "class SealBroken(DamagedRow): ...\n"
        "raise DamagedRow('example', 'params', row.id, 'is not valid JSON')\n"
        "raise DamagedRow('example', 'params', row.id, _('is not valid JSON'))\n"
        "raise SealBroken('template', 'content', str(row.id))\n"
    )
    trees = {"sample": tree}
    found = findings("sample", tree, error_classes(trees), widgets=False, damaged=error_classes(trees, "DamagedRow"))
    assert [(f.line, f.text) for f in found] == [(3, "is not valid JSON")]
