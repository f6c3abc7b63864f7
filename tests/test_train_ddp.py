"""`stutor-train` under torchrun and accelerate launch: two CPU processes (gloo) train one model together with DDP.

Each launcher starts the unchanged command, ``stutor.cli.train.main``, through a small launcher script
written by the test: it wraps :func:`stutor.training.train` to record, per rank, the size of the
process group, the steps trained and logged, and the embeddings of fixed probe sentences before and
after training. Checked from the outside: both ranks trained (each did half of the steps, in a
process group of two), training moved the weights and the replicas stayed equal, only rank 0
printed and wrote into the output folder, and the saved model encodes exactly like rank 0's model
in memory. The model is a tiny random BERT (``tiny_bert``): what is tested is the launch, not the model.
Under ``make test`` each rank's process is forked from the warm server (see the ``launcher`` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import warm_kernel

from stutor.runs import ARGS_FILE, METRICS_FILE

ROWS, BATCH, PROCESSES = 16, 4, 2  # 2 steps per rank (4 for one process alone)
PROBE_SENTENCES = (
    "How do I learn to play the guitar?",
    "What is the fastest way to learn guitar?",
    "How do I repair a flat bicycle tyre?",
    "Which programming language should a beginner learn first?",
)
DEV_TRIPLETS = (  # held-out (anchor, positive, negative): the run also evaluates under DDP
    ("How can I learn guitar fast?", "What is the quickest way to learn the guitar?", "How do I fix a bike tyre?"),
    ("Is coffee bad for you?", "Is drinking coffee unhealthy?", "Which laptop is good for students?"),
    ("Why is the sky blue?", "What makes the sky look blue?", "Can dogs eat grapes?"),
    ("How do I cook rice?", "What is the best way to cook rice?", "When will the train arrive?"),
)
# Large enough that replicas training apart would differ by far more than the tolerance below.
LEARNING_RATE = "1e-3"

# Started by torchrun / accelerate launch in every process: records what training did, then runs the command.
LAUNCHER = """
import atexit, json, os, sys
from pathlib import Path

# Records the files and folders this rank creates or opens for writing under the watched folder
# (Python-level writes: JSON, config and model-card files; weights are written by Rust/C++ and do not show).
_root = os.path.abspath(os.environ["WRITES_WATCH"]) + os.sep if "WRITES_WATCH" in os.environ else None
_seen = []
_WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT


def _hook(event, args):
    if event not in ("open", "os.mkdir") or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    if event == "open":
        mode, flags = args[1], args[2]
        writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & _WRITE)
        if not writing:
            return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path.startswith(_root):
        _seen.append(path[len(_root):])


if _root is not None:
    sys.addaudithook(_hook)

    @atexit.register
    def _dump():
        log = os.path.join(os.environ["WRITES_LOG"], "writes.rank" + os.environ["RANK"] + ".txt")
        with open(log, "w") as f:
            f.write("\\n".join(sorted(set(_seen))))


from stutor import training

REPORT = Path(os.environ["REPLICA_REPORT"])
PROBES = json.loads(os.environ["REPLICA_PROBES"])
_train = training.train


def _probe(model):
    return model.encode(PROBES, convert_to_numpy=True, show_progress_bar=False)


def recording_train(model, *args, **kwargs):
    import numpy as np
    import torch.distributed as dist

    before = _probe(model)
    history = _train(model, *args, **kwargs)
    rank = int(os.environ["RANK"])
    world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else None
    REPORT.mkdir(parents=True, exist_ok=True)
    np.save(REPORT / f"rank{rank}.npy", np.stack([before, _probe(model)]))
    report = {"rank": rank, "world_size": world, "steps": history.steps, "logged_steps": [s for s, _ in history.losses]}
    (REPORT / f"rank{rank}.json").write_text(json.dumps(report))
    return history


training.train = recording_train
from stutor.cli.train import main

