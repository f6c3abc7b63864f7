"""Committed notebooks must be clean: executed top to bottom, no errors, no warning noise."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
NOISE = re.compile(r"DeprecationWarning|FutureWarning|UserWarning|Warning:|Traceback|IProgress not found|it/s\]")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_notebooks():
    assert any(p.parent.name == "notebooks" for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_name_and_kernel(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), "notebooks are named NN_topic.ipynb"
    spec = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {})
    assert spec.get("name") == "python3", f"kernel {spec.get('name')!r} is not the project's (python3)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_executed_top_to_bottom(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"execution counts {counts}: re-run with `make execute`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_warning_text(path):
    for cell in _cells(path):
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"error output: {output.get('ename')}"
            if output["output_type"] == "stream":
                text = "".join(output["text"])
                assert output["name"] == "stdout", f"stderr output: {text[:200]}"
                assert not NOISE.search(text), f"warning or progress text: {text[:200]}"


CHAPTERS = [p for p in NOTEBOOKS if p.parent.name == "notebooks"]
SOLUTIONS = [p for p in NOTEBOOKS if p.parent.name == "solutions"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_opens_with_goals_and_ends_with_summary_and_exercises(path):
    markdown = [("".join(c["source"])) for c in _cells(path) if c["cell_type"] == "markdown"]
    assert "What you will learn" in markdown[0]
    tail = "\n".join(markdown[-2:])
    assert "## Summary" in tail and "## Exercises" in tail


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solutions_name_their_chapter_and_end_with_a_summary(path):
    chapter = path.parents[1] / path.name.replace("_solutions.ipynb", ".ipynb")
    assert path.name.endswith("_solutions.ipynb") and chapter.exists(), f"no chapter {chapter.name} for {path.name}"
    title = re.search(r"^#\s*\d+\s*·\s*(.+)$", "".join(_cells(chapter)[0]["source"]), re.M).group(1).strip()
    markdown = [("".join(c["source"])) for c in _cells(path) if c["cell_type"] == "markdown"]
    heading = markdown[0].splitlines()[0]
    assert heading.startswith(f"# {path.name[:2]} · Solutions") and title in heading, heading
    assert "## Summary" in markdown[-1]
