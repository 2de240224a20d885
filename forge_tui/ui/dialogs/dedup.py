"""Duplicates of the current dataset (from Examples): the clusters dedup found, a cluster's members
side by side with their similarity to the focused one; keep the focused one (the rest are rejected),
keep all, or undo the cluster's choice. Rejections are reversible; they are the only change made.

The clusters are found by a dedup job (a dry run: the view decides) that the app's JobHost runs, so
it shows on Jobs and goes on if the view is closed; the view opens on its clusters when it ends."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from forge_tui.core.bounded_text import clip
from forge_tui.core.errors import ForgeError
from forge_tui.core.example_filter import REVIEW_MARKS
from forge_tui.core.jobs import JobState
from forge_tui.core.models import Example, ReviewState
from forge_tui.services.dedup import DedupService, DuplicateCluster
from forge_tui.services.dedup_jobs import DedupSpec, dedup_plan
from forge_tui.services.examples import BrokenExample
from forge_tui.services.job_host import JobHost
from forge_tui.ui.keys import key_for
from forge_tui.ui.widgets.plain import PlainLabel, PlainStatic

SIDE_BY_SIDE = 2  # members shown at once (80 columns hold two readable ones beside the list)
TEXT_CHARS = 600  # of each member's prompt and answer shown
POLL_S = 0.2  # how often the job's progress is read


@dataclass(frozen=True)
class Shown:
    """What a member card shows of an example."""

    prompt: str
    answer: str
    review: ReviewState | None  # None: the row cannot be read


class DedupView(ModalScreen[int]):
    """Dismisses with how many examples changed review state while it was open."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="dedup.close"),
        Binding("k", "keep_focused", "Keep this, drop rest", id="dedup.keep"),
        Binding("a", "keep_all", "Keep all", id="dedup.keep_all"),
        Binding("u", "undo", "Undo cluster", id="dedup.undo"),
        Binding("left", "move(-1)", "Previous member", id="dedup.previous"),
        Binding("right", "move(1)", "Next member", id="dedup.next"),
    ]

    def __init__(
        self,
        service: DedupService,
        dataset_id: int,
        dataset_name: str,
        threshold: float,
        host: JobHost | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.host = host
        self.job_id: int | None = None
        self.dataset_id = dataset_id
        self.dataset_name = dataset_name
        self.threshold = threshold
        self.clusters: list[DuplicateCluster] = []
        self.member = 0  # the index of the focused member in the current cluster
        self.changed = 0
        self._shown: dict[str, Shown] = {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dedup"):
            yield PlainLabel(f"Duplicates in {clip(self.dataset_name)}", classes="dialog-title")
            yield PlainStatic("Looking for duplicates…", id="dedup-status")
            with Horizontal(id="dedup-body"):
                yield OptionList(id="dedup-clusters")
                with Horizontal(id="dedup-members"):
                    for at in range(SIDE_BY_SIDE):
                        yield PlainStatic("", id=f"dedup-member-{at}", classes="dedup-member")
            yield PlainStatic(self._hint(), classes="dim", id="dedup-hint")

    def _hint(self) -> str:
        def key(action: str) -> str:
            return key_for(self, action)

        return (
            f"{key('move(-1)')}/{key('move(1)')} member · {key('keep_focused')} keep it, reject the rest · "
            f"{key('keep_all')} keep all · {key('undo')} undo · {key('close')} close"
        )

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._find()

    @work(thread=True, group="dedup-find", exclusive=True)
    def _find(self) -> None:
        try:
            if self.host is None:  # no job engine here: found in this worker
                found = self.service.find(self.dataset_id, self.threshold)
                self.app.call_from_thread(self._show_clusters, found)
                return
            spec = DedupSpec(threshold=self.threshold, dry_run=True)
            plan = dedup_plan(self.service.examples, self.dataset_id, spec)
            if not plan.items:
                self.app.call_from_thread(self._show_clusters, [])
                return
            job_id = self.host.jobs.create(plan).id
        except ForgeError as exc:
            self.app.call_from_thread(self._status, f"Cannot look for duplicates: {exc}")
            return
        self.app.call_from_thread(self._started, job_id)

    def _started(self, job_id: int) -> None:
        assert self.host is not None
        self.job_id = job_id
        self.host.start(job_id)
        self._status(f"Looking for duplicates (job {job_id})…")
        self.set_interval(POLL_S, self._poll, name="dedup-job")

    def _poll(self) -> None:
        host, job_id = self.host, self.job_id
        if host is None or job_id is None or self.clusters:
            return
        if host.running(job_id):
            latest = host.latest.get(job_id)
            if latest is not None and latest.total:
                self._status(f"Looking for duplicates (job {job_id}): {latest.done} of {latest.total} chunks…")
            return
        self.job_id = None
        try:
            job = host.jobs.get(job_id)
            if job.status is JobState.DONE:
                self._show_clusters(self.service.clusters(self.dataset_id))
            else:
                self._status(f"The dedup job {job_id} is {job.status.value}: resume it on Jobs, then press D again.")
        except ForgeError as exc:
            self._status(f"Cannot look for duplicates: {exc}")

    def _status(self, text: str) -> None:
        self.query_one("#dedup-status", PlainStatic).update(text)

    def _show_clusters(self, clusters: list[DuplicateCluster]) -> None:
        self.clusters = clusters
        listing = self.query_one(OptionList)
        listing.clear_options()
        listing.add_options([Option(self._label(c), id=str(c.id)) for c in clusters])
        if clusters:
            listing.highlighted = 0
        self._summary()
        self._show_members()

    @staticmethod
    def _label(cluster: DuplicateCluster) -> str:
        similar = "exact" if cluster.exact else f"≥{cluster.lowest:.2f}"
        mark = {"kept": " kept", "all": " all"}.get(cluster.decision, "")
        return f"{len(cluster.members)} × {similar}{mark}"

    def _summary(self) -> None:
        open_ = sum(c.decision == "open" for c in self.clusters)
        if not self.clusters:
            self._status(f"No duplicates at similarity {self.threshold:g} among the examples not rejected.")
        else:
            self._status(f"{len(self.clusters)} clusters, {open_} undecided; {self.changed} examples changed.")

    @property
    def cluster(self) -> DuplicateCluster | None:
        at = self.query_one(OptionList).highlighted
        return self.clusters[at] if at is not None and at < len(self.clusters) else None

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.member = 0
        self._show_members()

    def action_move(self, step: int) -> None:
        cluster = self.cluster
        if cluster is not None:
            self.member = (self.member + step) % len(cluster.members)
            self._show_members()

    def _show_members(self) -> None:
        cluster = self.cluster
        cards = [self.query_one(f"#dedup-member-{at}", PlainStatic) for at in range(SIDE_BY_SIDE)]
        if cluster is None:
            for card in cards:
                card.update("")
            return
        self._load(cluster)
        focused = cluster.members[self.member]
        shown = [(self.member + at) % len(cluster.members) for at in range(min(SIDE_BY_SIDE, len(cluster.members)))]
        for at, card in enumerate(cards):
            if at >= len(shown):
                card.update("")
                continue
            member = cluster.members[shown[at]]
            card.set_class(at == 0, "focused")
            card.update(self._card(cluster, shown[at], member, focused))

    def _card(self, cluster: DuplicateCluster, index: int, member: str, focused: str) -> str:
        shown = self._shown.get(member, Shown("", "(deleted)", None))
        review = "cannot be read" if shown.review is None else f"{REVIEW_MARKS[shown.review]} {shown.review.value}"
        if member == focused:
            similar = "focused"
        else:
            between = cluster.between(member, focused)
            similar = "similarity not measured" if between is None else f"similarity {between:.2f}"
        head = f"#{index + 1} of {len(cluster.members)} · {review} · {similar}\n{member}"
        return f"{head}\n\n{shown.prompt}\n\n{shown.answer}"

    def _load(self, cluster: DuplicateCluster) -> None:
        missing = [m for m in cluster.members if m not in self._shown]
        if not missing:
            return
        for example in self.service.examples.open_ids(self.dataset_id, missing):
            if isinstance(example, BrokenExample):
                self._shown[example.id] = Shown("", example.reason, None)
            elif isinstance(example, Example):
                content = example.content
                self._shown[example.id] = Shown(
                    clip(content.user_prompt, TEXT_CHARS), clip(content.output, TEXT_CHARS), example.meta.review
                )

    def _after(self, done: int, cluster: DuplicateCluster) -> None:
        """Re-reads the cluster and its members' states after a choice."""
        self.changed += done
        for member in cluster.members:
            self._shown.pop(member, None)
        fresh = {c.id: c for c in self.service.clusters(self.dataset_id)}
        self.clusters = [fresh.get(c.id, c) for c in self.clusters]
        listing = self.query_one(OptionList)
        at = listing.highlighted
        listing.replace_option_prompt(str(cluster.id), self._label(fresh.get(cluster.id, cluster)))
        listing.highlighted = at
        self._summary()
        self._show_members()

    def _act(self, what: str, action: str) -> None:
        cluster = self.cluster
        if cluster is None:
            return
        try:
            if action == "keep":
                done = self.service.keep(cluster.id, [cluster.members[self.member]])
            elif action == "all":
                done = self.service.keep_all(cluster.id)
            else:
                done = self.service.undo(cluster.id)
        except ForgeError as exc:
            self.notify(str(exc), title=f"Cannot {what}", severity="error")
            return
        self._after(done, cluster)
        self.notify(f"{what.capitalize()}: {done} example{'s' if done != 1 else ''} changed.")

    def action_keep_focused(self) -> None:
        self._act("keep this one", "keep")

    def action_keep_all(self) -> None:
        self._act("keep all", "all")

    def action_undo(self) -> None:
        self._act("undo", "undo")

    def action_close(self) -> None:
        self.dismiss(self.changed)
