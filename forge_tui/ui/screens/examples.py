"""Examples (`e`): the current dataset as a table, opened a page at a time; detail and edit,
select and delete (with undo until you leave), search, import."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding

from forge_tui.core.dedup import DEFAULT_THRESHOLD
from forge_tui.core.example_filter import ExampleFilter, ExampleOrder, parse_score, score_problem
from forge_tui.core.export_formats import FORMATS
from forge_tui.core.filter_language import COLUMN_NAMES, FilterError, parse
from forge_tui.core.models import DatasetInfo, Example, ExampleContent, ReviewState
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.dataset_filter import DatasetFilterService
from forge_tui.services.dedup import DedupService
from forge_tui.services.examples import ExampleService
from forge_tui.services.job_host import JobHost
from forge_tui.services.workspace import Workspace
from forge_tui.ui.current import current_dataset, no_dataset
from forge_tui.ui.dataset_op_runs import copy_examples
from forge_tui.ui.dialogs.common import Confirm, TextPrompt
from forge_tui.ui.dialogs.dedup import DedupView
from forge_tui.ui.dialogs.example_detail import ExampleDetail
from forge_tui.ui.dialogs.import_flow import ImportFlow
from forge_tui.ui.dialogs.pick import PickOne
from forge_tui.ui.field_checks import NoProblem
from forge_tui.ui.help_texts import examples_help, examples_playground_help
from forge_tui.ui.keys import class_key
from forge_tui.ui.localized import Localized
from forge_tui.ui.messages import DatasetsChanged, DatasetSwitched, OpenInPlayground, Regenerate, ReviewExamples
from forge_tui.ui.screens.base import WorkspaceScreen
from forge_tui.ui.widgets.example_search import ExampleSearch
from forge_tui.ui.widgets.example_table import DatasetSource, ExampleTable, ListSource
from forge_tui.ui.widgets.examples_status import ExamplesStatus, ExamplesView, StatusKeys
from forge_tui.ui.widgets.footer import ForgeFooter
from forge_tui.ui.widgets.header import ForgeHeader
from forge_tui.ui.widgets.search_bar import SearchBar

REGENERATE_AT_MOST = 64


def as_json(example: Example) -> str:
    """Every field of the example, as the raw export writes it, indented."""
    return json.dumps(next(FORMATS["raw"].render(example)), indent=2, ensure_ascii=False, default=str)


def expression_problem(text: str) -> str | None:
    """What is wrong with a typed filter expression (empty is fine: it shows every example)."""
    if not text.strip():
        return None
    try:
        parse(text)
    except FilterError as exc:
        return str(exc)
    return None


def detail_saver(examples: ExampleService) -> Callable[[Example, ExampleContent, bool | None, ReviewState], Example]:
    """What the detail view's save does: the content and desirability, then the review state if it changed."""

    def save(ex: Example, content: ExampleContent, desirability: bool | None, review: ReviewState) -> Example:
        saved = examples.update(ex, content, desirability)
        if review is not saved.meta.review:
            examples.set_review([ex.id], review)
            saved = examples.get(ex.id)
        return saved

    return save


