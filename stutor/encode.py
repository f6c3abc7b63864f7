"""The ``stutor-encode`` command: embed a large text file (one sentence per line) into a ``.npy``.

Examples::

    python -m stutor.encode corpus.txt corpus.npy                     # embedded all-MiniLM-L6-v2
    python -m stutor.encode corpus.txt corpus.npy --model my-model/   # a model you trained
    python -m stutor.encode corpus.txt corpus.npy --processes 2       # two CPU processes
    torchrun --nproc-per-node 4 -m stutor.encode corpus.txt corpus.npy  # four GPUs

Rerun the same command after an interruption: it resumes. Read the result with
``numpy.load("corpus.npy", mmap_mode="r")``. The work is done by :func:`stutor.streaming.encode_file`;
several processes are coordinated by ``torch.distributed``, as ``torchrun`` does.

Taught in: no notebook; see the README's "Memory guide" and ``python -m stutor.encode --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from stutor import models, runtime, streaming


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


def _torchrun_world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def check_arguments(args: argparse.Namespace) -> str:
    """Check the arguments and the input file before any model is loaded.

    Args:
        args: the parsed arguments.

    Returns:
        The model to load: ``"embedded"``, a folder holding a saved Sentence Transformer, or the
        name or folder chosen by :func:`stutor.models.resolve_model`.

    Raises:
        ValueError: what is wrong and how to fix it.
    """
    for name in ("batch_size", "processes"):
        if getattr(args, name) <= 0:
            raise ValueError(f"--{name.replace('_', '-')} must be a positive integer, not {getattr(args, name)}.")
    if args.chunk_lines is not None and args.chunk_lines <= 0:
        raise ValueError(f"--chunk-lines must be a positive integer, not {args.chunk_lines}.")
    if args.processes > 1 and _torchrun_world() > 1:
        raise ValueError("Use either torchrun or --processes, not both.")
    streaming.check_input(args.input)
    # Under torchrun only rank 0 looks at the output and reads the input: the others start at the same
    # time and could see an output that rank 0 is creating.
    first = int(os.environ.get("RANK", "0")) == 0
    streaming.check_output(args.output, resume=args.resume and first)
    if first and not (args.resume and args.output.exists()):  # a resumed run checked its input when it started
        streaming.scan_text_file(args.input, allow_empty_lines=args.allow_empty_lines)
    return _model_source(args.model)


def _model_source(model: str) -> str:
    if model.strip().lower() in models.EMBEDDED_ALIASES:
        return "embedded"
    folder = Path(model).expanduser()
    if folder.is_dir() and (folder / "modules.json").is_file():
        return str(folder.resolve())  # a saved Sentence Transformer, e.g. one trained in the course
    choice = models.resolve_model(model, verbose=False)
    return "embedded" if choice.embedded else choice.name_or_path


def load_encoder(source: str, device: str | None = None):
    """Load the model chosen by :func:`check_arguments` on ``device``.

    Args:
        source: ``"embedded"``, a model folder or a Hub name.
        device: where to run it; default: the GPU of this process' local rank if there is one.

    Returns:
        A ``SentenceTransformer``. A plain Hugging Face model gets mean pooling, as in the course.
    """
    import torch

    if device is None:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        device = f"cuda:{local_rank % torch.cuda.device_count()}" if torch.cuda.is_available() else "cpu"
    if source == "embedded":
        model = models.load_pretrained_sentence_transformer()
    else:
        from sentence_transformers.sentence_transformer import SentenceTransformer

        runtime.configure()
        model = SentenceTransformer(source, device="cpu")
    return model.to(device)


def _run(args: argparse.Namespace, source: str, rank: int, world_size: int) -> None:
    model = load_encoder(source, args.device)
    streaming.encode_file(
        model,
        args.input,
        args.output,
        batch_size=args.batch_size,
        chunk_lines=args.chunk_lines,
        resume=args.resume,
        allow_empty_lines=args.allow_empty_lines,
        rank=rank,
        world_size=world_size,
        model_name=args.model,
    )


def _worker(rank: int, world_size: int, args: argparse.Namespace, source: str, init_file: str) -> None:
    """One of the ``--processes`` workers: join the process group, share the cores, encode."""
    import torch
    import torch.distributed as dist

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
    os.environ["LOCAL_RANK"] = str(rank)  # one GPU per process when there are GPUs, as under torchrun
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world_size)
    try:
        _run(args, source, rank, world_size)
        dist.barrier()
    except (ValueError, RuntimeError) as error:
        print(f"stutor-encode: error (process {rank}): {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        dist.destroy_process_group()


def _spawn(args: argparse.Namespace, source: str) -> int:
    import multiprocessing
    import multiprocessing.connection

    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        init_file = str(Path(folder) / "rendezvous")
        workers = [
            context.Process(target=_worker, args=(rank, args.processes, args, source, init_file))
            for rank in range(args.processes)
        ]
        for worker in workers:
            worker.start()
        pending = list(workers)
        while pending:  # if one worker fails, stop the others instead of letting them wait for it
            ready = multiprocessing.connection.wait([worker.sentinel for worker in pending])
            for worker in [worker for worker in pending if worker.sentinel in ready]:
                worker.join()
                pending.remove(worker)
                if worker.exitcode != 0:
                    for other in pending:
                        other.terminate()
    failed = [rank for rank, worker in enumerate(workers) if worker.exitcode != 0]
    if failed:
        print(f"stutor-encode: process(es) {failed} failed; rerun the same command to resume.", file=sys.stderr)
        return 1
    return 0


def _torchrun(args: argparse.Namespace, source: str) -> int:
    import torch.distributed as dist

    created = not dist.is_initialized()
    if created:
        dist.init_process_group("gloo")  # only used to wait for each other: any device
    try:
        _run(args, source, dist.get_rank(), dist.get_world_size())
        dist.barrier()
    finally:
        if created:
            dist.destroy_process_group()
    return 0


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
        source = check_arguments(args)
    except ValueError as error:
        parser.error(str(error))
    start = time.perf_counter()
    rank = int(os.environ.get("RANK", "0"))
    try:
        if args.processes > 1:
            status = _spawn(args, source)
        elif _torchrun_world() > 1:
            status = _torchrun(args, source)
        else:
            _run(args, source, 0, 1)
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