sys.exit(main(sys.argv[1:]))
"""


def _env(report, **extra: str) -> dict[str, str]:
    quiet = {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "STUTOR_QUIET": "1"}
    offline = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    probes = {"REPLICA_REPORT": str(report), "REPLICA_PROBES": json.dumps(PROBE_SENTENCES)}
    return {**os.environ, **offline, **quiet, **probes, **extra}


def _launch(command: list[str], env: dict[str, str], report) -> dict:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - start
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    ranks = [json.loads((report / f"rank{r}.json").read_text()) for r in range(PROCESSES)]
    embeddings = [np.load(report / f"rank{r}.npy") for r in range(PROCESSES)]  # (before, after) x probes x dim
    print(f"{command[2]}: {seconds:.1f} s; ranks {ranks}")
    return {"result": result, "ranks": ranks, "embeddings": embeddings}


def _training_arguments(model, out, *extra: str) -> list[str]:
    return [
        "--model", str(model), "--data", "bundled", "--max-train-rows", str(ROWS), "--batch-size", str(BATCH),
        "--epochs", "1", "--max-seq-length", "16", "--learning-rate", LEARNING_RATE, "--save-steps", "0",
        "--output-dir", str(out), *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def launcher(tmp_path_factory) -> list[str]:
    """The script each launcher starts in every process (and its arguments before the command's own).

    Under `make test` (``--warm-kernels``) the script is the warm server's launcher (tests/warm_kernel.py),
    which runs the recording script in a process forked from the server: a real process of the launch
    (its own pid, environment, streams and exit code, watched by torchrun or accelerate), without
    importing torch and sentence-transformers again.
    """
    path = tmp_path_factory.mktemp("launcher") / "stutor_train_recorded.py"
    path.write_text(LAUNCHER, encoding="utf-8")
    server = os.environ.get(warm_kernel.SERVER_ENV)
    return [warm_kernel.__file__, "python", server, str(path)] if server else [str(path)]


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory, tiny_bert, launcher):
    """Run the command once under torchrun with two processes; return what it left behind."""
    root = tmp_path_factory.mktemp("ddp")
    logs, out, report = root / "logs", root / "model", root / "replicas"
    logs.mkdir()
    dev = [dict(zip(("anchor", "positive", "negative"), row, strict=True)) for row in DEV_TRIPLETS]
    (root / "dev.jsonl").write_text("\n".join(json.dumps(row) for row in dev) + "\n", encoding="utf-8")
    env = _env(report, WRITES_WATCH=str(out), WRITES_LOG=str(logs))
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={PROCESSES}", *launcher,
        *_training_arguments(tiny_bert, out, "--logging-steps", "1", "--eval-data", str(root / "dev.jsonl")),
    ]  # fmt: skip
    run = _launch(command, env, report)
    run["writes"] = [(logs / f"writes.rank{r}.txt").read_text().split() for r in range(PROCESSES)]
    run["out"] = out
    return run


def _check_trained_together(run, logged: bool) -> None:
    per_rank_steps = ROWS // (BATCH * PROCESSES)  # DDP splits the batches; alone, each would do ROWS // BATCH
    for rank, report in enumerate(run["ranks"]):
        assert report["rank"] == rank and report["world_size"] == PROCESSES
        assert report["steps"] == per_rank_steps
        if logged:
            assert report["logged_steps"] == list(range(1, per_rank_steps + 1))
    (before0, after0), (before1, after1) = run["embeddings"]
    assert after0.shape == (len(PROBE_SENTENCES), 32)
    np.testing.assert_allclose(before0, before1, atol=1e-6, rtol=0)  # the same start on both ranks
    assert np.abs(after0 - before0).max() > 1e-3, "training did not change the model: equal replicas prove nothing"
    np.testing.assert_allclose(after0, after1, atol=1e-6, rtol=0)  # DDP kept the replicas equal


def test_both_ranks_trained_together_on_half_the_batches_each(ddp_run):
    _check_trained_together(ddp_run, logged=True)


def test_only_rank_0_prints_and_writes(ddp_run):
    stdout = ddp_run["result"].stdout
    finals = [line for line in stdout.splitlines() if line.startswith("final: ")]
    assert len(finals) == 1 and f"processes={PROCESSES}" in finals[0] and "eval_accuracy=" in finals[0]
    assert stdout.count("Loss: MultipleNegativesRankingLoss") == 1
    rank0, rank1 = ddp_run["writes"]
    assert rank1 == []
    assert {"modules.json", "config.json", METRICS_FILE, ARGS_FILE} <= set(rank0)
    metrics = json.loads((ddp_run["out"] / METRICS_FILE).read_text())
    assert metrics["final"]["processes"] == PROCESSES and metrics["final"]["steps"] == ddp_run["ranks"][0]["steps"]


def test_saved_model_encodes_like_rank_0_in_memory(ddp_run):
    from sentence_transformers.sentence_transformer import SentenceTransformer

    saved = SentenceTransformer(str(ddp_run["out"]), device="cpu")
    embeddings = saved.encode(list(PROBE_SENTENCES), convert_to_numpy=True, show_progress_bar=False)
    np.testing.assert_allclose(embeddings, ddp_run["embeddings"][0][1], atol=1e-5, rtol=0)


def test_accelerate_launch_runs_the_same_command_with_ddp(tmp_path, tiny_bert, launcher):
    command = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(PROCESSES),
        "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", "0",
        *launcher, *_training_arguments(tiny_bert, tmp_path / "model", "--eval-data", "none"),
    ]  # fmt: skip
    run = _launch(command, _env(tmp_path / "replicas"), tmp_path / "replicas")
    _check_trained_together(run, logged=False)