class ExamplesScreen(Localized, WorkspaceScreen):
    TITLE = N_("Examples")
    BINDINGS = [
        Binding("slash", "search", N_("Search"), id="examples.search"),
        Binding("ctrl+a", "select_all", N_("Select all"), id="examples.select_all"),
        Binding("delete", "delete", N_("Delete"), id="examples.delete"),
        Binding("u", "undo", N_("Undo delete"), id="examples.undo"),
        Binding("i", "import", N_("Import"), id="examples.import"),
        Binding("c", "copy", N_("Copy"), id="examples.copy"),
        Binding("ctrl+r", "regenerate", N_("Regenerate"), id="examples.regenerate"),
        Binding("f", "filter_expression", N_("Filter"), id="examples.filter_expression"),
        Binding("K", "cycle_desirability", N_("✓✗ filter"), id="examples.desirability_filter"),
        Binding("r", "cycle_review", N_("Review filter"), id="examples.review_filter"),
        Binding("o", "cycle_source", N_("Source filter"), id="examples.source_filter"),
        Binding("l", "cycle_flag", N_("⚑ filter"), id="examples.flag_filter"),
        Binding("v", "cycle_order", N_("Sort"), id="examples.sort"),
        Binding("greater_than_sign", "score_at_least", N_("Score ≥"), show=False, id="examples.min_score"),
        Binding("less_than_sign", "score_below", N_("Score <"), show=False, id="examples.max_score"),
        Binding("n", "cycle_judged", N_("Judged filter"), show=False, id="examples.judged_filter"),
        Binding("plus", "accept", N_("Accept"), id="examples.accept"),
        Binding("minus", "reject", N_("Reject"), id="examples.reject"),
        Binding("q", "review", N_("Review these"), id="examples.review"),
        Binding("escape", "clear", N_("Whole dataset"), id="examples.clear"),
        Binding("D", "dedup", N_("Duplicates"), id="examples.dedup"),
        Binding("C", "copy_to(False)", N_("Copy to…"), show=False, id="examples.copy_to"),
        Binding("M", "copy_to(True)", N_("Move to…"), show=False, id="examples.move_to"),
        Binding("a", "augment", N_("Augment"), id="examples.augment"),
        Binding("P", "open_in_playground", N_("Playground"), show=False, id="examples.playground"),
    ]

    def help_text(self) -> str:
        return f"{examples_help(self.app, self.key)} {examples_playground_help(self.app, self.key)}"

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(workspace)
        self._undo: list[list[dict[str, Any]]] = []  # each delete's rows, to put back until you leave
        self.wanted = ExampleFilter()
        self.order = ExampleOrder.TIME
        self.expression = ""  # a filter expression (core.filter_language) the table shows the matches of

    @property
    def dataset(self) -> DatasetInfo | None:
        return current_dataset(self)

    @property
    def dataset_name(self) -> str:
        return dataset.name if (dataset := self.dataset) else ""

    def compose(self) -> ComposeResult:
        yield ForgeHeader()
        yield ExamplesStatus(id="examples-status")
        yield ExampleSearch(placeholder=self._search_hint(), id="examples-search")
        yield ExampleTable(self._dataset_source(), id="examples-table")
        yield ForgeFooter()

    def _search_hint(self) -> str:
        submit = class_key(self.app, SearchBar, "submit")
        return _("search every field — {submit} to search, {clear} to go back").format(
            submit=submit, clear=self.key("clear")
        )

    def draw_text(self) -> None:
        self.search_bar.placeholder = self._search_hint()

    def _dataset_source(self) -> DatasetSource:
        dataset = self.dataset
        return DatasetSource.of(self.workspace.examples, dataset.id if dataset else None, self.wanted, self.order)

    @property
    def table(self) -> ExampleTable:
        return self.query_one(ExampleTable)

    @property
    def search_bar(self) -> ExampleSearch:
        return self.query_one(ExampleSearch)

    def on_mount(self) -> None:
        self.query_one(ExamplesStatus).keys = StatusKeys.bound(self.key)  # once: the line follows the cursor
        self.table.reload()
        self.table.focus()
        self._status()

    def on_unmount(self) -> None:
        self._undo.clear()  # deletes become final when you leave

    def on_dataset_switched(self, message: DatasetSwitched) -> None:
        """Shows the new dataset in place: its rows, no search, no selection; deletes so far are final."""
        self._undo.clear()
        self._show_whole_dataset()

    def _status(self) -> None:
        table, dataset, search = self.table, self.dataset, self.search_bar.state
        view = ExamplesView(
            dataset=dataset.name if dataset else None, total=table.total, wanted=self.wanted,
            searching=search.text, search_done=search.done, damaged=search.damaged,
            selected=len(table.selected), can_undo=bool(self._undo), order=self.order, expression=self.expression,
        )  # fmt: skip
        self.query_one(ExamplesStatus).show(view)

    def action_cycle_desirability(self) -> None:
        """All examples, then only the desirable, the undesirable, the unlabelled ones (KTO)."""
        self.show_filtered(self.wanted.next_desirability())

    def action_cycle_review(self) -> None:
        """Any review state, then only the unreviewed, the accepted, the rejected examples."""
        self.show_filtered(self.wanted.next_review())

    def action_cycle_source(self) -> None:
        """Any source, then only examples from Audition, imports, jobs, the playground."""
        self.show_filtered(self.wanted.next_source())

    def action_cycle_flag(self) -> None:
        """Any example, then only those flagged as not in the language their job asked for."""
        self.show_filtered(self.wanted.next_flag())

    def action_cycle_judged(self) -> None:
        """Any example, then only those a judge scored, then only those not scored yet."""
        self.show_filtered(self.wanted.next_judged())

    def action_cycle_order(self) -> None:
        """Oldest first, then best score first, then worst score first (the unjudged last)."""
        self.order = self.order.cycled()
        self.show_filtered(self.wanted)

    @work(group="dialog")
    async def action_score_at_least(self) -> None:
        """Only examples scored at or above a threshold typed in (empty: any score)."""
        await self._ask_score(_("Only examples scored at or above (1-10; empty: any score)"), "min_score")

    @work(group="dialog")
    async def action_score_below(self) -> None:
        """Only examples scored below a threshold typed in (empty: any score)."""
        await self._ask_score(_("Only examples scored below (1-10; empty: any score)"), "max_score")

    async def _ask_score(self, title: str, bound: str) -> None:
        now = getattr(self.wanted, bound)
        prompt = TextPrompt(title, value="" if now is None else f"{now:g}", validators=[NoProblem(score_problem)])
        typed = await self.app.push_screen_wait(prompt)
        if typed is not None:
            bounds = {"min_score": self.wanted.min_score, "max_score": self.wanted.max_score}
            bounds[bound] = parse_score(typed)
            self.show_filtered(self.wanted.with_scores(**bounds))

    @work(group="dialog")
    async def action_filter_expression(self) -> None:
        """Only the examples a filter expression takes, e.g. score>=7 and model=~'qwen' (empty: all)."""
        dataset = self.dataset
        if dataset is None:
            return
        prompt = TextPrompt(
            _("Filter, e.g. score>=7 and review!=rejected (columns: {columns}; empty: all)").format(
                columns=COLUMN_NAMES
            ),
            value=self.expression,
            validators=[NoProblem(expression_problem)],
        )
        typed = await self.app.push_screen_wait(prompt)
        if typed is None:
            return
        if not typed.strip():
            self.expression = ""
            self._show_whole_dataset()
            return
        wanted = parse(typed)
        found = await self.report_async(
            N_("Cannot filter the examples"),
            lambda: DatasetFilterService(self.workspace.examples).matching(dataset.id, wanted),
        )
        if found is None or self.dataset is None or self.dataset.id != dataset.id:
            return
        self.search_bar.close()
        self.expression = typed.strip()
        source = ListSource()
        source.items = list(found[0])
        self.table.show_rows(source)
        self.table.focus()
        self._status()

    def show_filtered(self, wanted: ExampleFilter) -> None:
        """Shows the examples `wanted` admits (a search goes on among them), e.g. one job's."""
        if self.dataset is None:
            return
        self.wanted = wanted
        self.expression = ""
        if self.search_bar.state.text:
            self._restart_search(self.search_bar.state.text)
        else:
            self.table.show_rows(self._dataset_source())
        self._status()

    @on(ExampleTable.Moved)
    def _moved(self) -> None:
        self._status()

    # --- detail -----------------------------------------------------------------------------------
    @on(ExampleTable.Opened)
    @work(group="detail")
    async def _open(self, event: ExampleTable.Opened) -> None:
        example = self.report(N_("Cannot open the example"), lambda: self.workspace.examples.get(event.example_id))
        if example is None:
            return
        if await self.app.push_screen_wait(ExampleDetail(example, detail_saver(self.workspace.examples))) is not None:
            self.table.reload()

    def action_open_in_playground(self) -> None:
        """The example under the cursor, to continue or fix in the Playground."""
        view = self.table.current()
        example = (
            self.report(N_("Cannot open the example"), lambda: self.workspace.examples.get(view.id)) if view else None
        )
        if example is not None:
            self.post_message(OpenInPlayground(example))

    def action_copy(self) -> None:
        """The example under the cursor as JSON, to the clipboard (OSC 52; the browser's under serve)."""
        view = self.table.current()
        example = (
            self.report(N_("Cannot copy the example"), lambda: self.workspace.examples.get(view.id)) if view else None
        )
        if example is None:
            return
        text = as_json(example)
        self.app.copy_to_clipboard(text)
        copied = ngettext(
            "Copied example {n} as JSON ({size} character).",
            "Copied example {n} as JSON ({size} characters).",
            len(text),
        )
        self.notify(copied.format(n=self.table.cursor + 1, size=f"{len(text):,}"))

    # --- review -----------------------------------------------------------------------------------------
    def action_accept(self) -> None:
        self._set_review(ReviewState.ACCEPTED)

    def action_reject(self) -> None:
        self._set_review(ReviewState.REJECTED)

    def action_review(self) -> None:
        """The review queue, one card at a time, on the examples this filter shows."""
        self.post_message(ReviewExamples(self.wanted))

    def _set_review(self, state: ReviewState) -> None:
        """The chosen examples take the review state (and leave the view if the filter no longer admits them)."""
        table, dataset, chosen = self.table, self.dataset, self.table.chosen_ids()
        if not chosen or dataset is None:
            return
        changed = self.report(
            N_("Cannot change the review state"), lambda: self.workspace.examples.set_review(chosen, state)
        )
        if changed is None:
            return
        fresh = self.workspace.examples.open_ids(dataset.id, chosen) if table.listed is not None else []
        table.renew(fresh, lambda e: self.wanted.admits(e.meta))
        self._status()
        if state is ReviewState.ACCEPTED:
            done = ngettext("Accepted {n} example.", "Accepted {n} examples.", changed)
        else:
            done = ngettext("Rejected {n} example.", "Rejected {n} examples.", changed)
        self.notify(done.format(n=changed))

    # --- selection and delete -----------------------------------------------------------------------
    def action_select_all(self) -> None:
        dataset, examples, wanted = self.dataset, self.workspace.examples, self.wanted
        if dataset is not None:
            self.table.select_all(lambda: examples.ids(dataset.id, wanted))

    @work(group="delete", exclusive=True)
    async def action_delete(self) -> None:
        table, dataset, doomed = self.table, self.dataset, self.table.chosen_ids()
        if not doomed or dataset is None:
            return
        ask = ngettext("Delete {n} example?", "Delete {n} examples?", len(doomed)).format(n=len(doomed))
        if not await self.app.push_screen_wait(Confirm(ask, yes=_("Delete"))):
            return
        removed = self.workspace.examples.delete(dataset.id, doomed)
        self._undo.append(removed)
        table.forget(doomed)
        self._status()
        undo = self.key("undo")
        if undo:
            deleted = ngettext(
                "Deleted {n} example; {key} undoes it.", "Deleted {n} examples; {key} undoes it.", len(removed)
            )
        else:
            deleted = ngettext("Deleted {n} example.", "Deleted {n} examples.", len(removed))
        self.notify(deleted.format(n=len(removed), key=undo))

    def action_undo(self) -> None:
        if not self._undo:
            self.notify(_("Nothing to undo."))
            return
        removed = self._undo.pop()
        self.workspace.examples.undo_delete(removed)
        if self.search_bar.state.text:
            self.action_clear()
        self.table.reload()
        self._status()
        self.notify(ngettext("Put back {n} example.", "Put back {n} examples.", len(removed)).format(n=len(removed)))

    # --- copy or move to another dataset -----------------------------------------------------------------
    @work(group="dialog")
    async def action_copy_to(self, move: bool) -> None:
        """The selected examples (or the one under the cursor) copied or moved to a dataset picked from a list."""
        chosen, dataset = self.table.chosen_ids(), self.dataset
        if not chosen or dataset is None:
            return
        others = [(d.name, d.name) for d in self.workspace.datasets.list() if d.id != dataset.id]
        if not others:
            self.notify(_("There is no other dataset to send them to (create one on Datasets)."))
            return
        n = len(chosen)
        if move:
            title = ngettext("Move {n} example to", "Move {n} examples to", n)
        else:
            title = ngettext("Copy {n} example to", "Copy {n} examples to", n)
        to = await self.app.push_screen_wait(PickOne(title.format(n=n), others))
        if to is None:
            return
        written = await copy_examples(self, self.workspace, chosen, to, move)
        if written is None:
            return
        if move:
            self.table.forget(chosen)
            self._status()
        self.post_message(DatasetsChanged())
        if move:
            sent = ngettext("Moved {n} example to '{dataset}'.", "Moved {n} examples to '{dataset}'.", written.examples)
        else:
            sent = ngettext(
                "Copied {n} example to '{dataset}'.", "Copied {n} examples to '{dataset}'.", written.examples
            )
        self.notify(sent.format(n=written.examples, dataset=written.dataset))

    # --- regenerate --------------------------------------------------------------------------------------
    def action_regenerate(self) -> None:
        """The selected examples (or the one under the cursor) go to Audition as cards to ask again."""
        chosen, dataset = self.table.chosen_ids(), self.dataset
        if not chosen or dataset is None:
            return
        if len(chosen) > REGENERATE_AT_MOST:
            too_many = _("{n} selected: regenerate takes up to {most} at a time.")
            self.notify(too_many.format(n=len(chosen), most=REGENERATE_AT_MOST), severity="warning")
            return
        found = [e for e in self.workspace.examples.open_ids(dataset.id, chosen) if isinstance(e, Example)]
        self.post_message(Regenerate(found))

    # --- search -----------------------------------------------------------------------------------------
    def action_search(self) -> None:
        self.search_bar.open()

    @on(SearchBar.Search)
    def _search_asked(self, event: SearchBar.Search) -> None:
        if event.text:
            self._restart_search(event.text)
        else:
            self.action_clear()

    def _restart_search(self, text: str) -> None:
        source = ListSource()
        self.table.show_rows(source)
        self.table.focus()
        dataset, examples, wanted = self.dataset, self.workspace.examples, self.wanted
        search = (lambda: examples.search(dataset.id, text, wanted)) if dataset is not None else None
        self.search_bar.start(text, source, search)

    @on(SearchBar.Found)
    @on(SearchBar.Finished)
    def _search_went_on(self, event: SearchBar.Found | SearchBar.Finished) -> None:
        """Matches (the table takes them if it still shows their search) or the end of the scan."""
        if isinstance(event, SearchBar.Found):
            self.table.add_found(event.owner, event.batch)
        if event.owner is self.table.source:
            self._status()

    def action_clear(self) -> None:
        if self.search_bar.state.text or self.search_bar.display or self.expression:
            self._show_whole_dataset()

    def _show_whole_dataset(self) -> None:
        self.expression = ""
        self.search_bar.close()
        self.table.show_rows(self._dataset_source())
        self.table.focus()
        self._status()

    # --- duplicates ----------------------------------------------------------------------------------
    @work(group="dedup", exclusive=True)
    async def action_dedup(self) -> None:
        """Finds exact and near-duplicate examples (a dedup job) and shows them cluster by cluster to keep or drop."""
        dataset, workspace = self.dataset, self.workspace
        if dataset is None:
            self.notify(no_dataset(self.key("show_datasets")), severity="warning")
            return
        service = DedupService(workspace.home, workspace.unlocked, workspace.examples)
        host = getattr(self.app, "job_host", None)
        view = DedupView(
            service, dataset.id, dataset.name, DEFAULT_THRESHOLD, host if isinstance(host, JobHost) else None
        )
        if await self.app.push_screen_wait(view):
            self.table.reload()
            self._status()

    # --- augment -------------------------------------------------------------------------------------
    @work(group="augment", exclusive=True)
    async def action_augment(self) -> None:
        """The augment dialog for the selected rows (or the examples the filter shows, or every example);
        Start plans and runs the job."""
        from forge_tui.services.augment_jobs import (
            AugmentChoice,
            PreviewRow,
            default_into,
            preview_on_settings,
            start_choice,
        )
        from forge_tui.services.job_configs import JobConfigService
        from forge_tui.ui.dialogs.augment import AugmentDialog

        dataset, workspace = self.dataset, self.workspace
        if dataset is None:
            self.notify(no_dataset(self.key("show_datasets")), severity="warning")
            return
        backend = workspace.settings.backend()
        choice = AugmentChoice(
            dataset_id=dataset.id,
            field="answer",
            instruction="",
            model=backend.generation_model or "",
            into=default_into(dataset.name),
            max_tokens=backend.max_tokens,
        )

        async def previewer(typed: AugmentChoice) -> list[PreviewRow]:
            return await preview_on_settings(workspace, typed)

        selected = self.table.chosen_ids() if self.table.selected else []
        configs = JobConfigService(workspace.home, workspace.unlocked)
        dialog = AugmentDialog(
            choice, dataset.name, previewer, selected, configs, where=self.expression, concurrency=backend.concurrency
        )
        typed = await self.app.push_screen_wait(dialog)
        if typed is None:
            return
        created = await self.report_async(N_("Cannot start the augment job"), lambda: start_choice(workspace, typed))
        if created is None:
            return
        host = getattr(self.app, "job_host", None)
        if isinstance(host, JobHost):
            host.start(created.id)
        self.post_message(DatasetsChanged())
        if typed.into:
            started = ngettext(
                "Augment job {id} started: {n} example into '{into}'.",
                "Augment job {id} started: {n} examples into '{into}'.",
                created.total,
            )
        else:
            started = ngettext(
                "Augment job {id} started: {n} example in place.",
                "Augment job {id} started: {n} examples in place.",
                created.total,
            )
        self.notify(started.format(id=created.id, n=created.total, into=typed.into))

    # --- import ------------------------------------------------------------------------------------------
    @work(group="import", exclusive=True)
    async def action_import(self) -> None:
        dataset = self.dataset
        if dataset is None:
            self.notify(no_dataset(self.key("show_datasets")), severity="warning")
            return
        if await ImportFlow(self.app, self.workspace.examples, dataset).run():
            self.table.reload()
            self._status()
            self.post_message(DatasetsChanged())
