"""F1's text about the longer screens, naming every key as the bindings in use give it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.widgets import TextArea

from forge_tui.core.example_filter import FLAG_MARK
from forge_tui.i18n import _
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.keys import class_key
from forge_tui.ui.widgets.example_table import ExampleTable


def examples_help(app: App[object], screen: Callable[[str], str]) -> str:
    """`screen` names the Examples screen's own keys (WorkspaceScreen.key)."""

    def table(action: str) -> str:
        return class_key(app, ExampleTable, action)

    return _(
        "The current dataset, a row per example. {open} opens one (edit, then "
        "{save} saves). {toggle} selects a row, "
        "{extend_up}/{extend_down} extends the selection, {select_all} selects all; "
        "{delete} removes the selected rows ({undo} puts them back until you leave this "
        "screen); {regenerate} sends them to Audition to be answered again (star the new answers and "
        "add them); {copy_to} copies and {move_to} moves them to a dataset "
        "you pick. {search} searches every field of every example (matches appear while the scan "
        "goes on; {clear} returns to the whole dataset). {import_file} imports a file (JSONL, "
        "JSON, CSV, TSV, Parquet). {copy} copies the example under the cursor as JSON; in the detail "
        "view {copy_field} copies the whole focused field "
        "({copy_selection} copies a selection). The kto column shows each example's "
        "desirability for KTO (✓ desirable, ✗ undesirable, "
        "blank: not labelled; set it in the detail view); "
        "{cycle_desirability} shows all examples, then only desirable, undesirable or unlabelled ones. "
        "{filter_expression} shows only the examples a filter expression takes, such as "
        "score>=7 and review!=rejected and model=~'qwen' (see the README for the columns and operators). "
        "The rev column is the review state: ✓ accepted (what Audition adds), · unreviewed (what jobs add, "
        "waiting for a person), ✗ rejected (export leaves it out); "
        "{accept} accepts and {reject} rejects the selected rows (set any state in the "
        "detail view), {cycle_review} shows only unreviewed, accepted or rejected ones, and "
        "{review} opens them in the review queue, one card at a time. The source "
        "column says where each came from (audition, import, job N, playground; {cycle_source} shows "
        "one source at a time); {flag_mark} marks an answer not in the language its job asked for (the detail "
        "view says why; {cycle_flag} shows only those). The score column is an LLM judge's score "
        "(1-10, blank: not judged); {cycle_order} sorts by score, best then worst first (the unjudged "
        "last), and back to oldest first; {score_at_least} shows only examples scored at or above a "
        "threshold you type, {score_below} only those below one, {cycle_judged} only the "
        "judged, then only the unjudged ones. The filters combine. {dedup} finds "
        "exact and near-duplicate examples (prompt and answer) and shows each cluster's members side by side "
        "with their similarity: keep one (the others are rejected, which can be undone) or keep all."
    ).format(
        open=table("open"),
        save=class_key(app, ExampleDetail, "save"),
        toggle=table("toggle_row"),
        extend_up=table("extend(-1)"),
        extend_down=table("extend(1)"),
        select_all=screen("select_all"),
        delete=screen("delete"),
        undo=screen("undo"),
        regenerate=screen("regenerate"),
        copy_to=screen("copy_to(False)"),
        move_to=screen("copy_to(True)"),
        search=screen("search"),
        clear=screen("clear"),
        import_file=screen("import"),
        copy=screen("copy"),
        copy_field=class_key(app, ExampleDetail, "copy_field"),
        copy_selection=class_key(app, TextArea, "copy"),
        cycle_desirability=screen("cycle_desirability"),
        filter_expression=screen("filter_expression"),
        accept=screen("accept"),
        reject=screen("reject"),
        cycle_review=screen("cycle_review"),
        review=screen("review"),
        cycle_source=screen("cycle_source"),
        flag_mark=FLAG_MARK,
        cycle_flag=screen("cycle_flag"),
        cycle_order=screen("cycle_order"),
        score_at_least=screen("score_at_least"),
        score_below=screen("score_below"),
        cycle_judged=screen("cycle_judged"),
        dedup=screen("dedup"),
    )


