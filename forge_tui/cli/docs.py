"""`forge-tui docs …`: documents as grounding for generation jobs (sealed), in named sets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from forge_tui.cli.common import (
    JsonOpt,
    PasswordStdin,
    UserOpt,
    command_help,
    echo,
    errors,
    open_home,
    sub_app,
    unlock_workspace,
)
from forge_tui.core.chunking import DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP
from forge_tui.core.documents import DEFAULT_SET
from forge_tui.core.errors import ForgeError
from forge_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from forge_tui.core.documents import DocumentInfo
    from forge_tui.services.documents import DocumentService

docs_app = sub_app(
    _(
        "Documents (.txt, .md, .html, .pdf) cut into passages, in named sets, as material for generation jobs: "
        "--slot chunk=docs:SET gives each item a passage in {{ chunk }} and its document in {{ source }}."
    )
)

SetOpt = Annotated[str, typer.Option("--set", "-s", help=_("The document set."))]
TokensOpt = Annotated[
    int, typer.Option("--chunk-tokens", help=_("Most tokens in a passage (estimated: about 4 characters each)."))
]
OverlapOpt = Annotated[
    int, typer.Option("--overlap", help=_("Tokens a passage repeats from the one before it in the same section."))
]


def documents_for(user: str | None, password_stdin: bool) -> DocumentService:
    """Documents are sealed: the account is unlocked first."""
    from forge_tui.services.documents import DocumentService

    workspace = unlock_workspace(open_home(), user, password_stdin)
    return DocumentService(workspace.home, workspace.unlocked)


def _line(document: DocumentInfo) -> str:
    passages = ngettext("{count} passage", "{count} passages", document.chunks).format(count=document.chunks)
    return f"{document.id:>5}  {document.set_name}  {document.name}  {document.kind}  {passages}"


@docs_app.command("add")
@command_help(_("Add files to a document set (a file of the same name in the set is replaced)."))
def docs_add(
    files: Annotated[list[Path], typer.Argument(metavar="FILE", help=_("The .txt, .md, .html or .pdf files."))],
    set_name: SetOpt = DEFAULT_SET,
    chunk_tokens: TokensOpt = DEFAULT_CHUNK_TOKENS,
    overlap: OverlapOpt = DEFAULT_OVERLAP,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        documents = documents_for(user, password_stdin)
    code = 0
    for path in files:
        try:
            added = documents.add_file(path, set_name, chunk_tokens, overlap)
        except ForgeError as exc:  # the other files are still added
            echo(f"forge-tui: {exc}", err=True)
            code = code or exc.exit_code
            continue
        if as_json:
            echo(json.dumps(added.to_json(), ensure_ascii=False))
        else:
            echo(
                ngettext(
                    "Added {name} to set '{set}': {count} passage.",
                    "Added {name} to set '{set}': {count} passages.",
                    added.chunks,
                ).format(name=added.name, set=added.set_name, count=added.chunks)
            )
    if code:
        raise typer.Exit(code)


@docs_app.command("list")
@command_help(_("List the documents, by set and name."))
def docs_list(
    set_name: Annotated[str | None, typer.Option("--set", "-s", help=_("Only this document set."))] = None,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        found = documents_for(user, password_stdin).documents(set_name)
    if as_json:
        echo(json.dumps([d.to_json() for d in found], ensure_ascii=False))
        return
    if not found:
        echo(_("No documents: add some with forge-tui docs add FILE."))
    for document in found:
        echo(_line(document))


@docs_app.command("show")
@command_help(_("Print a document's passages with where each one starts (or its whole text with --text)."))
def docs_show(
    document_id: Annotated[int, typer.Argument(metavar="ID", help=_("The document's id (see docs list)."))],
    text: Annotated[bool, typer.Option("--text", help=_("Print the extracted text instead."))] = False,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        documents = documents_for(user, password_stdin)
        document = documents.get(document_id)
        chunks = documents.chunks(document_id)
        whole = documents.text(document_id) if text or as_json else ""
    if as_json:
        passages = [
            {"position": c.position, "line": c.line, "heading": c.heading, "tokens": c.tokens, "text": c.text}
            for c in chunks
        ]
        echo(json.dumps({**document.to_json(), "text": whole, "passages": passages}, ensure_ascii=False))
        return
    if text:
        echo(whole)
        return
    echo(_line(document))
    for chunk in chunks:
        where = _("passage {number} of {count}, line {line}").format(
            number=chunk.position + 1, count=len(chunks), line=chunk.line
        )
        heading = f" · {chunk.heading}" if chunk.heading else ""
        echo(f"\n── {where}{heading} ({chunk.tokens})")
        echo(chunk.text)


@docs_app.command("rechunk")
@command_help(_("Cut a document into passages again with another size or overlap."))
def docs_rechunk(
    document_id: Annotated[int, typer.Argument(metavar="ID", help=_("The document's id (see docs list)."))],
    chunk_tokens: TokensOpt = DEFAULT_CHUNK_TOKENS,
    overlap: OverlapOpt = DEFAULT_OVERLAP,
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        document = documents_for(user, password_stdin).rechunk(document_id, chunk_tokens, overlap)
    if as_json:
        echo(json.dumps(document.to_json(), ensure_ascii=False))
        return
    echo(_line(document))


@docs_app.command("rm")
@command_help(_("Remove documents by id."))
def docs_rm(
    document_ids: Annotated[list[int], typer.Argument(metavar="ID", help=_("The documents' ids (see docs list)."))],
    user: UserOpt = None,
    password_stdin: PasswordStdin = False,
    as_json: JsonOpt = False,
) -> None:
    with errors():
        documents = documents_for(user, password_stdin)
        for document_id in document_ids:
            documents.get(document_id)  # every id checked before any is removed
        gone = [documents.remove(document_id) for document_id in document_ids]
    if as_json:
        echo(json.dumps([d.to_json() for d in gone], ensure_ascii=False))
        return
    for document in gone:
        echo(_("Removed {name} from set '{set}'.").format(name=document.name, set=document.set_name))
