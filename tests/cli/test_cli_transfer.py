"""`forge-tui import`, `export` and `formats` through the real command line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from tests.passwords import PASSWORD


def test_import_summary_as_json_and_text(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "p", "completion": "c"}\n{"oops": 1}\nnot json\n', encoding="utf-8")
    result = alice("import", str(source), "--password-stdin", "--json", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["dataset"] == "default" and summary["imported"] == 1 and summary["skipped"] == 2
    assert [(e["line"], e["reason"][:14]) for e in summary["errors"]] == [(2, "no known shape"), (3, "not valid JSON")]
    assert "no known shape (fields found: oops)" in summary["errors"][0]["reason"]
    text = alice("import", str(source), "-d", "default", "--password-stdin", input=PASSWORD + "\n")
    assert text.exit_code == 0
    assert "Imported 1 example into 'default' (1 prompt-completion); skipped 2:" in text.stdout
    assert "line 3: not valid JSON" in text.stderr


def test_nothing_importable_exits_1_and_map_rescues_it(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "qa.csv"
    source.write_text("question,answer\nWhy?,Because.\n", encoding="utf-8")
    assert alice("import", str(source), "--password-stdin", input=PASSWORD + "\n").exit_code == 1
    mapped = alice(
        "import", str(source), "--map", "user_prompt=question,output=answer", "--password-stdin", input=PASSWORD + "\n"
    )
    assert mapped.exit_code == 0 and "Imported 1 example" in mapped.stdout
    bad_map = alice("import", str(source), "--map", "answer", "--password-stdin", input=PASSWORD + "\n")
    assert bad_map.exit_code == 2 and "FIELD=SOURCE" in bad_map.stderr


def test_export_formats_split_and_preference_note(alice: Cli, tmp_path: Path) -> None:
    listed = alice("export", "--list-formats")
    assert "add --password-stdin to list them too" in listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names[:14] == [
        "openai-chat", "openai-preference", "mlx-chat", "mlx-completions", "mlx-text", "sharegpt", "alpaca",
        "trl-preference", "trl-kto", "llamafactory-v1", "llamafactory-v1-dpo", "llama2", "mistral", "raw",
    ]  # fmt: skip
    source = tmp_path / "pairs.jsonl"
    rows = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(10)]
    rows += [{"prompt": "plain", "completion": "no pair"}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert alice("import", str(source), "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    out = tmp_path / "dpo.jsonl"
    result = alice(
        "export", "--format", "trl-preference", "--out", str(out), "--split", "0.8", "--seed", "7",
        "--password-stdin", "--json", input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert [f["path"].rsplit("/", 1)[1] for f in summary["files"]] == ["dpo.train.jsonl", "dpo.valid.jsonl"]
    assert sum(f["records"] for f in summary["files"]) == 10 and summary["left_out"] == 1
    unknown = alice("export", "--format", "nope", "--out", str(out), "--password-stdin", input=PASSWORD + "\n")
    assert unknown.exit_code == 2 and "Unknown format 'nope'" in unknown.stderr


def test_custom_format_saved_listed_and_used(alice: Cli, tmp_path: Path) -> None:
    body = tmp_path / "body.j2"
    body.write_text('{"q": {{ example.user_prompt | tojson }}}', encoding="utf-8")
    unlocked = ("--password-stdin",)
    assert alice("formats", "save", "short", "--body", str(body), *unlocked, input=PASSWORD + "\n").exit_code == 0
    broken = tmp_path / "broken.j2"
    broken.write_text('{"q": {{ example.user_prompt }\n', encoding="utf-8")
    refused = alice("formats", "save", "bad", "--body", str(broken), *unlocked, input=PASSWORD + "\n")
    assert refused.exit_code == 2 and "line 1" in refused.stderr
    assert "custom:short" in alice("export", "--list-formats", *unlocked, input=PASSWORD + "\n").stdout
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "p", "completion": "c"}\n', encoding="utf-8")
    alice("import", str(source), "--password-stdin", input=PASSWORD + "\n")
    out = tmp_path / "o.csv"
    result = alice("export", "-f", "custom:short", "-o", str(out), "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == "q\np\n"


def test_import_names_what_is_not_a_file_and_lists_skipped_columns(alice: Cli, tmp_path: Path) -> None:
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    folder = tmp_path / "data.jsonl"
    folder.mkdir()
    refused = alice("import", str(folder), "--password-stdin", input=PASSWORD + "\n")
    assert refused.exit_code == 2 and refused.stderr == f"forge-tui: {folder} is a directory, not a file.\n"
    frame = tmp_path / "frame.parquet"
    pq.write_table(pa.table({"text": ["a"], "photo": [b"\x89PNG"]}), frame)
    text = alice("import", str(frame), "--password-stdin", input=PASSWORD + "\n")
    assert text.stdout == "Imported 1 example into 'default' (1 text); skipped column photo (binary).\n"
    as_json = alice("import", str(frame), "--password-stdin", "--json", input=PASSWORD + "\n")
    assert json.loads(as_json.stdout)["skipped_columns"] == ["photo (binary)"]


@pytest.mark.parametrize(
    ("body", "limit"),
    [
        ("{{ lipsum(n=10**6) }}", "lipsum() is not available"),
        ("{{ (9 ** (9 ** 8)) % 7 }}", "limit of 1,000 digits"),
        ('{"q": {{ ("x" * 10**9) | tojson }}}', "limit of 1,000,000 characters"),
    ],
)
def test_formats_save_refuses_a_body_that_passes_a_limit(alice: Cli, tmp_path: Path, body: str, limit: str) -> None:
    file = tmp_path / "body.j2"
    file.write_text(body, encoding="utf-8")
    started = time.monotonic()
    refused = alice("formats", "save", "hostile", "--body", str(file), "--password-stdin", input=PASSWORD + "\n")
    assert time.monotonic() - started < 2.0
    assert refused.exit_code == 2 and limit in refused.stderr
    assert "Traceback" not in refused.output
    listed = alice("export", "--list-formats", "--password-stdin", input=PASSWORD + "\n").stdout
    assert "custom:hostile" not in listed


def test_export_stops_at_an_example_that_makes_the_format_pass_a_limit(alice: Cli, tmp_path: Path) -> None:
    body = tmp_path / "body.j2"
    body.write_text('{% if example.user_prompt == "boom" %}{{ "x" * 10**9 }}{% endif %}{"q": 1}', encoding="utf-8")
    saved = alice("formats", "save", "fragile", "--body", str(body), "--password-stdin", input=PASSWORD + "\n")
    assert saved.exit_code == 0  # fine with the sample
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "fine", "completion": "c"}\n{"prompt": "boom", "completion": "c"}\n', "utf-8")
    alice("import", str(source), "--password-stdin", input=PASSWORD + "\n")
    out = tmp_path / "o.jsonl"
    result = alice("export", "-f", "custom:fragile", "-o", str(out), "--password-stdin", input=PASSWORD + "\n")
    assert result.exit_code == 2 and "limit of 1,000,000 characters" in result.stderr
    assert "Traceback" not in result.output and not out.exists()


def test_export_reasoning_choice_is_listed_and_checked_before_the_password(alice: Cli, tmp_path: Path) -> None:
    listed = json.loads(alice("export", "--list-formats", "--json").stdout)
    by_name = {f["name"]: f for f in listed}
    assert by_name["openai-chat"]["reasoning"] == "field" and by_name["alpaca"]["reasoning"] == "drop"
    assert by_name["mlx-text"]["reasoning_modes"] == ["drop", "think-tags"]
    assert "openai-chat          OpenAI chat" in alice("export", "--list-formats").stdout
    out = tmp_path / "t.jsonl"
    no_field = alice("export", "-f", "mlx-text", "-o", str(out), "--reasoning", "field")
    assert no_field.exit_code == 2
    assert no_field.stderr == "forge-tui: The mlx-text format has no field for reasoning: choose think-tags or drop.\n"
    unknown = alice("export", "-f", "raw", "-o", str(out), "--reasoning", "tags")
    assert unknown.exit_code == 2 and "drop, field or think-tags, not 'tags'" in unknown.stderr
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "p", "completion": "c"}\n', encoding="utf-8")
    alice("import", str(source), "--password-stdin", input=PASSWORD + "\n")
    result = alice(
        "export", "-f", "mlx-text", "-o", str(out), "--reasoning", "drop", "--password-stdin", "--json",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0 and json.loads(result.stdout)["reasoning"] == "drop"


def test_export_writes_reasoning_the_chosen_way(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    answer = {"role": "assistant", "content": "4", "reasoning_content": "Add."}
    source.write_text(json.dumps({"messages": [{"role": "user", "content": "2+2?"}, answer]}) + "\n", "utf-8")
    alice("import", str(source), "--password-stdin", input=PASSWORD + "\n")
    written = {}
    for fmt, mode in (("openai-chat", None), ("mlx-text", None), ("mlx-text", "drop"), ("alpaca", None)):
        out = tmp_path / f"{fmt}-{mode}.jsonl"
        chosen = ["--reasoning", mode] if mode else []
        result = alice("export", "-f", fmt, "-o", str(out), *chosen, "--password-stdin", input=PASSWORD + "\n")
        assert result.exit_code == 0, result.output
        written[fmt, mode] = json.loads(out.read_text(encoding="utf-8"))
    assert written["openai-chat", None]["messages"][-1] == answer
    assert written["mlx-text", None] == {"text": "2+2?\n\n<think>Add.</think>\n4"}
    assert written["mlx-text", "drop"] == {"text": "2+2?\n\n4"}
    assert written["alpaca", None]["output"] == "4"


def test_import_into_a_new_dataset_creates_it_and_says_so(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"prompt": "p", "completion": "c", "images": ["1.jpg"]}\n', encoding="utf-8")
    made = alice("import", str(source), "--dataset", "fresh", "--password-stdin", input=PASSWORD + "\n")
    assert made.exit_code == 0, made.output
    assert made.stdout == (
        "Created dataset 'fresh' and imported 1 example into it (1 prompt-completion); kept aside: images (1).\n"
    )
    again = alice("import", str(source), "-d", "fresh", "--password-stdin", "--json", input=PASSWORD + "\n")
    summary = json.loads(again.stdout)
    assert (summary["dataset"], summary["created"], summary["kept_aside"]) == ("fresh", False, {"images": 1})
    other = alice("import", str(source), "-d", "other", "--password-stdin", "--json", input=PASSWORD + "\n")
    assert json.loads(other.stdout)["created"] is True
    missing = alice("import", str(tmp_path / "nope.jsonl"), "-d", "never", "--password-stdin", input=PASSWORD + "\n")
    assert missing.exit_code == 2 and "There is no file" in missing.stderr
    listed = [d["name"] for d in json.loads(alice("datasets", "list", "--json").stdout)]
    assert listed == ["default", "fresh", "other"]  # no file, no dataset


def test_import_json_numbers_errors_by_line_row_and_item(alice: Cli, tmp_path: Path) -> None:
    files = {
        "a.jsonl": ('{"text": "ok"}\n{"oops": 1}\n', [{"line": 2}]),
        "a.csv": ("text,note\nok,1\n,\nbad,2,3\n", [{"row": 2, "line": 4}]),
        "a.json": (json.dumps([{"text": "ok"}, [], {"text": "ok"}, "x"]), [{"item": 2}, {"item": 4}]),
    }
    for name, (body, expected) in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
        result = alice("import", str(tmp_path / name), "--password-stdin", "--json", input=PASSWORD + "\n")
        errors = json.loads(result.stdout)["errors"]
        assert [{k: v for k, v in e.items() if k != "reason"} for e in errors] == expected, name
        assert all(isinstance(e["reason"], str) and e["reason"] for e in errors)
    text = alice("import", str(tmp_path / "a.csv"), "--password-stdin", input=PASSWORD + "\n")
    assert f"{tmp_path / 'a.csv'}: line 4: 3 cells where the header has 2" in text.stderr  # human output as before


def test_import_plain_text_split_as_asked(alice: Cli, tmp_path: Path) -> None:
    source = tmp_path / "wiki.txt"
    source.write_text('First, "quoted", document.\nSame paragraph.\n\nSecond, last.\n', encoding="utf-8")
    counts = {}
    for split in ("line", "paragraph", "file"):
        result = alice(
            "import", str(source), "-d", split, "--split-text", split, "--password-stdin", "--json",
            input=PASSWORD + "\n",
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        counts[split] = json.loads(result.stdout)["imported"]
    assert counts == {"line": 3, "paragraph": 2, "file": 1}
    wrong = alice("import", str(source), "--split-text", "word", "--password-stdin", input=PASSWORD + "\n")
    assert wrong.exit_code == 2 and "use one of line, paragraph, file" in wrong.stderr


def test_export_review_choice_leaves_rejected_out_unless_asked(alice: Cli, fast_home_dir: Path, tmp_path: Path) -> None:
    from forge_tui.core.models import ExampleContent, ExampleMeta, ReviewState
    from forge_tui.services.accounts import AccountService
    from forge_tui.services.home import open_home
    from forge_tui.services.workspace import Workspace

    home = open_home(fast_home_dir)
    try:
        workspace = Workspace.open(home, AccountService(home).unlock("alice", PASSWORD))
        dataset = workspace.datasets.current()
        assert dataset is not None
        states = [ReviewState.ACCEPTED, ReviewState.UNREVIEWED, ReviewState.REJECTED, ReviewState.REJECTED]
        workspace.examples.add_many(
            dataset.id, [(ExampleContent(user_prompt=f"q{i}", output=f"a{i}"), ExampleMeta(review=s)) for i, s in
                         enumerate(states)]
        )  # fmt: skip
    finally:
        home.close()
    out = tmp_path / "out.jsonl"

    def run(*chosen: str) -> tuple[int, list[str], str]:
        args = ("export", "-f", "raw", "-o", str(out), *chosen, "--password-stdin")
        result = alice(*args, input=PASSWORD + "\n")
        written = [json.loads(line)["output"] for line in out.read_text(encoding="utf-8").splitlines()]
        return result.exit_code, written, result.stdout

    assert run() == (0, ["a0", "a1"], f"Wrote 2 records to {out}; 2 rejected examples left out.\n")
    assert run("--review", "accepted")[:2] == (0, ["a0"])
    assert run("--review", "unreviewed")[:2] == (0, ["a1"])
    assert run("--review", "all")[:2] == (0, ["a0", "a1", "a2", "a3"])
    as_json = alice("export", "-f", "raw", "-o", str(out), "--review", "ACCEPTED", "--json", "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    summary = json.loads(as_json.stdout)
    assert (summary["review"], summary["left_out_by_review"]) == ("accepted", {"unreviewed": 1, "rejected": 2})
    wrong = alice("export", "-f", "raw", "-o", str(out), "--review", "good")  # refused before the password
    assert wrong.exit_code == 2 and "--review takes one of all, not-rejected, accepted" in wrong.stderr
