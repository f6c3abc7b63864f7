"""``make bench``: time and peak memory of every notebook, then every ``bench_*.py`` script.

Targets (on the 2-core course machine, embedded default model): each notebook at most 30 s
and 1.5 GB peak RSS; chapters 08 and 09 (the issue that added them) 60 s and 45 s, 1.2 GB each.
The table marks any notebook over its target. The measurements are saved to
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
BUDGETS = {  # notebook -> (seconds, peak MB) where it differs from the default
    "08_in_batch_negatives.ipynb": (60.0, 1.2 * 1024),
    "09_semantic_search.ipynb": (45.0, 1.2 * 1024),
}
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


def budget(notebook: str) -> tuple[float, float]:
    """The (seconds, peak MB) target of one notebook (its path under notebooks/)."""
    return BUDGETS.get(notebook, (MAX_SECONDS, MAX_RSS_MB))


def within_budget(row: dict[str, object]) -> bool:
    """Whether one measured notebook kept to its time and peak-memory target."""
    seconds, peak_mb = budget(str(row["notebook"]))
    return row["seconds"] <= seconds and row["peak_rss_mb"] <= peak_mb


def print_table(rows: list[dict[str, object]]) -> None:
    """Print the notebook table with a verdict against each notebook's target."""
    print(f"{'notebook':<58} {'seconds':>8} {'peak RSS MB':>12} {'idle MB':>8}  within target")
    for row in rows:
        seconds, peak_mb = budget(str(row["notebook"]))
        idle, verdict = _mb(row.get("idle_rss_mb")), "yes" if within_budget(row) else "NO"
        target = f"({seconds:.0f} s, {peak_mb / 1024:.1f} GB)"
        print(f"{row['notebook']:<58} {row['seconds']:>8.1f} {row['peak_rss_mb']:>12.0f} {idle:>8}  {verdict} {target}")
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
        "| notebook | seconds | peak memory (MB) | idle after Run All (MB) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{row['notebook']}` | {row['seconds']:.0f} | {row['peak_rss_mb']:.0f} | {_mb(row.get('idle_rss_mb'))} |"
        for row in rows
    ]
    lines.append(f"| all notebooks | {sum(float(row['seconds']) for row in rows):.0f} | | |")
    text = path.read_text(encoding="utf-8")
    text = TIMINGS.sub(lambda m: m.group(1) + "\n".join(lines) + "\n" + m.group(2), text)
    path.write_text(BINDER.sub(lambda m: m.group(1) + binder_advice(rows) + "\n" + m.group(2), text), encoding="utf-8")


def _mb(value: object) -> str:
    return f"{float(value):.0f}" if isinstance(value, int | float) else "not measured"


BINDER = re.compile(r"(<!-- binder:start -->\n).*?(<!-- binder:end -->)", re.S)
BINDER_MB = 2048


def binder_advice(rows: list[dict[str, object]], limit_mb: int = BINDER_MB) -> str:
    """Which earlier kernels a class must close on a 2 GB Binder, from the measured peaks and idle memory.

    Opening the chapters in order and leaving each kernel open, chapter k needs its own peak plus the
    idle memory of every kernel still open; when that passes the limit, the earlier kernels must go.
    """
    chapters = [row for row in rows if "/" not in str(row["notebook"])]
    if not chapters or any(not isinstance(row.get("idle_rss_mb"), int | float) for row in chapters):
        return "Run `make bench` to measure each notebook's idle memory."
    lines = [
        f"On a {limit_mb:,} MB Binder, opening the chapters in order with earlier kernels left open "
        "(from the measurements above):",
        "",
        "| notebook | its peak (MB) | kernels still open before it (MB) | total (MB) | fits |",
        "|---|---|---|---|---|",
    ]
    held = 0.0
    for row in chapters:
        peak, idle = float(row["peak_rss_mb"]), float(row["idle_rss_mb"])
        total = held + peak
        fits = total <= limit_mb
        advice = "yes" if fits else "no: close the earlier kernels first"
        lines.append(f"| `{row['notebook']}` | {peak:.0f} | {held:.0f} | {total:.0f} | {advice} |")
        held = (held if fits else 0.0) + idle
    return "\n".join(lines)


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


NEEDS = ROOT / "stutor" / "resources" / "memory_needs.json"


def write_memory_needs(rows: list[dict[str, object]]) -> None:
    """Write what stutor.memory reads in every notebook's first cell: measured peaks, idle and training memory."""
    notebooks = {
        Path(str(row["notebook"])).stem: {
            "peak_mb": round(float(row["peak_rss_mb"])),
            "idle_mb": row.get("idle_rss_mb"),
        }
        for row in rows
    }
    training = {}
    if MEMORY_RESULTS.is_file():
        for model in json.loads(MEMORY_RESULTS.read_text(encoding="utf-8"))["models"]:
            name = str(model["model"]).split(" (")[0]
            training[name] = {str(r["batch_size"]): round(float(r["peak_rss_mb"])) for r in model["rows"]}
    record = {
        "source": "make bench (benchmarks/run_all.py and bench_memory.py), one fresh kernel or process each",
        "notebooks": {
            key: {k: (round(v) if isinstance(v, float) else v) for k, v in value.items()}
            for key, value in notebooks.items()
        },
        "training": training,
    }
    NEEDS.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


BINDER_CHECK = HERE / "bench_binder.py"


def main(argv: list[str] | None = None) -> int:
    """Measure; ``--notebooks-only`` skips the benchmark scripts (training memory, STS, the Binder check)."""
    only_notebooks = "--notebooks-only" in (sys.argv[1:] if argv is None else argv)
    rows = measure_notebooks()
    print_table(rows)
    RESULTS.parent.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    RESULTS.write_text(json.dumps({"machine": machine, "notebooks": rows}, indent=2) + "\n", encoding="utf-8")
    update_readme(rows)
    update_teaching(rows, machine)
    print(f"saved {RESULTS.relative_to(ROOT)}; updated the notebook tables in README.md and docs/teaching.md")
    if only_notebooks:
        write_memory_needs(rows)
        return 0
    for script in sorted(HERE.glob("bench_*.py")):
        if script.name == BINDER_CHECK.name:  # last, below: it reads memory_needs.json; its failure stops nothing
            continue
        print(f"\n== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
    update_memory_table()
    write_memory_needs(rows)
    over = [row["notebook"] for row in rows if not within_budget(row)]
    if over:
        print(f"\nover their targets: {', '.join(map(str, over))}")
    print(f"\n== {BINDER_CHECK.name}: the course in JupyterLab within Binder's 2 GB", flush=True)
    binder = subprocess.run([sys.executable, str(BINDER_CHECK)], check=False).returncode
    return 1 if over or binder else 0


if __name__ == "__main__":
    sys.exit(main())
