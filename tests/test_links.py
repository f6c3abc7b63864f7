"""Launch links: `make links REPO=owner/name` rewrites every link; the Colab cell installs the course only on Colab."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import set_links  # noqa: E402

NOTEBOOKS = sorted(ROOT.glob("notebooks/**/[0-9][0-9]_*.ipynb"))


def _setup_cell(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "README.md", root / "README.md")
    shutil.copytree(ROOT / "docs", root / "docs")
    shutil.copytree(ROOT / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return root


def test_every_notebook_opens_with_binder_and_colab_links_and_a_colab_setup_cell():
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        if "/solutions/" not in str(path):
            opening = "".join(cells[0]["source"])
            assert f"mybinder.org/v2/gh/GITHUB_USER/stutor/HEAD?urlpath=lab/tree/notebooks/{path.name}" in opening
            assert f"colab.research.google.com/github/GITHUB_USER/stutor/blob/main/notebooks/{path.name}" in opening
        assert "google.colab" in _setup_cell(path), path.name


def test_the_command_points_every_link_at_the_repository(copy):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "set_links.py"), "jane-doe/stutor-fork", "--root", str(copy)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    texts = [p.read_text(encoding="utf-8") for p in set_links.files(copy)]
    assert not any("GITHUB_USER" in text for text in texts)
    readme = (copy / "README.md").read_text(encoding="utf-8")
    assert "mybinder.org/v2/gh/jane-doe/stutor-fork/HEAD" in readme
    notebook = (copy / "notebooks" / NOTEBOOKS[0].name).read_text(encoding="utf-8")
    assert "colab.research.google.com/github/jane-doe/stutor-fork/blob/main" in notebook
    assert 'git+https://github.com/jane-doe/stutor-fork\\"' in notebook
    again = set_links.set_links("jane-doe/stutor-fork", copy)  # running it twice changes nothing more
    assert again == []


@pytest.mark.parametrize("repo", ["", "jane", "jane/stutor/extra", "jane doe/stutor", "jane/stu tor"])
def test_a_bad_repository_name_exits_2(repo, copy):
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "set_links.py"), repo, "--root", str(copy)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "owner/name" in result.stderr


def _run_setup(path: Path, *, on_colab: bool, monkeypatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **kwargs: calls.append(command))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))  # a stand-in
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(_setup_cell(path), str(path), "exec"), {})
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_cell_installs_the_course_only_on_colab(path, monkeypatch):
    assert _run_setup(path, on_colab=False, monkeypatch=monkeypatch) == []
    (command,) = _run_setup(path, on_colab=True, monkeypatch=monkeypatch)
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert "stutor @ git+https://github.com/GITHUB_USER/stutor" in command
