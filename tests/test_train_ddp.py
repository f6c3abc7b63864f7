"""`python -m stutor.train` under torchrun: two CPU processes (gloo) train one model together with DDP.

One real run of the unchanged command, checked from the outside: both ranks trained (each did half
of the steps, in a process group of two), the replicas stayed equal, only rank 0 wrote into the
output folder, and the saved model encodes exactly like rank 0's model in memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from stutor import train, triplets

ROWS, BATCH, PROCESSES = 32, 4, 2

# Loaded by every Python process started with this folder on PYTHONPATH: records, per rank, the files
# and folders it creates or opens for writing under the watched folder (Python-level writes: JSON,
# config and model-card files; weights are written by Rust/C++ and do not show).
SITECUSTOMIZE = """
import atexit, os, sys
_watch = os.environ.get("WRITES_WATCH")
_rank = os.environ.get("RANK")
if _watch and _rank is not None:
    _root = os.path.abspath(_watch) + os.sep
    _seen = []
    _write = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def _hook(event, args):
        if event not in ("open", "os.mkdir") or not isinstance(args[0], (str, bytes, os.PathLike)):
            return
        if event == "open":
            mode, flags = args[1], args[2]
            writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & _write)
            if not writing:
                return
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(_root):
            _seen.append(path[len(_root):])

    sys.addaudithook(_hook)

    @atexit.register
    def _dump():
        with open(os.path.join(os.environ["WRITES_LOG"], "writes.rank" + _rank + ".txt"), "w") as f:
            f.write("\\n".join(sorted(set(_seen))))
"""


def _env(**extra: str) -> dict[str, str]:
    quiet = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "STUTOR_QUIET": "1"}
    return {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", **quiet, **extra}


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    """Run the command once under torchrun with two processes; return what it left behind."""
    root = tmp_path_factory.mktemp("ddp")
    hooks, logs, out, report = root / "hooks", root / "logs", root / "model", root / "replicas"
    hooks.mkdir()
    logs.mkdir()
    (hooks / "sitecustomize.py").write_text(textwrap.dedent(SITECUSTOMIZE), encoding="utf-8")
    dev = triplets.group_triplets("dev", per_group=1).select(range(8))
    dev.to_json(root / "dev.jsonl")
    env = _env(
        PYTHONPATH=os.pathsep.join([str(hooks), os.environ.get("PYTHONPATH", "")]),
        WRITES_WATCH=str(out),
        WRITES_LOG=str(logs),
    )
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={PROCESSES}",
        "-m", "stutor.train",
        "--model", "embedded", "--data", "bundled", "--max-train-rows", str(ROWS),
        "--batch-size", str(BATCH), "--epochs", "1", "--max-seq-length", "32", "--logging-steps", "1",
        "--eval-data", str(root / "dev.jsonl"), "--save-steps", "0",
        "--output-dir", str(out), "--replica-report", str(report),
    ]  # fmt: skip
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((report / f"rank{r}.json").read_text()) for r in range(PROCESSES)]
    embeddings = [np.load(report / f"rank{r}.npy") for r in range(PROCESSES)]
    writes = [(logs / f"writes.rank{r}.txt").read_text().split() for r in range(PROCESSES)]
    print(f"DDP run: {seconds:.1f} s; ranks {ranks}; {result.stdout.strip().splitlines()[-1]}")
    return {"result": result, "out": out, "ranks": ranks, "embeddings": embeddings, "writes": writes}


def test_both_ranks_trained_together_on_half_the_batches_each(ddp_run):
    per_rank_steps = ROWS // (BATCH * PROCESSES)  # DDP splits the batches; alone, each would do ROWS // BATCH
    for rank, report in enumerate(ddp_run["ranks"]):
        assert report["rank"] == rank and report["world_size"] == PROCESSES
        assert report["steps"] == per_rank_steps
        assert report["logged_steps"] == list(range(1, per_rank_steps + 1))


def test_replicas_stay_equal(ddp_run):
    first, second = ddp_run["embeddings"]
    assert first.shape == (len(train.PROBE_SENTENCES), 384)
    np.testing.assert_allclose(first, second, atol=1e-6, rtol=0)


def test_only_rank_0_prints_and_writes(ddp_run):
    stdout = ddp_run["result"].stdout
    finals = [line for line in stdout.splitlines() if line.startswith("final: ")]
    assert len(finals) == 1 and f"processes={PROCESSES}" in finals[0] and "eval_accuracy=" in finals[0]
    assert stdout.count("Loss: MultipleNegativesRankingLoss") == 1
    rank0, rank1 = ddp_run["writes"]
    assert rank1 == []
    assert {"modules.json", "config.json", train.METRICS_FILE, train.ARGS_FILE} <= set(rank0)
    metrics = json.loads((ddp_run["out"] / train.METRICS_FILE).read_text())
    assert metrics["final"]["processes"] == PROCESSES and metrics["final"]["steps"] == ddp_run["ranks"][0]["steps"]


def test_saved_model_encodes_like_rank_0_in_memory(ddp_run):
    from sentence_transformers.sentence_transformer import SentenceTransformer

    saved = SentenceTransformer(str(ddp_run["out"]), device="cpu")
    embeddings = saved.encode(list(train.PROBE_SENTENCES), convert_to_numpy=True, show_progress_bar=False)
    np.testing.assert_allclose(embeddings, ddp_run["embeddings"][0], atol=1e-5, rtol=0)


def test_accelerate_launch_runs_the_same_command_with_ddp(tmp_path):
    rows = 16
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(PROCESSES),
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
        "-m", "stutor.train",
        "--model", "embedded", "--data", "bundled", "--max-train-rows", str(rows), "--batch-size", str(BATCH),
        "--max-seq-length", "32", "--eval-data", "none", "--save-steps", "0",
        "--output-dir", str(tmp_path / "model"), "--replica-report", str(tmp_path / "replicas"),
    ]  # fmt: skip
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for rank in range(PROCESSES):
        report = json.loads((tmp_path / "replicas" / f"rank{rank}.json").read_text())
        assert (report["world_size"], report["steps"]) == (PROCESSES, rows // (BATCH * PROCESSES))
    first, second = (np.load(tmp_path / "replicas" / f"rank{rank}.npy") for rank in range(PROCESSES))
    np.testing.assert_allclose(first, second, atol=1e-6, rtol=0)
