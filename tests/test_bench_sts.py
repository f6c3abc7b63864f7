"""benchmarks/bench_sts.py: the STS-benchmark table reproduces all-MiniLM-L6-v2's published 82.03.

The data lives in ../shared/data (never in the project); without it the score test skips. The script
runs as a command once (the skip); the score is checked by calling its ``main`` in the test process,
where the libraries are imported already: the same code as ``make bench``, without a second start-up.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stutor.evaluation import MINILM_STSB_PUBLISHED

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_sts.py"
STSB_TEST = ROOT.parent / "shared" / "data" / "stsbenchmark-test.tsv"


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "STUTOR_QUIET": "1"}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=600)


def _bench_sts():
    """benchmarks/bench_sts.py as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("bench_sts", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_file_is_a_clean_skip(tmp_path):
    out = _run("--path", str(tmp_path / "absent.tsv"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("skip: no STS-benchmark file at")


@pytest.mark.skipif(not STSB_TEST.is_file(), reason=f"{STSB_TEST} is absent (../shared/data not mounted)")
def test_reproduces_the_published_stsb_score(capsys):
    status = _bench_sts().main(["--path", str(STSB_TEST)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "1379 pairs" in out
    match = re.search(r"\(Sentence Transformer\): (\d+\.\d+), published", out)
    assert match, out
    assert abs(float(match.group(1)) - MINILM_STSB_PUBLISHED) <= 0.2
    for method in ("avg. input word embeddings", "CLS token", "mean of the output tokens"):
        assert method in out
