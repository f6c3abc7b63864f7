"""The ``stutor-encode`` command: embed a large text file (one sentence per line) into a ``.npy``.

Examples::

    python -m stutor.cli.encode corpus.txt corpus.npy                     # embedded all-MiniLM-L6-v2
    python -m stutor.cli.encode corpus.txt corpus.npy --model my-model/   # a model you trained
    python -m stutor.cli.encode corpus.txt corpus.npy --processes 2       # two CPU processes
    torchrun --nproc-per-node 4 -m stutor.cli.encode corpus.txt corpus.npy  # four GPUs

Rerun the same command after an interruption: it resumes. Read the result with
``numpy.load("corpus.npy", mmap_mode="r")``. The command only parses: the run is checked by
:func:`stutor.streaming.prepare_encode_run`, the work done by
:func:`stutor.streaming.encode_with_torchrun` (one process, or each ``torchrun`` process) and
:func:`stutor.streaming.encode_in_processes` (``--processes N``).

Taught in: no notebook; see the README's "Memory guide" and ``python -m stutor.cli.encode --help``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from stutor import checks, streaming


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments.

    Returns:
        The ``argparse`` parser.
    """
    parser = argparse.ArgumentParser(
        prog="stutor-encode",
        description="Encode a text file, one sentence per line, into a float32 .npy file (row i = line i + 1). "
        "Memory stays flat in the file size; rerun the same command to resume after an interruption.",
    )
    parser.add_argument("input", type=Path, help="UTF-8 text file, one sentence per line")
    parser.add_argument("output", type=Path, help="the .npy file to write (its folder must exist)")
    parser.add_argument(
        "--model",
        default="embedded",
        help="'embedded' (all-MiniLM-L6-v2, the default), a Hub name, or a local model folder",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=streaming.DEFAULT_BATCH_SIZE,
        help="sentences per forward pass (default %(default)s)",
    )
    parser.add_argument(
        "--chunk-lines",
        type=int,
        default=None,
        help=f"lines encoded and saved at a time (default {streaming.DEFAULT_CHUNK_LINES})",
    )
    parser.add_argument("--processes", type=int, default=1, help="encode with N processes on this machine (default 1)")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1, ... (default: a GPU if there is one)")
    parser.add_argument("--no-resume", dest="resume", action="store_false", help="start over instead of resuming")
    parser.add_argument("--allow-empty-lines", action="store_true", help="encode empty lines as empty strings")
    return parser


def check_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Check the numbers and the device, then the run (:func:`stutor.streaming.prepare_encode_run`); no model loads.

    Args:
        args: the parsed arguments.

    Returns:
        ``{"source": the model to load (see :func:`stutor.streaming.encoder_source`),
        "info": the input's :class:`~stutor.streaming.TextFileInfo`, or None when not scanned here}``.

    Raises:
        ValueError: what is wrong and how to fix it (numbers, ``--device``, the input, the output, the model).
    """
    checks.check_positive("--batch-size", args.batch_size)
    streaming.check_processes(args.processes, name="--processes")
    checks.check_positive("--chunk-lines", args.chunk_lines, optional=True)
    checks.check_device("--device", args.device)
    source, info = streaming.prepare_encode_run(
        args.input,
        args.output,
        model=args.model,
        chunk_lines=args.chunk_lines,
        processes=args.processes,
        resume=args.resume,
        allow_empty_lines=args.allow_empty_lines,
    )
    return {"source": source, "info": info}


def main(argv: list[str] | None = None) -> int:
    """Run the command.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success; 1 when encoding failed; 130 when interrupted (Ctrl-C).
        Bad arguments exit with status 2 and a message, before any model is loaded.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        checked = check_arguments(args)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    start = time.perf_counter()
    rank, _ = streaming.distributed_rank()
    options = {
        "batch_size": args.batch_size,
        "chunk_lines": args.chunk_lines,
        "resume": args.resume,
        "allow_empty_lines": args.allow_empty_lines,
        "model_name": args.model,
        "info": checked["info"],
    }
    try:
        if args.processes > 1:
            status = streaming.encode_in_processes(
                checked["source"], args.input, args.output, args.processes, device=args.device, **options
            )
        else:
            streaming.encode_with_torchrun(checked["source"], args.input, args.output, device=args.device, **options)
            status = 0
    except ValueError as error:
        print(f"stutor-encode: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        saved = "no rows were saved yet"
        if streaming.progress_paths(args.output)[0].exists():
            progress = streaming.encoding_progress(args.output)
            saved = f"{progress['rows_done']} of {progress['n_lines']} rows are saved"
        print(f"\nInterrupted: {saved}. Rerun the same command to resume.", file=sys.stderr)
        return 130
    if status == 0 and rank == 0:
        progress = streaming.encoding_progress(args.output)
        seconds = time.perf_counter() - start
        print(f"{args.output}: {progress['rows_done']} of {progress['n_lines']} rows written ({seconds:.1f} s)")
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
