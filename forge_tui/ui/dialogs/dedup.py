"""Duplicates of the current dataset (from Examples): the clusters dedup found, a cluster's members
side by side with their similarity to the focused one; keep the focused one (the rest are rejected),
keep all, or undo the cluster's choice. Rejections are reversible; they are the only change made.

The clusters are found by a dedup job (a dry run: the view decides) that the app's JobHost runs, so
it shows on Jobs and goes on if the view is closed; the view opens on its clusters when it ends."""

from __future__ import annotations

from collections.abc import Callable
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
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.dedup import DedupService, DuplicateCluster
from forge_tui.services.dedup_jobs import DedupSpec, dedup_plan
from forge_tui.services.examples import BrokenExample
from forge_tui.services.job_host import JobHost
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TLabel
from forge_tui.ui.widgets.plain import PlainStatic

SIDE_BY_SIDE = 2  # members shown at once (80 columns hold two readable ones beside the list)
TEXT_CHARS = 600  # of each member's prompt and answer shown
POLL_S = 0.2  # how often the job's progress is read
# By choice (keep, all, undo): the toast's title when it is refused.
CANNOT = {"keep": N_("Cannot keep this one"), "all": N_("Cannot keep all"), "undo": N_("Cannot undo")}


def done_text(action: str, n: int) -> str:
    """What a choice's toast says when `n` examples changed."""
    if action == "keep":
        text = ngettext("Keep this one: {n} example changed.", "Keep this one: {n} examples changed.", n)
    elif action == "all":
        text = ngettext("Keep all: {n} example changed.", "Keep all: {n} examples changed.", n)
    else:
        text = ngettext("Undo: {n} example changed.", "Undo: {n} examples changed.", n)
    return text.format(n=n)


@dataclass(frozen=True)
class Shown:
    """What a member card shows of an example."""

    prompt: str
    answer: str
    review: ReviewState | None  # None: the row cannot be read


