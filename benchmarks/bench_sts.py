"""STS benchmark (test split) for the embedded model: the table of sentence-embedding methods.

Usage:
    python benchmarks/bench_sts.py [--path FILE]

Reads an STS-benchmark TSV file (default: ``../shared/data/stsbenchmark-test.tsv`` next to the
repository), scores every method of :mod:`stutor.evaluation` with the embedded all-MiniLM-L6-v2
(a trained Sentence Transformer, with Normalize) and checks that the complete model reproduces the
published Spearman of 82.03 within ±0.2. Prints one skip line and exits 0 when the file is absent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT.parent / "shared" / "data" / "stsbenchmark-test.tsv"
TOLERANCE = 0.2


def evaluate_file(path: Path):
    """Score all methods of the embedded model on the STS-benchmark file at ``path``.

    Returns:
        The :class:`stutor.evaluation.STSResult`.
    """
    from stutor import evaluation, models, sources

    pairs = sources.read_stsb_tsv(path)
    model = models.load_pretrained_sentence_transformer()
    return evaluation.evaluate_sts(model, pairs, data_name=f"STS benchmark ({path.name})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH, help="STS-benchmark TSV file")
    args = parser.parse_args(argv)
    if not args.path.is_file():
        print(f"skip: no STS-benchmark file at {args.path} (pass --path FILE to use another one).")
        return 0

    # Offline and quiet, like `make bench`: the embedded model needs no network.
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "STUTOR_QUIET"):
        os.environ.setdefault(name, "1")
    from stutor.evaluation import MINILM_STSB_PUBLISHED

    start = time.perf_counter()
    result = evaluate_file(args.path)
    seconds = time.perf_counter() - start
    print(result.table(digits=2))
    measured = result.score("sentence_transformer")
    ok = abs(measured - MINILM_STSB_PUBLISHED) <= TOLERANCE
    print(
        f"\nall-MiniLM-L6-v2 (Sentence Transformer): {measured:.2f}, published {MINILM_STSB_PUBLISHED:.2f} "
        f"-> within ±{TOLERANCE}: {'yes' if ok else 'NO'}  ({seconds:.1f} s)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
