"""``make bench``: time and peak memory of every notebook, then every ``bench_*.py`` script.

Targets (on the 2-core course machine, embedded default model): each notebook at most 30 s
and 1.5 GB peak RSS. The table marks any notebook over a target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from execute_notebooks import notebooks  # noqa: E402

MAX_SECONDS = 30.0
MAX_RSS_MB = 1536.0


def measure_notebooks() -> list[dict[str, object]]:
    """Run each notebook in a fresh process; return one row per notebook."""
    rows = []
    for notebook in notebooks([str(ROOT / "notebooks")]):
        out = subprocess.run(
            [sys.executable, str(HERE / "notebook_runner.py"), str(notebook), "--json"],
            check=True,
            capture_output=True,
            text=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"notebook": str(notebook.relative_to(ROOT / "notebooks")), **result})
    return rows


def print_table(rows: list[dict[str, object]]) -> None:
    """Print the notebook table with a verdict against the targets."""
    print(f"{'notebook':<40} {'seconds':>8} {'peak RSS MB':>12}  within target")
    for row in rows:
        ok = row["seconds"] <= MAX_SECONDS and row["peak_rss_mb"] <= MAX_RSS_MB
        print(f"{row['notebook']:<40} {row['seconds']:>8.1f} {row['peak_rss_mb']:>12.0f}  {'yes' if ok else 'NO'}")
    total = sum(row["seconds"] for row in rows)
    print(f"{'all notebooks':<40} {total:>8.1f}")


def main() -> int:
    print_table(measure_notebooks())
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
