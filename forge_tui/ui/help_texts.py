"""F1's text about the longer screens, naming every key as the bindings in use give it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.widgets import TextArea

from forge_tui.core.example_filter import FLAG_MARK
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.keys import class_key
from forge_tui.ui.widgets.example_table import ExampleTable


def examples_help(app: App[object], screen: Callable[[str], str]) -> str:
    """`screen` names the Examples screen's own keys (WorkspaceScreen.key)."""

    def table(action: str) -> str:
        return class_key(app, ExampleTable, action)

    return (
        f"The current dataset, a row per example. {table('open')} opens one (edit, then "
        f"{class_key(app, ExampleDetail, 'save')} saves). {table('toggle_row')} selects a row, "
        f"{table('extend(-1)')}/{table('extend(1)')} extends the selection, {screen('select_all')} selects all; "
        f"{screen('delete')} removes the selected rows ({screen('undo')} puts them back until you leave this "
        f"screen); {screen('regenerate')} sends them to Audition to be answered again (star the new answers and "
        f"add them); {screen('copy_to(False)')} copies and {screen('copy_to(True)')} moves them to a dataset "
        f"you pick. {screen('search')} searches every field of every example (matches appear while the scan "
        f"goes on; {screen('clear')} returns to the whole dataset). {screen('import')} imports a file (JSONL, "
        f"JSON, CSV, TSV, Parquet). {screen('copy')} copies the example under the cursor as JSON; in the detail "
        f"view {class_key(app, ExampleDetail, 'copy_field')} copies the whole focused field "
        f"({class_key(app, TextArea, 'copy')} copies a selection). The kto column shows each example's "
        "desirability for KTO (✓ desirable, ✗ undesirable, "
        "blank: not labelled; set it in the detail view); "
        f"{screen('cycle_desirability')} shows all examples, then only desirable, undesirable or unlabelled ones. "
        f"{screen('filter_expression')} shows only the examples a filter expression takes, such as "
        "score>=7 and review!=rejected and model=~'qwen' (see the README for the columns and operators). "
        "The rev column is the review state: ✓ accepted (what Audition adds), · unreviewed (what jobs add, "
        "waiting for a person), ✗ rejected (export leaves it out); "
        f"{screen('accept')} accepts and {screen('reject')} rejects the selected rows (set any state in the "
        f"detail view), {screen('cycle_review')} shows only unreviewed, accepted or rejected ones, and "
        f"{screen('review')} opens them in the review queue, one card at a time. The source "
        f"column says where each came from (audition, import, job N, playground; {screen('cycle_source')} shows "
        f"one source at a time); {FLAG_MARK} marks an answer not in the language its job asked for (the detail "
        f"view says why; {screen('cycle_flag')} shows only those). The score column is an LLM judge's score "
        f"(1-10, blank: not judged); {screen('cycle_order')} sorts by score, best then worst first (the unjudged "
        f"last), and back to oldest first; {screen('score_at_least')} shows only examples scored at or above a "
        f"threshold you type, {screen('score_below')} only those below one, {screen('cycle_judged')} only the "
        f"judged, then only the unjudged ones. The filters combine. {screen('dedup')} finds "
        "exact and near-duplicate examples (prompt and answer) and shows each cluster's members side by side "
        "with their similarity: keep one (the others are rejected, which can be undone) or keep all."
    )


def export_help(screen: Callable[[str], str]) -> str:
    """`screen` names the Export screen's keys (WorkspaceScreen.key)."""
    return (
        "Choose a format, which examples by review state (by default all but the rejected ones), and a file "
        "type, optionally a train share (0.9 writes NAME.train and NAME.valid, "
        f"shuffled with the seed), and where to write; {screen('export')} exports. Reasoning (the model's "
        "thinking before an answer) is written in the format's own field, as <think> text before the answer, or "
        "left out; each format has its default. The preview shows the first examples in the chosen format; "
        f"{screen('stop')} stops a running export (nothing is written). Custom formats are Jinja2 bodies that "
        f"write one JSON object per example: {screen('new_format')} makes one, {screen('duplicate_format')} "
        f"duplicates the chosen one, {screen('save_format')} saves its body, {screen('delete_format')} deletes it. "
        "The body sees `example` (every field), `messages` (OpenAI shape) and `conversation`."
    )


def review_help(screen: Callable[[str], str]) -> str:
    """`screen` names the Review screen's keys (WorkspaceScreen.key)."""
    return (
        "The examples waiting for a decision (unreviewed, or those of the Examples filter when opened from "
        "there), one card at a time: the prompt (the system prompt folded to a line), the answer, the judge's "
        "score and reason, and how many near-duplicates it has when dedup found some. "
        f"{screen('accept')} accepts and {screen('reject')} rejects the card and shows the next; "
        f"{screen('next')}/{screen('previous')} move without deciding. {screen('edit')} edits the answer; "
        f"{screen('fix')} asks the judge model (else the generation model) to rewrite it with the judge's "
        "reason, and keeps the old answer as rejected, so the two become a preference pair on export. "
        f"{screen('undo')} takes back the last decision, edit or fix. {screen('accept_from')} accepts every "
        f"example scored at or above a score, {screen('reject_below')} rejects every one below it (the count is "
        f"shown before; one undo takes it back; unscored examples are left alone). {screen('sort')} sorts worst "
        "score first, best first, or by time (unscored examples come last)."
    )
