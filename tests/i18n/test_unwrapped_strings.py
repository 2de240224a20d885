"""Every user-visible string in forge_tui/ui and in every ForgeError goes through the translation
functions (tests/i18n/unwrapped.py says what counts). The modules below are not converted yet: the list
only shrinks, so the test also fails when a listed module is already clean (then remove it here)."""

from __future__ import annotations

import ast

from tests.i18n.unwrapped import all_findings, error_classes, findings

# Modules (without the forge_tui. prefix) whose strings are still written in English only.
NOT_CONVERTED = frozenset(
    {
        "cli.audition",
        "cli.augment",
        "cli.backend_options",
        "cli.backup",
        "cli.common",
        "cli.config_flags",
        "cli.configs",
        "cli.dedup",
        "cli.endpoints_cmd",
        "cli.generate",
        "cli.judge",
        "cli.rubrics",
        "cli.settings_cmd",
        "cli.transfer",
        "cli.users",
        "core.augment",
        "core.custom_formats",
        "core.endpoints",
        "core.export_formats",
        "core.generation",
        "core.import_messages",
        "core.import_raw",
        "core.import_shapes",
        "core.job_configs",
        "core.judge_form",
        "core.judge_output",
        "core.language",
        "core.prompt_render",
        "core.rubrics",
        "core.sampling",
        "core.template_files",
        "core.templates",
        "core.tool_json",
        "llm.base",
        "llm.ollama",
        "llm.openai_compat",
        "services.audition",
        "services.augment_jobs",
        "services.backends",
        "services.backup",
        "services.batch_files",
        "services.config",
        "services.dataset_files",
        "services.dataset_filter",
        "services.dataset_ops",
        "services.datasets",
        "services.dedup",
        "services.dedup_jobs",
        "services.endpoint_pool",
        "services.endpoints",
        "services.examples",
        "services.export_workers",
        "services.exporting",
        "services.files",
        "services.generation",
        "services.generation_jobs",
        "services.home",
        "services.importing",
        "services.job_configs",
        "services.job_kinds",
        "services.job_runner",
        "services.jobs",
        "services.judge_jobs",
        "services.judging",
        "services.key_rotation",
        "services.readable_files",
        "services.restore",
        "services.review_queue",
        "services.rubrics",
        "services.slot_values",
        "services.templates",
        "services.topics",
        "services.until_n",
        "store.custom_formats",
        "store.db",
        "store.db_file",
        "store.example_reader",
        "store.staged_inserts",
        "store.templates",
        "store.vault",
        "ui.backup_flow",
        "ui.dataset_op_runs",
        "ui.dialogs.augment",
        "ui.dialogs.card_editor",
        "ui.dialogs.common",
        "ui.dialogs.dataset_ops",
        "ui.dialogs.dataset_stats",
        "ui.dialogs.dedup",
        "ui.dialogs.endpoint",
        "ui.dialogs.example_detail",
        "ui.dialogs.import_flow",
        "ui.dialogs.judge_job",
        "ui.dialogs.new_job",
        "ui.dialogs.pick",
        "ui.dialogs.saved_configs",
        "ui.dialogs.slot_editor",
        "ui.dialogs.topic_tree",
        "ui.screens.audition",
        "ui.screens.datasets",
        "ui.screens.examples",
        "ui.screens.export",
        "ui.screens.jobs",
        "ui.screens.review",
        "ui.screens.settings",
        "ui.screens.templates",
        "ui.widgets.audition_card",
        "ui.widgets.endpoint_list",
        "ui.widgets.example_search",
        "ui.widgets.example_table",
        "ui.widgets.export_options",
        "ui.widgets.format_preview",
        "ui.widgets.job_detail",
        "ui.widgets.slot_table",
        "ui.widgets.template_editor",
        "ui.widgets.template_list",
    }
)


def test_no_unwrapped_text_outside_the_modules_not_converted_yet() -> None:
    found = all_findings()
    new = {m: [str(f) for f in fs] for m, fs in found.items() if m.removeprefix("forge_tui.") not in NOT_CONVERTED}
    assert not new, f"wrap these in _() (or N_() for a constant shown through _()): {new}"


def test_the_list_of_modules_not_converted_only_shrinks() -> None:
    found = {m.removeprefix("forge_tui.") for m in all_findings()}
    clean = sorted(NOT_CONVERTED - found)
    assert not clean, f"converted (or gone): remove them from NOT_CONVERTED: {clean}"


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
