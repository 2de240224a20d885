"""Names holding terminal escape sequences: refused at input, printed as text when stored earlier;
CSV/TSV exports with and without --spreadsheet-safe."""

from __future__ import annotations

import csv
import json
import sqlite3
from functools import partial
from pathlib import Path

from typer.testing import Result

from forge_tui.core.control_chars import CONTROL_CHARS
from tests.cli.conftest import Cli
from tests.passwords import PASSWORD

# Retitles the window, clears the screen, writes the clipboard (OSC 52), and a C1 CSI.
HOSTILE = "x\x1b]0;PWNED\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\x9b31m"
SHOWN = "x\\u001b]0;PWNED\\u0007\\u001b[2J"
REFUSED = "cannot contain control characters such as escape codes, tabs or line breaks."


def controls_in(text: str) -> set[str]:
    """The control characters a terminal would act on (line breaks lay out text)."""
    return {c for c in text if c in CONTROL_CHARS and c != "\n"}


def store_name_directly(home_dir: Path, table: str, old: str, new: str) -> None:
    """As a database made before names refused control characters would hold it."""
    with sqlite3.connect(home_dir / "forge.db") as db:
        assert db.execute(f'UPDATE "{table}" SET name = ? WHERE name = ?', (new, old)).rowcount == 1


def with_password(cli: Cli, *args: str) -> Result:
    """Templates and custom formats are sealed: those commands read the password first."""
    return cli(*args, "--password-stdin", input=PASSWORD + "\n")


def seal_template_name_directly(home_dir: Path, old: str, new: str) -> None:
    """Template names are sealed: rename one past the service's check, as an older database could hold it."""
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.store import templates as rows
    from forge_tui.store.db import write_session

    home = open_home(home_dir)
    try:
        unlocked = AccountService(home).unlock("alice", PASSWORD)
        keys, owner = unlocked.account_keys(), unlocked.user.id
        with write_session(home.engine) as s:
            row = rows.get_by_name(s, keys, owner, old)
            assert row is not None
            rows.seal_into(keys, row, rows.open_row(keys, row).model_copy(update={"name": new}))
            s.add(row)
    finally:
        home.close()


def test_stored_hostile_names_print_as_text(alice: Cli, fast_home_dir: Path) -> None:
    assert alice("datasets", "create", "tides").exit_code == 0
    store_name_directly(fast_home_dir, "dataset", "tides", HOSTILE)
    seal_template_name_directly(fast_home_dir, "Rewrite in a style", HOSTILE)

    for command in (("templates", "list"), ("datasets", "list")):
        run = partial(with_password, alice) if command[0] == "templates" else alice
        printed = run(*command)
        assert printed.exit_code == 0, printed.output
        assert not controls_in(printed.stdout) and SHOWN in printed.stdout
        as_json = run(*command, "--json")
        assert not controls_in(as_json.stdout)
        assert HOSTILE in [row["name"] for row in json.loads(as_json.stdout)]  # JSON stays faithful

    shown = with_password(alice, "templates", "show", HOSTILE, "--as", "json")
    assert shown.exit_code == 0 and not controls_in(shown.stdout)
    assert json.loads(shown.stdout)["name"] == HOSTILE

    # Messages that quote what was typed.
    missing = with_password(alice, "templates", "show", "nope" + HOSTILE)
    assert missing.exit_code == 5 and not controls_in(missing.stderr) and SHOWN in missing.stderr
    archived = alice("datasets", "archive", HOSTILE)
    assert archived.exit_code == 0 and not controls_in(archived.stdout)

    # Such a name can still be found, and renamed to a clean one.
    renamed = alice("datasets", "rename", HOSTILE, "tides")
    assert renamed.exit_code == 0, renamed.output
    assert not controls_in(renamed.stdout)


def test_names_with_control_characters_are_refused_and_nothing_changes(alice: Cli, tmp_path: Path) -> None:
    before = (alice("datasets", "list", "--json").stdout, with_password(alice, "templates", "list", "--json").stdout)

    created = alice("datasets", "create", HOSTILE)
    assert created.exit_code == 2 and f"A dataset name {REFUSED}" in created.stderr
    assert not controls_in(created.stderr)
    assert alice("datasets", "rename", "default", "de\tfault").exit_code == 2

    hostile_file = tmp_path / "hostile.toml"
    hostile_file.write_text('name = "t\\u001b]0;PWNED\\u0007"\nuser_prompt = "hi"\n', encoding="utf-8")
    imported = with_password(alice, "templates", "import", str(hostile_file))
    assert imported.exit_code == 2 and f"hostile.toml: A template name {REFUSED}" in imported.stderr
    clean_file = tmp_path / "clean.toml"
    clean_file.write_text('name = "clean"\nuser_prompt = "hi"\n', encoding="utf-8")
    assert with_password(alice, "templates", "import", str(clean_file), "--name", "c\x1b[2J").exit_code == 2

    body = tmp_path / "body.j2"
    body.write_text('{"a": {{ example.output | tojson }}}', encoding="utf-8")
    saved = with_password(alice, "formats", "save", "f\x1b]52;c;eA==\x07", "--body", str(body))
    assert saved.exit_code == 2 and REFUSED in saved.stderr
    assert with_password(alice, "formats", "list", "--json").stdout.strip() == "[]"

    assert (
        alice("datasets", "list", "--json").stdout,
        with_password(alice, "templates", "list", "--json").stdout,
    ) == before

    user = alice("user", "create", "-u", "bob", "--display-name", "B\x1b[2J", "--password-stdin", input="long enough\n")
    assert user.exit_code == 2 and f"A display name {REFUSED}" in user.stderr


def test_csv_and_tsv_export_with_and_without_spreadsheet_safe(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    rows = [
        {"prompt": '=HYPERLINK("http://evil")', "completion": "- first item\n- second item"},
        {"prompt": "@SUM(A1:A2)", "completion": "plain \x1b]0;PWNED\x07 text"},
    ]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert alice("import", str(source), "--password-stdin", input=PASSWORD + "\n").exit_code == 0

    def export(out: Path, *flags: str) -> list[dict[str, str]]:
        result = alice("export", "--format", "mlx-completions", "--out", str(out), *flags, "--password-stdin",
                       input=PASSWORD + "\n")  # fmt: skip
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert not controls_in(text.replace("\t", ""))
        with out.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f, delimiter="\t" if out.suffix == ".tsv" else ","))

    faithful = export(tmp_path / "plain.csv")
    assert faithful[0] == {"prompt": rows[0]["prompt"], "completion": "- first item\n- second item"}
    assert faithful[1]["completion"] == "plain \\u001b]0;PWNED\\u0007 text"

    for suffix in (".csv", ".tsv"):
        safe = export(tmp_path / f"safe{suffix}", "--spreadsheet-safe")
        assert safe[0] == {"prompt": "'" + rows[0]["prompt"], "completion": "'- first item\n- second item"}
        assert safe[1] == {"prompt": "'@SUM(A1:A2)", "completion": "plain \\u001b]0;PWNED\\u0007 text"}

    refused = alice("export", "--out", str(tmp_path / "x.jsonl"), "--spreadsheet-safe", "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    assert refused.exit_code == 2 and "Spreadsheet-safe cells are for CSV and TSV files, not jsonl." in refused.stderr
    assert not (tmp_path / "x.jsonl").exists()
