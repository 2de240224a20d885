"""The Templates screen's sidebar list: shows templates and posts Chosen when one is highlighted,
clicked or entered. Letter keys act here (in the editors they type)."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import ListItem, ListView

from forge_tui.core.templates import TemplateInfo
from forge_tui.i18n import N_, _
from forge_tui.ui.localized import Localized
from forge_tui.ui.widgets.plain import PlainLabel


def label(template: TemplateInfo) -> str:
    return _("{name}  (archived)").format(name=template.name) if template.archived else template.name


class TemplateList(Localized, ListView):
    BINDINGS = [
        Binding("n", "screen.new", N_("New"), id="templates.new"),
        Binding("r", "screen.rename", N_("Rename"), id="templates.rename"),
        Binding("c", "screen.duplicate", N_("Duplicate"), id="templates.duplicate"),
        Binding("a", "screen.archive", N_("Archive"), id="templates.archive"),
        Binding("h", "screen.toggle_archived", N_("Archived"), id="templates.show_archived"),
        Binding("i", "screen.import", N_("Import"), id="templates.import"),
        Binding("w", "screen.export", N_("Export"), id="templates.export"),
    ]

    @dataclass
    class Chosen(Message):
        """The user moved to this template (the screen opens it, asking first about unsaved edits)."""

        template: TemplateInfo

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.templates: list[TemplateInfo] = []

    def show(self, templates: list[TemplateInfo], keep: int | None) -> int | None:
        """Shows `templates` with the one whose id is `keep` (else the first) highlighted, without
        posting Chosen; returns that one's index (None when the list is empty)."""
        self.templates = templates
        index = next((i for i, t in enumerate(templates) if t.id == keep), 0 if templates else None)
        labels = [label(t) for t in templates]
        self.run_worker(self._fill(labels, index), group="template-list", exclusive=True)
        return index

    async def _fill(self, labels: list[str], index: int | None) -> None:
        # The old items must be gone before the index is set, or it would point at one of them.
        await self.clear()
        await self.extend(ListItem(PlainLabel(label)) for label in labels)
        self.highlight(index)

    def draw_text(self) -> None:
        """Each item's label in place (an archived template says so in the new language)."""
        items = list(self.query(PlainLabel).results(PlainLabel))
        if len(items) == len(self.templates):
            for item, template in zip(items, self.templates, strict=True):
                item.update(label(template))

    def highlight(self, index: int | None) -> None:
        with self.prevent(ListView.Highlighted):
            self.index = None
            self.index = index

    def reselect(self, template_id: int | None) -> None:
        """Moves the highlight back to a template (after the user chose to keep editing it)."""
        self.highlight(next((i for i, t in enumerate(self.templates) if t.id == template_id), None))

    def replace(self, template: TemplateInfo) -> None:
        """A template saved under the same id: the list keeps the new copy."""
        self.templates = [template if t.id == template.id else t for t in self.templates]

    @on(ListView.Highlighted)
    @on(ListView.Selected)
    def _chosen(self, event: ListView.Highlighted | ListView.Selected) -> None:
        event.stop()
        if self.index is not None and self.index < len(self.templates):
            self.post_message(self.Chosen(self.templates[self.index]))
