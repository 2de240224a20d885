"""Import and export speed on 100k examples.

    .venv/bin/python bench/import_export.py [--rows 100000]

1. Import: a JSONL file of --rows chat records (OpenAI `messages`: system, user, assistant, about
   600 bytes each) into a fresh dataset, timed end to end: read, detect the shape, seal every field
   with AES-GCM, insert in one transaction. Target (issue 6): <= 10 s for 100k.
2. Export: the same dataset to OpenAI chat JSONL and to Parquet (openai-chat records), each timed
   and compared with writing the same plaintext records with the json module alone (JSONL) and with
   pyarrow alone (one Table.from_pylist + write_table) in the same run. The baseline gets the records
   ready-made in memory; the export also reads SQLite, opens every field and renders the format.
   Target: <= 2x. Each export is also run in one process (no worker processes), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forge_tui.core.export_formats import FORMATS  # noqa: E402
from forge_tui.core.models import Example  # noqa: E402
from forge_tui.services import export_workers  # noqa: E402
from forge_tui.services.accounts import AccountService  # noqa: E402
from forge_tui.services.exporting import export  # noqa: E402
from forge_tui.services.home import open_home  # noqa: E402
from forge_tui.services.importing import import_file  # noqa: E402
from forge_tui.services.workspace import Workspace  # noqa: E402
from forge_tui.store import example_reader  # noqa: E402

PASSWORD = "bench password"
ONE = 10**12  # parallel_from: never start export workers


def write_source(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            record = {
                "messages": [
                    {"role": "system", "content": "You are a careful assistant who answers in plain words."},
                    {"role": "user", "content": f"Question {i}: how do tides follow the moon, in two sentences?"},
                    {"role": "assistant", "content": f"Answer {i}: " + "The moon pulls the oceans toward it. " * 10},
                ]
            }
            out.write(json.dumps(record) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--part", choices=["import", "export", "both"], default="both")
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} · {os.cpu_count()} CPUs · {platform.machine()} · {args.rows} rows")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        source = base / "source.jsonl"
        write_source(source, args.rows)
        print(f"source file: {source.stat().st_size / 1e6:.1f} MB")
        home = open_home(base / "home")
        AccountService(home).create_user("bench", "Bench", PASSWORD)
        workspace = Workspace.open(home, AccountService(home).unlock("bench", PASSWORD))
        dataset = workspace.datasets.create("bench")

        started = time.perf_counter()
        summary = import_file(workspace.examples, dataset.id, dataset.name, source)
        seconds = time.perf_counter() - started
        verdict = "met" if seconds <= 10 * args.rows / 100_000 else "MISSED"
        if args.part != "export":
            print(f"import: {summary.imported} examples in {seconds:.2f} s ({summary.imported / seconds:,.0f}/s); "
                  f"target <= 10 s per 100k: {verdict}")  # fmt: skip
        if args.part == "import":
            home.close()
            return 0

        # The baseline's input: the same records, plaintext, ready in memory.
        records = []
        for item in workspace.examples.scan(dataset.id):
            assert isinstance(item, Example)
            records.extend(FORMATS["openai-chat"].render(item))

        started = time.perf_counter()
        with (base / "bare.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        bare_jsonl = time.perf_counter() - started
        started = time.perf_counter()
        pq.write_table(pa.Table.from_pylist(records), base / "bare.parquet")
        bare_parquet = time.perf_counter() - started
        del records

        ratios = []
        for file_type, bare in (("jsonl", bare_jsonl), ("parquet", bare_parquet)):
            started = time.perf_counter()
            result = export(workspace.examples, dataset.id, FORMATS["openai-chat"], base / f"out.{file_type}")
            seconds = time.perf_counter() - started
            ratios.append(seconds / bare)
            print(f"export openai-chat {file_type}: {result.records[0]} records in {seconds:.2f} s; "
                  f"bare {bare:.2f} s; ratio {seconds / bare:.2f}x")  # fmt: skip
            started = time.perf_counter()
            export(workspace.examples, dataset.id, FORMATS["openai-chat"], base / f"one.{file_type}", parallel_from=ONE)
            alone = time.perf_counter() - started
            print(f"  the same in one process (no workers): {alone:.2f} s; ratio {alone / bare:.2f}x")
        # The floor: reading, opening and rendering every example, in one process, writing nothing.
        # Spread perfectly over the cores, that alone takes floor / cores.
        ids = workspace.examples.ids(dataset.id)
        job = export_workers.make_job(home.db_path, workspace.examples.cipher(dataset.id), dataset.id,
                                      FORMATS["openai-chat"], False)  # fmt: skip
        renderer = export_workers._Renderer(job)
        cpu = time.process_time()
        for start in range(0, len(ids), export_workers.CHUNK):
            chunk = ids[start : start + export_workers.CHUNK]
            for values in example_reader.read(renderer.connection, dataset.id, chunk):
                list(renderer.fmt.render(example_reader.open_values(renderer.cipher, values)))
        floor = time.process_time() - cpu
        renderer.close()
        cores = os.cpu_count() or 1
        print(f"floor: read + open + render, no writing, one process: {floor:.2f} CPU s; over {cores} cores at "
              f"best {floor / cores:.2f} s = {floor / cores / bare_jsonl:.2f}x bare JSONL, "
              f"{floor / cores / bare_parquet:.2f}x bare Parquet")  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process {peak:.0f} MB (includes the baseline's in-memory records)")
        print(f"export ratio target <= 2x: {'met' if max(ratios) <= 2 else 'MISSED'} (worst {max(ratios):.2f}x)")
        home.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
