"""100k-row JSONL import: seconds (target <= 10 s); see import_export.py.

.venv/bin/python bench/import.py [--rows 100000]
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_export import main

if __name__ == "__main__":
    raise SystemExit(main([*sys.argv[1:], "--part", "import"]))
