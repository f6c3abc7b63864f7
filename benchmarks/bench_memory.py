"""Memory guide: peak memory of training at batch sizes 8, 16 and 32, for the course's two models.

- **distilroberta-base** (the reference model, online): its architecture (6 layers, hidden size 768,
  12 heads, vocabulary 50,265, 514 positions: 81.5 M parameters) initialised at random from its
  configuration, so that nothing is downloaded. The text goes through the embedded BERT tokenizer,
  whose ids fit in that vocabulary. Memory depends on the shapes, not on the weights' values, so
  the numbers hold for the real distilroberta-base.
- **all-MiniLM-L6-v2** (the embedded offline default, 22.7 M parameters), its real weights.

Each (model, batch size) runs in a fresh process: one warm-up step at batch size 1 creates AdamW's
state (the trainer's default optimiser), then one measured TripletLoss step (the loss the course
trains with), float32 on the CPU, batch size counted in triplets, every text exactly ``SEQ_LEN``
tokens (32 by default: QQP questions are mostly shorter; the bundled ones have at most 21). The
peak resident memory (``VmHWM``) of that process is what must fit in the machine. Results go
to ``benchmarks/results/memory.json``.

Run: ``make bench`` (all benchmarks) or ``python benchmarks/bench_memory.py [--seq-len 64]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "memory.json"
BATCH_SIZES = (8, 16, 32)
SEQ_LEN = 32
LIMITS_MB = {"Binder (2 GB)": 2048, "laptop (4 GB free)": 4096}
"""Memory a training kernel may use: Binder's 2 GB limit; a laptop with 8 GB of RAM, half of it free."""

WORDS = (
    "how can i learn to cook rice well what is the best way to save money why is the sky blue "
    "which programming language should a beginner start with where do birds go in winter"
).split()


def distilroberta_config(vocab_size: int = 50265, pad_token_id: int = 1, bos_token_id: int = 0, eos_token_id: int = 2):
    """The configuration of distilroberta-base, written out so that nothing is downloaded."""
    from transformers import RobertaConfig

    return RobertaConfig(
        vocab_size=vocab_size,
        hidden_size=768,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=3072,
        hidden_act="gelu",
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=pad_token_id,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
    )


def build_model_folder(folder: Path) -> None:
    """Save a randomly initialised distilroberta-base-sized model and the embedded BERT tokenizer to ``folder``."""
    import torch
    from transformers import AutoTokenizer, RobertaModel

    from stutor import models, runtime

    runtime.configure()
    tokenizer = AutoTokenizer.from_pretrained(str(models.embedded_model_path()))
    config = distilroberta_config(
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id
    )
    torch.manual_seed(0)
    model = RobertaModel(config, add_pooling_layer=False)
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))


def peak_rss_mb() -> float:
    """This process' own peak resident memory, in MB.

    Linux' ``VmHWM``, not ``ru_maxrss``: a child process' ``ru_maxrss`` starts from its parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        if match:
            return int(match.group(1)) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # elsewhere: bytes on macOS, kB on the BSDs
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def triplets(batch_size: int, seq_len: int, seed: int) -> list[list[str]]:
    """Anchor, positive and negative columns of texts long enough to fill ``seq_len`` tokens."""
    import random

    rng = random.Random(seed)
    return [[" ".join(rng.choice(WORDS) for _ in range(seq_len)) for _ in range(batch_size)] for _ in range(3)]


def train_step(folder: Path, batch_size: int, seq_len: int) -> dict[str, float]:
    """In this process: a warm-up step at batch size 1, then one step at ``batch_size``; peak memory and time."""
    import torch
    from sentence_transformers.sentence_transformer import SentenceTransformer, losses
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    from stutor import runtime

    runtime.configure()
    torch.manual_seed(0)
    transformer = Transformer(str(folder), max_seq_length=seq_len)
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension())], device="cpu")
    loss = losses.TripletLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5)
    loaded_mb = peak_rss_mb()
    model.train()
    seconds = 0.0
    for size in (1, batch_size):  # the warm-up step creates AdamW's state, present at every later step
        start = time.perf_counter()
        features = [model.preprocess(column) for column in triplets(size, seq_len, seed=size)]
        assert all(f["input_ids"].shape == (size, seq_len) for f in features)
        loss(features, torch.zeros(size)).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - start
    return {
        "batch_size": batch_size,
        "parameters": sum(parameter.numel() for parameter in model.parameters()),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "loaded_rss_mb": round(loaded_mb, 1),
        "seconds_per_step": round(seconds, 2),
    }


def print_table(results: list[dict[str, object]], seq_len: int) -> None:
    """Print one memory table per model, with a fits / does-not-fit verdict per machine."""
    print(
        f"TripletLoss + AdamW, float32, {seq_len} tokens per text, batch size in triplets, "
        f"{os.cpu_count()}-core CPU; peak RSS of the training process"
    )
    for result in results:
        print(f"\n{result['model']} ({result['parameters'] / 1e6:.1f} M parameters)")
        limits = "  ".join(f"{'fits ' + name:>24}" for name in LIMITS_MB)
        print(f"{'batch size':>10} {'peak RSS MB':>12} {'s/step':>7}  {limits}")
        for row in result["rows"]:
            verdicts = "  ".join(f"{'yes' if row['peak_rss_mb'] <= mb else 'no':>24}" for mb in LIMITS_MB.values())
            print(f"{row['batch_size']:>10} {row['peak_rss_mb']:>12.0f} {row['seconds_per_step']:>7.1f}  {verdicts}")


def measure(name: str, folder: Path, batch_sizes: list[int], seq_len: int) -> dict[str, object]:
    """Run every batch size of one model in its own fresh process."""
    rows = []
    for batch_size in batch_sizes:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(folder), str(batch_size), "--seq-len", str(seq_len)],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {"model": name, "parameters": rows[0]["parameters"], "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "BATCH_SIZE"), help=argparse.SUPPRESS)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    parser.add_argument("--seq-len", type=int, default=SEQ_LEN, help="tokens per text")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(train_step(Path(args.child[0]), int(args.child[1]), args.seq_len)))
        return 0
    from stutor import models

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "distilroberta-base-sized"
        build_model_folder(folder)
        results = [measure("distilroberta-base (random init)", folder, args.batch_sizes, args.seq_len)]
    embedded = models.verify_model_files()
    results.append(measure("all-MiniLM-L6-v2 (embedded)", embedded, args.batch_sizes, args.seq_len))
    print_table(results, args.seq_len)
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    RESULTS.parent.mkdir(exist_ok=True)
    machine = {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}
    setup = {"seq_len": args.seq_len, "loss": "TripletLoss", "optimizer": "AdamW", "dtype": "float32"}
    RESULTS.write_text(
        json.dumps({"machine": machine, "setup": setup, "limits_mb": LIMITS_MB, "models": results}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"saved {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
