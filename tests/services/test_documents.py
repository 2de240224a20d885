"""services.documents: documents added to sets, chunked, sealed (no plaintext in the database file),
cut again, removed, given to a job as passages, and re-sealed by a key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest

from forge_tui.core.errors import InvalidInput, NotFound
from forge_tui.services.accounts import AccountService
from forge_tui.services.documents import DocumentService
from forge_tui.services.home import Home
from forge_tui.services.key_rotation import rotate_key
from forge_tui.services.workspace import Workspace
from forge_tui.store.db import read_session
from tests.db_bytes import db_files, found_in, marker
from tests.documents import pdf_bytes
from tests.passwords import PASSWORD


def documents(workspace: Workspace) -> DocumentService:
    return DocumentService(workspace.home, workspace.unlocked)


def guide(tmp_path: Path, words: str = "Green tea is steamed.") -> Path:
    path = tmp_path / "guide.md"
    sections = "\n\n".join(f"## Part {n}\n\n" + " ".join([words] * 30) for n in range(4))
    path.write_text(f"# Tea\n\n{sections}\n", encoding="utf-8")
    return path


def test_a_file_is_chunked_into_its_set_and_a_second_add_replaces_it(workspace: Workspace, tmp_path: Path) -> None:
    service = documents(workspace)
    added = service.add_file(guide(tmp_path), "tea", tokens=64, overlap=8)
    assert (added.set_name, added.name, added.kind, added.chunk_tokens, added.overlap) == (
        "tea",
        "guide.md",
        "markdown",
        64,
        8,
    )
    chunks = service.chunks(added.id)
    assert len(chunks) == added.chunks > 4
    assert chunks[0].text.startswith("# Tea\n\n## Part 0\n\nGreen tea") and chunks[0].heading == "Part 0"
    assert chunks[-1].heading == "Part 3"
    again = service.add_file(guide(tmp_path, "Black tea is oxidised."), "tea", tokens=512, overlap=0)
    assert again.id == added.id and again.chunks == 4
    assert "Black tea" in service.text(added.id)
    assert service.sets() == {"tea": 1}


def test_sets_list_rechunk_and_remove(workspace: Workspace, tmp_path: Path) -> None:
    service = documents(workspace)
    pdf = tmp_path / "leaflet.pdf"
    pdf.write_bytes(pdf_bytes([["Oolong is partly oxidised."]]))
    first = service.add_file(guide(tmp_path), "tea")
    second = service.add_file(pdf, "leaflets")
    assert [(d.set_name, d.name) for d in service.documents()] == [("leaflets", "leaflet.pdf"), ("tea", "guide.md")]
    assert [d.name for d in service.documents("tea")] == ["guide.md"]
    assert service.rechunk(first.id, 32, 16).chunks > first.chunks
    assert service.remove(second.id).name == "leaflet.pdf"
    with read_session(workspace.home.engine) as s:  # its chunks went with it
        assert (
            s.connection().exec_driver_sql("SELECT count(*) FROM chunk WHERE document_id = ?", (second.id,)).scalar()
            == 0
        )
    with pytest.raises(NotFound, match=rf"^There is no document {second.id}\.$"):
        service.get(second.id)
    assert service.sets() == {"tea": 1}


def test_passages_of_a_set_know_their_document_and_place(workspace: Workspace, tmp_path: Path) -> None:
    service = documents(workspace)
    service.add_file(guide(tmp_path), "tea", tokens=64, overlap=0)
    passages = service.passages("tea")
    assert [p.position for p in passages] == list(range(len(passages)))
    assert {(p.document, p.chunks) for p in passages} == {("guide.md", len(passages))}
    with pytest.raises(NotFound, match=r"^There is no document set named 'coffee'"):
        service.passages("coffee")


def test_bad_input_writes_nothing(workspace: Workspace, tmp_path: Path) -> None:
    service = documents(workspace)
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="holds no text"):
        service.add_file(tmp_path / "empty.txt", "tea")
    with pytest.raises(InvalidInput, match=r"^A document set's name is one line"):
        service.add_file(guide(tmp_path), "a;b")
    with pytest.raises(InvalidInput, match=r"^The overlap must be between 0 and half"):
        service.add_file(guide(tmp_path), "tea", tokens=64, overlap=40)
    assert service.documents() == []


def test_the_database_holds_no_plaintext_of_a_document(home: Home, workspace: Workspace, tmp_path: Path) -> None:
    secret = marker()
    path = tmp_path / "secret-notes.txt"
    path.write_text(f"Paragraph one mentions {secret} once.\n\nParagraph two.", encoding="utf-8")
    service = documents(workspace)
    added = service.add_file(path, "private-set-name")
    assert secret in service.chunks(added.id)[0].text
    files = db_files(home)
    for text in (secret, "secret-notes.txt", "private-set-name", "Paragraph two"):
        assert found_in(files, text) == [], text


def test_a_key_rotation_reseals_documents_and_their_chunks(home: Home, tmp_path: Path) -> None:
    accounts = AccountService(home)
    accounts.create_user("alice", "", PASSWORD)
    service = documents(Workspace.open(home, accounts.unlock("alice", PASSWORD)))
    added = service.add_file(guide(tmp_path), "tea", tokens=64, overlap=8)
    before = (service.documents(), service.chunks(added.id), service.text(added.id))

    rotate_key(home, "alice", PASSWORD)

    after = documents(Workspace.open(home, accounts.unlock("alice", PASSWORD)))
    assert (after.documents(), after.chunks(added.id), after.text(added.id)) == before
