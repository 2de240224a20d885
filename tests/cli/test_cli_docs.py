"""`forge-tui docs add | list | show | rechunk | rm`, and `generate --slot chunk=docs:SET`."""

from __future__ import annotations

import json
from pathlib import Path

from forge_tui.core.models import Example
from forge_tui.services.workspace import Workspace
from tests.cli.conftest import Cli
from tests.documents import pdf_bytes
from tests.fake_ollama import FakeOllama
from tests.passwords import PASSWORD

STDIN = PASSWORD + "\n"


def docs(cli: Cli, *args: str) -> tuple[int, str, str]:
    ran = cli("docs", *args, "--password-stdin", input=STDIN)
    return ran.exit_code, ran.stdout, ran.stderr


def files(tmp_path: Path) -> list[Path]:
    guide = tmp_path / "guide.md"
    guide.write_text("# Tea\n\n" + "Green tea is steamed soon after picking. " * 40, encoding="utf-8")
    leaflet = tmp_path / "leaflet.pdf"
    leaflet.write_bytes(pdf_bytes([["Oolong is partly oxidised."], ["Keep it dry."]]))
    return [guide, leaflet]


def test_add_list_show_rechunk_and_rm(alice: Cli, tmp_path: Path) -> None:
    guide, leaflet = files(tmp_path)
    (tmp_path / "sheet.csv").write_text("a,b\n", encoding="utf-8")
    code, out, err = docs(alice, "add", str(guide), str(tmp_path / "sheet.csv"), str(leaflet), "--set", "tea")
    assert code == 2  # the CSV is refused, the others are added
    assert err == "forge-tui: sheet.csv is not a document this app reads: use .txt, .md, .html or .pdf.\n"
    assert out.splitlines() == ["Added guide.md to set 'tea': 1 passage.", "Added leaflet.pdf to set 'tea': 1 passage."]

    code, out, _ = docs(alice, "list", "--json")
    listed = json.loads(out)
    assert [(d["set"], d["name"], d["kind"], d["chunks"], d["chunk_tokens"]) for d in listed] == [
        ("tea", "guide.md", "markdown", 1, 512),
        ("tea", "leaflet.pdf", "pdf", 1, 512),
    ]
    guide_id, leaflet_id = listed[0]["id"], listed[1]["id"]

    code, out, _ = docs(alice, "rechunk", str(guide_id), "--chunk-tokens", "64", "--overlap", "8", "--json")
    assert code == 0 and json.loads(out)["chunks"] > 3
    code, out, _ = docs(alice, "show", str(guide_id))
    assert out.splitlines()[2].startswith("── passage 1 of ") and "· Tea" in out
    shown = json.loads(docs(alice, "show", str(leaflet_id), "--json")[1])
    assert shown["text"] == "Oolong is partly oxidised.\n\nKeep it dry."
    assert shown["passages"] == [
        {"position": 0, "line": 1, "heading": "", "tokens": 11, "text": "Oolong is partly oxidised.\n\nKeep it dry."}
    ]
    assert docs(alice, "show", str(leaflet_id), "--text")[1] == "Oolong is partly oxidised.\n\nKeep it dry.\n"

    code, out, err = docs(alice, "rm", str(leaflet_id), "999")
    assert (code, err) == (5, "forge-tui: There is no document 999.\n")  # nothing removed
    code, out, _ = docs(alice, "rm", str(leaflet_id))
    assert (code, out) == (0, "Removed leaflet.pdf from set 'tea'.\n")
    assert [d["name"] for d in json.loads(docs(alice, "list", "--json")[1])] == ["guide.md"]
    code, out, err = docs(alice, "add", str(guide), "--overlap", "400")
    assert code == 2 and "overlap must be between 0 and half the chunk size" in err


def test_generate_from_a_document_set(alice: Cli, workspace_of: Workspace, fake: FakeOllama, tmp_path: Path) -> None:
    assert docs(alice, "add", *map(str, files(tmp_path)), "--set", "tea")[0] == 0
    ran = alice(
        "generate", "--url", fake.base_url, "--model", "llama3.2", "--password-stdin",
        "--template", "Questions and answers from a passage", "--count", "4", "--dataset", "grounded",
        "--slot", "chunk=docs:tea", "--yes", "--json",
        input=STDIN,
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    dataset = workspace_of.datasets.get("grounded")
    made = [e for e in workspace_of.examples.scan(dataset.id) if isinstance(e, Example)]
    assert len(made) == 4
    assert {e.meta.params["passage"]["document"] for e in made} == {"guide.md", "leaflet.pdf"}
    assert all(e.content.slots["chunk"] in e.content.user_prompt for e in made)
