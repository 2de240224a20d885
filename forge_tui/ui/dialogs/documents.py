"""Documents (from Datasets or the palette): the account's documents by set, and the passages of the
highlighted one with where each starts; add files, cut a document again with other sizes, remove one.
Generation jobs draw passages from a set with `chunk=docs:SET` in their slot sources."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from forge_tui.core.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP, Chunk
from forge_tui.core.documents import DEFAULT_SET, DocumentInfo
from forge_tui.core.errors import ForgeError, InvalidInput
from forge_tui.i18n import N_, _, ngettext
from forge_tui.services.documents import DocumentService
from forge_tui.ui.dialogs.common import Confirm, crop
from forge_tui.ui.keys import key_for
from forge_tui.ui.localized import Localized, TButton, TInput, TLabel
from forge_tui.ui.widgets.plain import PlainStatic

SHOWN_CHUNKS = 50  # passages drawn at once for the highlighted document


@dataclass(frozen=True)
class AddRequest:
    paths: list[Path]
    set_name: str
    tokens: int
    overlap: int


def _paths(text: str) -> list[Path]:
    """A path typed in the add dialog, `~` expanded; a `*` in its name matches files in its folder."""
    path = Path(text.strip()).expanduser()
    if "*" not in path.name:
        return [path]
    found = sorted(p for p in path.parent.glob(path.name) if p.is_file())
    if not found:
        raise InvalidInput(_("No file matches {pattern}.").format(pattern=crop(text.strip(), 60)))
    return found


class AddDocuments(ModalScreen[AddRequest | None]):
    """The file (or a `*` pattern), the set and the chunk sizes; Enter adds, Escape cancels. Given a
    document (`cutting`), only its sizes, to cut it again."""

    BINDINGS = [Binding("escape", "cancel", N_("Cancel"), id="dialog.cancel")]

    def __init__(self, set_name: str, cutting: DocumentInfo | None = None) -> None:
        super().__init__()
        self._set = set_name
        self._cutting = cutting

    def compose(self) -> ComposeResult:
        cutting = self._cutting
        with Vertical(classes="dialog add-documents"):
            if cutting is None:
                yield TLabel(N_("Add documents (.txt, .md, .html, .pdf)"), classes="dialog-title")
                yield TInput(placeholder=N_("File, or a pattern such as ~/notes/*.md"), id="add-path")
                yield TLabel(N_("Document set"))
                yield TInput(self._set, id="add-set")
            else:
                yield TLabel(N_("Cut {name} again"), name=crop(cutting.name, 40), classes="dialog-title")
            yield TLabel(N_("Tokens per passage, and overlap"))
            with Horizontal(classes="add-sizes"):
                tokens, overlap = (
                    (cutting.chunk_tokens, cutting.overlap) if cutting else (DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP)
                )
                yield TInput(str(tokens), id="add-tokens")
                yield TInput(str(overlap), id="add-overlap")
            yield PlainStatic("", classes="error", id="add-error")
            with Horizontal(classes="dialog-buttons"):
                yield TButton(N_("Add"), variant="primary", id="ok")
                yield TButton(N_("Cancel"), id="cancel")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _accept(self) -> None:
        cutting = self._cutting is not None
        try:
            request = AddRequest(
                paths=[] if cutting else _paths(self.query_one("#add-path", Input).value),
                set_name=self._set if cutting else self.query_one("#add-set", Input).value.strip() or DEFAULT_SET,
                tokens=_number(self.query_one("#add-tokens", Input).value),
                overlap=_number(self.query_one("#add-overlap", Input).value),
            )
        except ForgeError as exc:
            self.query_one("#add-error", Static).update(str(exc))
            return
        self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def _number(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InvalidInput(_("'{text}' is not a whole number of tokens.").format(text=crop(text, 20))) from None


def passages_text(chunks: list[Chunk]) -> str:
    """Each passage under a line saying where it starts."""
    parts = []
    for chunk in chunks[:SHOWN_CHUNKS]:
        where = _("── passage {number} of {count} · line {line}").format(
            number=chunk.position + 1, count=len(chunks), line=chunk.line
        )
        heading = f" · {chunk.heading}" if chunk.heading else ""
        parts.append(f"{where}{heading}\n{chunk.text}")
    if len(chunks) > SHOWN_CHUNKS:
        more = len(chunks) - SHOWN_CHUNKS
        parts.append(ngettext("… and {count} more passage", "… and {count} more passages", more).format(count=more))
    return "\n\n".join(parts)


class DocumentsView(Localized, ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", N_("Close"), id="documents.close"),
        Binding("i", "add", N_("Add files"), id="documents.add"),
        Binding("r", "rechunk", N_("Cut again"), id="documents.rechunk"),
        Binding("delete", "remove", N_("Remove"), id="documents.remove"),
    ]

    def __init__(self, service: DocumentService) -> None:
        super().__init__()
        self.service = service
        self.documents: list[DocumentInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog documents"):
            yield TLabel(N_("Documents"), classes="dialog-title")
            with Horizontal(classes="documents-body"):
                yield OptionList(id="documents-list")
                with VerticalScroll(id="documents-passages", can_focus=True):
                    yield PlainStatic("", id="documents-text")
            yield PlainStatic("", classes="dim", id="documents-hint")

    def on_mount(self) -> None:
        self._load()

    def draw_text(self) -> None:
        keys = {action: key_for(self, action) for action in ("add", "rechunk", "remove", "close")}
        self.query_one("#documents-hint", Static).update(
            _(
                "{add} add files · {rechunk} cut again · {remove} remove · {close} close · chunk=docs:SET in a job"
            ).format(**keys)
        )
        self._show_list()

    def _selected(self) -> DocumentInfo | None:
        index = self.query_one("#documents-list", OptionList).highlighted
        return self.documents[index] if index is not None and index < len(self.documents) else None

    @work(exclusive=True, group="documents-load")
    async def _load(self, keep: int | None = None) -> None:
        try:
            self.documents = await asyncio.to_thread(self.service.documents)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot list the documents"), severity="error")
            return
        self._show_list(keep)

    def _show_list(self, keep: int | None = None) -> None:
        listing = self.query_one("#documents-list", OptionList)
        chosen = self._selected()
        keep = keep if keep is not None else (chosen.id if chosen else None)
        listing.clear_options()
        for document in self.documents:
            passages = ngettext("{count} passage", "{count} passages", document.chunks).format(count=document.chunks)
            listing.add_option(Option(f"{crop(document.set_name, 12)} · {crop(document.name, 24)}\n  {passages}"))
        if not self.documents:
            self.query_one("#documents-text", Static).update(
                _("No documents yet: press {key} to add .txt, .md, .html or .pdf files.").format(
                    key=key_for(self, "add")
                )
            )
            return
        ids = [d.id for d in self.documents]
        listing.highlighted = ids.index(keep) if keep in ids else 0

    @on(OptionList.OptionHighlighted, "#documents-list")
    def _highlighted(self) -> None:
        self._show_passages()

    @work(exclusive=True, group="documents-passages")
    async def _show_passages(self) -> None:
        document = self._selected()
        if document is None:
            return
        try:
            chunks = await asyncio.to_thread(self.service.chunks, document.id)
        except ForgeError as exc:
            self.query_one("#documents-text", Static).update(str(exc))
            return
        self.query_one("#documents-text", Static).update(passages_text(chunks))

    @work(group="dialog")
    async def action_add(self) -> None:
        chosen = self._selected()
        request = await self.app.push_screen_wait(AddDocuments(chosen.set_name if chosen else DEFAULT_SET))
        if request is None:
            return
        last: int | None = None
        for path in request.paths:
            try:
                added = await asyncio.to_thread(
                    self.service.add_file, path, request.set_name, request.tokens, request.overlap
                )
            except ForgeError as exc:
                self.notify(str(exc), title=_("Cannot add {name}").format(name=crop(path.name, 40)), severity="error")
                continue
            last = added.id
            self.notify(
                ngettext(
                    "Added {name} to set '{set}': {count} passage.",
                    "Added {name} to set '{set}': {count} passages.",
                    added.chunks,
                ).format(name=added.name, set=added.set_name, count=added.chunks)
            )
        self._load(last)

    @work(group="dialog")
    async def action_rechunk(self) -> None:
        document = self._selected()
        if document is None:
            return
        request = await self.app.push_screen_wait(AddDocuments(document.set_name, cutting=document))
        if request is None:
            return
        try:
            await asyncio.to_thread(self.service.rechunk, document.id, request.tokens, request.overlap)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot cut the document again"), severity="error")
            return
        self._load(document.id)

    @work(group="dialog")
    async def action_remove(self) -> None:
        document = self._selected()
        if document is None:
            return
        question = _("Remove {name} from set '{set}'?").format(name=document.name, set=document.set_name)
        if not await self.app.push_screen_wait(Confirm(question, yes=N_("Remove"), no=N_("Keep"))):
            return
        try:
            await asyncio.to_thread(self.service.remove, document.id)
        except ForgeError as exc:
            self.notify(str(exc), title=_("Cannot remove the document"), severity="error")
            return
        self._load()

    def action_close(self) -> None:
        self.dismiss(None)