class DedupView(Localized, ModalScreen[int]):
    """Dismisses with how many examples changed review state while it was open."""

    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="dedup.close"),
        Binding("k", "keep_focused", N_("Keep this, drop rest"), id="dedup.keep"),
        Binding("a", "keep_all", N_("Keep all"), id="dedup.keep_all"),
        Binding("u", "undo", N_("Undo cluster"), id="dedup.undo"),
        Binding("left", "move(-1)", N_("Previous member"), id="dedup.previous"),
        Binding("right", "move(1)", N_("Next member"), id="dedup.next"),
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
        # What the status line says, drawn again in a new language.
        self._status_text: Callable[[], str] = lambda: _("Looking for duplicates…")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dedup"):
            yield TLabel(N_("Duplicates in {dataset}"), classes="dialog-title", dataset=clip(self.dataset_name))
            yield PlainStatic(self._status_text(), id="dedup-status")
            with Horizontal(id="dedup-body"):
                yield OptionList(id="dedup-clusters")
                with Horizontal(id="dedup-members"):
                    for at in range(SIDE_BY_SIDE):
                        yield PlainStatic("", id=f"dedup-member-{at}", classes="dedup-member")
            yield PlainStatic(self._hint(), classes="dim", id="dedup-hint")

    def _hint(self) -> str:
        return _(
            "{previous}/{next} member · {keep} keep it, reject the rest · {keep_all} keep all · {undo} undo · "
            "{close} close"
        ).format(
            previous=key_for(self, "move(-1)"),
            next=key_for(self, "move(1)"),
            keep=key_for(self, "keep_focused"),
            keep_all=key_for(self, "keep_all"),
            undo=key_for(self, "undo"),
            close=key_for(self, "close"),
        )

    def draw_text(self) -> None:
        self.query_one("#dedup-hint", PlainStatic).update(self._hint())
        self.query_one("#dedup-status", PlainStatic).update(self._status_text())
        if self.clusters:
            listing = self.query_one(OptionList)
            at = listing.highlighted
            for cluster in self.clusters:
                listing.replace_option_prompt(str(cluster.id), self._label(cluster))
            listing.highlighted = at
            self._show_members()

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
            reason = str(exc)
            self.app.call_from_thread(
                self._status, lambda: _("Cannot look for duplicates: {reason}").format(reason=reason)
            )
            return
        self.app.call_from_thread(self._started, job_id)

    def _started(self, job_id: int) -> None:
        assert self.host is not None
        self.job_id = job_id
        self.host.start(job_id)
        self._status(lambda: _("Looking for duplicates (job {job})…").format(job=job_id))
        self.set_interval(POLL_S, self._poll, name="dedup-job")

    def _poll(self) -> None:
        host, job_id = self.host, self.job_id
        if host is None or job_id is None or self.clusters:
            return
        if host.running(job_id):
            latest = host.latest.get(job_id)
            if latest is not None and latest.total:
                done, total = latest.done, latest.total
                self._status(
                    lambda: ngettext(
                        "Looking for duplicates (job {job}): {done} of {total} chunk…",
                        "Looking for duplicates (job {job}): {done} of {total} chunks…",
                        total,
                    ).format(job=job_id, done=done, total=total)
                )
            return
        self.job_id = None
        try:
            job = host.jobs.get(job_id)
            if job.status is JobState.DONE:
                self._show_clusters(self.service.clusters(self.dataset_id))
            else:
                state = job.status.value
                # TRANSLATORS: {state} is the job's state as stored (paused, failed, cancelled).
                self._status(
                    lambda: _("The dedup job {job} is {state}: resume it on Jobs, then press D again.").format(
                        job=job_id, state=state
                    )
                )
        except ForgeError as exc:
            reason = str(exc)
            self._status(lambda: _("Cannot look for duplicates: {reason}").format(reason=reason))

    def _status(self, text: Callable[[], str]) -> None:
        """The status line, written by `text` now and again after a language switch."""
        self._status_text = text
        self.query_one("#dedup-status", PlainStatic).update(text())

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
        similar = _("exact") if cluster.exact else f"≥{cluster.lowest:.2f}"
        n = len(cluster.members)
        if cluster.decision == "kept":
            return _("{n} × {similar} kept").format(n=n, similar=similar)
        if cluster.decision == "all":
            return _("{n} × {similar} all").format(n=n, similar=similar)
        return f"{n} × {similar}"

    def _summary(self) -> None:
        open_ = sum(c.decision == "open" for c in self.clusters)
        threshold, clusters, changed = self.threshold, len(self.clusters), self.changed
        if not clusters:
            self._status(
                lambda: _("No duplicates at similarity {threshold} among the examples not rejected.").format(
                    threshold=f"{threshold:g}"
                )
            )
        else:
            self._status(
                lambda: ngettext(
                    "{n} cluster, {open} undecided; {changed} examples changed.",
                    "{n} clusters, {open} undecided; {changed} examples changed.",
                    clusters,
                ).format(n=clusters, open=open_, changed=changed)
            )

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
        shown = self._shown.get(member, Shown("", _("(deleted)"), None))
        review = _("cannot be read") if shown.review is None else f"{REVIEW_MARKS[shown.review]} {shown.review.value}"
        if member == focused:
            similar = _("focused")
        else:
            between = cluster.between(member, focused)
            similar = (
                _("similarity not measured")
                if between is None
                else _("similarity {similarity}").format(similarity=f"{between:.2f}")
            )
        where = _("#{index} of {n}").format(index=index + 1, n=len(cluster.members))
        head = f"{where} · {review} · {similar}\n{member}"
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

    def _act(self, action: str) -> None:
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
            self.notify(str(exc), title=_(CANNOT[action]), severity="error")
            return
        self._after(done, cluster)
        self.notify(done_text(action, done))

    def action_keep_focused(self) -> None:
        self._act("keep")

    def action_keep_all(self) -> None:
        self._act("all")

    def action_undo(self) -> None:
        self._act("undo")

    def action_close(self) -> None:
        self.dismiss(self.changed)
