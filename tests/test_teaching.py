"""docs/teaching.md: covers every notebook and exercise; its run-time table comes from `make bench` only."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from stutor.exercises import registry

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teaching.md"
RESULTS = ROOT / "benchmarks" / "results" / "notebooks.json"
MARKED = re.compile(r"<!-- timings:start -->\n(.*?)<!-- timings:end -->", re.S)
BINDER = re.compile(r"<!-- binder:start -->\n(.*?)<!-- binder:end -->", re.S)
sys.path.insert(0, str(ROOT / "benchmarks"))

import run_all  # noqa: E402


def test_guide_names_every_chapter_and_exercise():
    text = GUIDE.read_text(encoding="utf-8")
    for chapter in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert f"`{chapter.name}`" in text, f"no learning goals for {chapter.name}"
    for exercise_id in registry.REGISTRY:
        assert exercise_id in text, f"exercise {exercise_id} is not in the guide"
    for section in ("## Lesson plans", "### 90 minutes", "### 3 hours", "## Common learner mistakes", "wheelhouse"):
        assert section in text


def test_timings_are_rewritten_between_the_markers_only(tmp_path):
    copy = tmp_path / "teaching.md"
    copy.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    rows = [
        {"notebook": "01_a.ipynb", "seconds": 12.3, "peak_rss_mb": 700.4, "idle_rss_mb": 450.2},
        {"notebook": "solutions/01_a_solutions.ipynb", "seconds": 5.0, "peak_rss_mb": 600.0, "idle_rss_mb": 400.0},
    ]
    run_all.update_teaching(rows, {"cpus": 2, "processor": "x86_64"}, path=copy)
    once = copy.read_text(encoding="utf-8")
    table = MARKED.search(once).group(1)
    assert "on 2 CPU cores (x86_64)" in table
    assert (
        "| `01_a.ipynb` | 12 | 700 | 450 |" in table and "| `solutions/01_a_solutions.ipynb` | 5 | 600 | 400 |" in table
    )
    assert "| all notebooks | 17 | | |" in table
    outside = BINDER.sub("", MARKED.sub("", GUIDE.read_text(encoding="utf-8")))
    assert BINDER.sub("", MARKED.sub("", once)) == outside
    assert "| `01_a.ipynb` | 700 | 0 | 700 | yes |" in BINDER.search(once).group(1)
    run_all.update_teaching(rows, {"cpus": 2, "processor": "x86_64"}, path=copy)
    assert copy.read_text(encoding="utf-8") == once


def test_committed_timings_are_the_measured_ones(tmp_path):
    table = MARKED.search(GUIDE.read_text(encoding="utf-8")).group(1)
    if not RESULTS.exists():
        assert "run `make bench`" in table and not re.search(r"\|\s*\d", table)
        return
    measured = json.loads(RESULTS.read_text(encoding="utf-8"))
    copy = tmp_path / "teaching.md"
    copy.write_text(GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    run_all.update_teaching(measured["notebooks"], measured["machine"], path=copy)
    assert MARKED.search(copy.read_text(encoding="utf-8")).group(1) == table, "rerun `make bench`"
