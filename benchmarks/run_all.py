"""``make bench``: time and peak memory of every notebook, then every ``bench_*.py`` script.

Targets (on the 2-core course machine, embedded default model): each notebook at most 30 s
and 1.5 GB peak RSS. The table marks any notebook over a target. The measurements are saved to
``benchmarks/results/notebooks.json``; the notebook table of README.md and the run-time table of
docs/teaching.md are rewritten from them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from execute_notebooks import notebooks  # noqa: E402

MAX_SECONDS = 30.0
MAX_RSS_MB = 1536.0
RESULTS = HERE / "results" / "notebooks.json"
README = ROOT / "README.md"
TABLE = re.compile(r"(<!-- notebook-table:start -->\n).*?(<!-- notebook-table:end -->)", re.S)
TEACHING = ROOT / "docs" / "teaching.md"
TIMINGS = re.compile(r"(<!-- timings:start -->\n).*?(<!-- timings:end -->)", re.S)


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
    print(f"{'notebook':<58} {'seconds':>8} {'peak RSS MB':>12}  within target")
    for row in rows:
        ok = row["seconds"] <= MAX_SECONDS and row["peak_rss_mb"] <= MAX_RSS_MB
        print(f"{row['notebook']:<58} {row['seconds']:>8.1f} {row['peak_rss_mb']:>12.0f}  {'yes' if ok else 'NO'}")
    total = sum(row["seconds"] for row in rows)
    print(f"{'all notebooks':<58} {total:>8.1f}")


def notebook_facts(path: Path) -> tuple[str, str]:
    """Title (first heading) and one-line summary (metadata ``stutor.summary``) of a notebook."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(notebook["cells"][0]["source"])
    title = re.search(r"^#\s*(?:\d+\s*·\s*)?(.+)$", first, re.M)
    summary = notebook["metadata"].get("stutor", {}).get("summary", "")
    return (title.group(1).strip() if title else path.stem), summary


def update_readme(rows: list[dict[str, object]]) -> None:
    """Rewrite README.md's notebook table with the measured minutes."""
    lines = ["| # | notebook | what you learn | minutes (2-core CPU) |", "|---|---|---|---|"]
    for row in rows:
        name = str(row["notebook"])
        if "/" in name:  # solutions are listed beside their chapter, not in the table
            continue
        title, summary = notebook_facts(ROOT / "notebooks" / name)
        minutes = max(float(row["seconds"]) / 60, 0.1)
        lines.append(f"| {name[:2]} | [{title}](notebooks/{name}) | {summary} | {minutes:.1f} |")
    text = README.read_text(encoding="utf-8")
    README.write_text(TABLE.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text), encoding="utf-8")


def update_teaching(rows: list[dict[str, object]], machine: dict[str, object], path: Path = TEACHING) -> None:
    """Rewrite the run-time table of the teacher guide (between its timings markers) from the measurements."""
    lines = [
        f"Measured by `make bench` on {machine['cpus']} CPU cores ({machine['processor']}), embedded model, offline.",
        "",
        "| notebook | seconds | peak memory (MB) |",
        "|---|---|---|",
    ]
    lines += [f"| `{row['notebook']}` | {row['seconds']:.0f} | {row['peak_rss_mb']:.0f} |" for row in rows]
    lines.append(f"| all notebooks | {sum(float(row['seconds']) for row in rows):.0f} | |")
    text = path.read_text(encoding="utf-8")
    path.write_text(TIMINGS.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text), encoding="utf-8")


MEMORY_RESULTS = HERE / "results" / "memory.json"
MEMORY_TABLE = re.compile(r"(<!-- memory-table:start -->\n).*?(<!-- memory-table:end -->)", re.S)


def update_memory_table() -> None:
    """Rewrite README.md's memory-guide table from ``benchmarks/results/memory.json``."""
    if not MEMORY_RESULTS.is_file():
        return
    models = json.loads(MEMORY_RESULTS.read_text(encoding="utf-8"))["models"]
    header = " | ".join(f"{m['model']} ({m['parameters'] / 1e6:.1f} M parameters)" for m in models)
    lines = [f"| batch size | {header} |", "|---" * (len(models) + 1) + "|"]
    for i, row in enumerate(models[0]["rows"]):
        cells = " | ".join(f"{m['rows'][i]['peak_rss_mb']:,.0f} MB" for m in models)
        lines.append(f"| {row['batch_size']} | {cells} |")
    text = README.read_text(encoding="utf-8")
    README.write_text(
        MEMORY_TABLE.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text), encoding="utf-8"
    )


def main() -> int:
    rows = measure_notebooks()
    print_table(rows)
    RESULTS.parent.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    RESULTS.write_text(json.dumps({"machine": machine, "notebooks": rows}, indent=2) + "\n", encoding="utf-8")
    update_readme(rows)
    update_teaching(rows, machine)
    print(f"saved {RESULTS.relative_to(ROOT)}; updated the notebook tables in README.md and docs/teaching.md")
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
    update_memory_table()
    over = [row["notebook"] for row in rows if row["seconds"] > MAX_SECONDS or row["peak_rss_mb"] > MAX_RSS_MB]
    if over:
        print(f"\nover the targets ({MAX_SECONDS:.0f} s, {MAX_RSS_MB:.0f} MB): {', '.join(map(str, over))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