def examples_playground_help(app: App[object], screen: Callable[[str], str]) -> str:
    """The Examples screen's keys to the Playground (`screen` as in examples_help)."""
    return _(
        "{playground} (and {detail_playground} in the detail view) opens the example in the Playground to "
        "continue or fix the conversation; saving there updates it."
    ).format(
        playground=screen("open_in_playground"),
        detail_playground=class_key(app, ExampleDetail, "open_in_playground"),
    )


def playground_help(screen: Callable[[str], str], turn: Callable[[str], str], send: str) -> str:
    """`screen` names the Playground's keys (WorkspaceScreen.key), `turn` a turn's (TurnView.key), `send`
    the message field's."""
    return _(
        "Chat with a model: type a message and press {send}. {options} sets the model, system prompt, "
        "temperature and seed; {tools} takes the tool definitions of a template, and a tool call's "
        "result is typed by you as the tool's answer. On a turn ({last_turn} from the message field): "
        "{edit} edits it (a message edited is answered again), {branch} asks for another answer and "
        "keeps the old one as a rejected alternative, {copy} copies, {fold} unfolds the thinking. "
        "{save} saves the conversation in the current dataset as one accepted example (an example "
        "opened here from Examples is updated instead). {stop} stops an answer; {new} starts afresh."
    ).format(
        **{action: screen(action) for action in ("options", "tools", "save", "stop")},
        new=screen("new_chat"),
        send=send,
        last_turn=screen("turn(-1)"),
        **{action: turn(action) for action in ("edit", "branch", "copy", "fold")},
    )


def export_help(screen: Callable[[str], str]) -> str:
    """`screen` names the Export screen's keys (WorkspaceScreen.key)."""
    return _(
        "Choose a format, which examples by review state (by default all but the rejected ones), and a file "
        "type, optionally a train share (0.9 writes NAME.train and NAME.valid, "
        "shuffled with the seed), and where to write; {export} exports. Reasoning (the model's "
        "thinking before an answer) is written in the format's own field, as <think> text before the answer, or "
        "left out; each format has its default. The preview shows the first examples in the chosen format; "
        "{stop} stops a running export (nothing is written). Custom formats are Jinja2 bodies that "
        "write one JSON object per example: {new_format} makes one, {duplicate_format} "
        "duplicates the chosen one, {save_format} saves its body, {delete_format} deletes it. "
        "The body sees `example` (every field), `messages` (OpenAI shape) and `conversation`. "
        "{bundle} writes a trainer bundle instead: a folder with the data, the trainer's config and a README "
        "with the exact command, for TRL, LLaMA-Factory, MLX-LM, Axolotl or Unsloth."
    ).format(
        bundle=screen("bundle"),
        export=screen("export"),
        stop=screen("stop"),
        new_format=screen("new_format"),
        duplicate_format=screen("duplicate_format"),
        save_format=screen("save_format"),
        delete_format=screen("delete_format"),
    )


def review_help(screen: Callable[[str], str]) -> str:
    """`screen` names the Review screen's keys (WorkspaceScreen.key)."""
    return _(
        "The examples waiting for a decision (unreviewed, or those of the Examples filter when opened from "
        "there), one card at a time: the prompt (the system prompt folded to a line), the answer, the judge's "
        "score and reason, and how many near-duplicates it has when dedup found some. "
        "{accept} accepts and {reject} rejects the card and shows the next; "
        "{next}/{previous} move without deciding. {edit} edits the answer; "
        "{fix} asks the judge model (else the generation model) to rewrite it with the judge's "
        "reason, and keeps the old answer as rejected, so the two become a preference pair on export. "
        "{undo} takes back the last decision, edit or fix. {accept_from} accepts every "
        "example scored at or above a score, {reject_below} rejects every one below it (the count is "
        "shown before; one undo takes it back; unscored examples are left alone). {sort} sorts worst "
        "score first, best first, or by time (unscored examples come last)."
    ).format(
        accept=screen("accept"),
        reject=screen("reject"),
        next=screen("next"),
        previous=screen("previous"),
        edit=screen("edit"),
        fix=screen("fix"),
        undo=screen("undo"),
        accept_from=screen("accept_from"),
        reject_below=screen("reject_below"),
        sort=screen("sort"),
    )
