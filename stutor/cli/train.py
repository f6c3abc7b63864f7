"""The ``stutor-train`` command: the notebook 07 recipe on your data, on one CPU or many GPUs.

Examples::

    python -m stutor.cli.train                                      # bundled triplets, a quick CPU run
    python -m stutor.cli.train --data embedding-data/QQP_triplets --holdout 1000 --epochs 1
    python -m stutor.cli.train --data pairs.csv --output-dir runs/pairs     # your file, its case detected
    python -m stutor.cli.train --config run.yaml --learning-rate 3e-5       # a config file, one flag changed
    python -m stutor.cli.train --config run.yaml --resume                   # continue from the last checkpoint
    torchrun --nproc_per_node 4 -m stutor.cli.train --data embedding-data/QQP_triplets   # 4 GPUs, DDP
    accelerate launch --multi_gpu --num_processes 4 -m stutor.cli.train --data embedding-data/QQP_triplets

Data is ``bundled`` (the course's paraphrase groups), a Hub data set name or a local
.json/.jsonl/.csv/.tsv/.parquet file, either already in the trainer's layout or in one of the
raw schemas of :data:`stutor.schemas.SCHEMAS`. The case is detected (:func:`stutor.cases.detect_case`)
and the loss defaults to the course's recommendation for it (:mod:`stutor.losses`). Evaluation is
triplet accuracy on held-out triplets. A config file (JSON or YAML) holds the same settings, its
keys the long option names; flags given on the command line win. Every argument and the data are
checked before any model loads; a bad one gets a message and exit code 2. The command only parses:
the output folder and ``--resume`` are :func:`stutor.runs.check_run_folder`, the data of a run
:func:`stutor.runs.load_run_data`, the training :func:`stutor.training.train`, the records
:func:`stutor.runs.save_settings` and :func:`stutor.runs.save_metrics`.

Under ``torchrun`` or ``accelerate launch`` every process runs this same command; the trainer
splits the batches between them and averages the gradients (PyTorch DDP). ``--batch-size`` is per
process. Only the main process (rank 0) prints and writes the model, checkpoints and metrics.

Taught in: notebook 07 (the recipe); the README's "Scale out" section.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from numbers import Real
from pathlib import Path
from typing import Any

from stutor import checks, runs, schemas, streaming, training
from stutor.runs import BUNDLED, BUNDLED_DEV, METRICS_FILE, NO_EVAL
from stutor.sources import DATA_SUFFIXES


def _number(parse: type, check: Callable[..., None], noun: str, **options: Any) -> Callable[[str], Any]:
    """An argparse type: parse the text with ``parse``, then check the value with a :mod:`stutor.checks` helper."""

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        try:
            check("the value", value, **options)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    return convert


_positive_int = _number(int, checks.check_positive, "a positive integer")
_non_negative_int = _number(int, checks.check_non_negative_int, "an integer >= 0")
_seed = _number(int, checks.check_seed, "an integer from 0 to 2**32 - 1")
_positive_float = _number(float, checks.check_positive, "a positive number", kind=Real)
_fraction = _number(
    float,
    checks.check_fraction,
    "a number from 0 up to (not including) 1",
    hint=" It is the fraction of the steps spent warming up (0.1: the first 10%).",
)


def build_parser() -> argparse.ArgumentParser:
    """The command's arguments; each long option name is also a config-file key.

    Returns:
        The ``argparse`` parser.
    """
    parser = argparse.ArgumentParser(
        prog="stutor-train",
        description="Train a Sentence Transformer with SentenceTransformerTrainer (the notebook 07 recipe). "
        "Runs unchanged under torchrun / accelerate launch for data-parallel training.",
    )
    add = parser.add_argument
    add("--config", type=Path, help="a JSON or YAML file whose keys are these long option names; flags override it")
    model = parser.add_argument_group("model")
    model.add_argument(
        "--model",
        default=None,
        help="base model: 'embedded' (all-MiniLM-L6-v2), a Hub name or a local folder "
        "(default: distilroberta-base when reachable, else the embedded model; see STUTOR_MODEL)",
    )
    model.add_argument("--max-seq-length", type=_positive_int, help="cap on tokens per text (default: the model's)")
    source = parser.add_argument_group("data")
    source.add_argument(
        "--data",
        default=BUNDLED,
        help=f"'{BUNDLED}' (the course's paraphrase groups, train split), a Hub data set name "
        f"(e.g. embedding-data/QQP_triplets) or a local {'/'.join(DATA_SUFFIXES)} file (default: %(default)s)",
    )
    source.add_argument(
        "--schema",
        choices=sorted(schemas.SCHEMAS),
        help="the raw schema of the data (default: detected; data already in the trainer's layout needs none)",
    )
    source.add_argument(
        "--case",
        help="1-4 or a name (triplet, positive_pair, ...): the data's case; with bundled data it picks the case "
        "to derive, otherwise it must match the detected one (default: detected)",
    )
    source.add_argument(
        "--label-column",
        help="text classification data with several integer label columns (TREC: coarse_label, fine_label): "
        "the one to train on",
    )
    source.add_argument("--max-train-rows", type=_positive_int, help="train on the first N rows only")
    train = parser.add_argument_group("training")
    train.add_argument("--loss", help="a loss of the course's table (default: the one recommended for the data's case)")
    train.add_argument("--epochs", type=_positive_float, default=1.0, help="passes over the data (default %(default)s)")
    train.add_argument("--max-steps", type=_positive_int, help="stop after N optimizer steps (overrides --epochs)")
    train.add_argument(
        "--batch-size", type=_positive_int, default=16, help="examples per step and process (default %(default)s)"
    )
    train.add_argument("--learning-rate", type=_positive_float, default=2e-5, help="peak AdamW rate (default 2e-5)")
    train.add_argument(
        "--warmup-ratio", type=_fraction, default=0.1, help="fraction of the steps to warm up (default %(default)s)"
    )
    train.add_argument("--seed", type=_seed, default=12, help="seed of everything (default %(default)s)")
    train.add_argument(
        "--logging-steps", type=_positive_int, default=10, help="record the loss every N steps (default %(default)s)"
    )
    evaluation = parser.add_argument_group("evaluation (triplet accuracy on held-out triplets)")
    evaluation.add_argument(
        "--eval-data",
        default=None,
        help=f"'{BUNDLED_DEV}' (the bundled dev groups), '{NO_EVAL}', or triplets from a Hub name or local file "
        f"(default: {BUNDLED_DEV}, or the --holdout rows)",
    )
    evaluation.add_argument(
        "--holdout",
        type=_non_negative_int,
        default=0,
        help="keep the last N rows of triplet data out of training and evaluate on them",
    )
    evaluation.add_argument(
        "--eval-steps", type=_positive_int, help="also evaluate every N steps (default: start, end)"
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--output-dir",
        type=Path,
        default=Path("runs/stutor-model"),
        help=f"the trained model, its checkpoints and {METRICS_FILE} go here (default %(default)s)",
    )
    output.add_argument(
        "--save-steps",
        type=_non_negative_int,
        default=500,
        help="checkpoint every N steps, keeping the last two; 0: no checkpoints (default %(default)s)",
    )
    output.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="continue from the last checkpoint in --output-dir, with the same data and settings",
    )
    return parser


def _option_actions(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Config keys (long option names, without dashes) and their actions."""
    return {
        action.option_strings[0][2:]: action
        for action in parser._actions
        if action.option_strings and action.option_strings[0].startswith("--") and action.dest not in ("help", "config")
    }


def config_arguments(path: Path, parser: argparse.ArgumentParser) -> list[str]:
    """Turn a JSON or YAML config file into command-line arguments.

    Args:
        path: the file; its keys are long option names (``batch-size`` or ``batch_size``).
        parser: the parser whose options are valid keys.

    Returns:
        The arguments, to go before the command line's own (which then win).

    Raises:
        ValueError: a missing or unreadable file, or an unknown key (the message lists the valid ones).
    """
    import yaml

    if path.is_dir():
        raise ValueError(f"config file {str(path)!r} is a folder; pass a .json or .yaml file")
    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"config file {str(path)!r} is not UTF-8 text ({error.reason}); save it as UTF-8") from None
    try:
        settings = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "YAML"
        raise ValueError(f"config file {str(path)!r} is not valid {kind}: {error}") from None
    if not isinstance(settings, dict):
        raise ValueError(f"config file {str(path)!r} must hold a mapping of option names to values")
    actions = _option_actions(parser)
    argv: list[str] = []
    for key, value in settings.items():
        name = str(key).replace("_", "-")
        if name not in actions:
            raise ValueError(f"config file {str(path)!r}: unknown key {key!r}; valid keys: {', '.join(actions)}")
        if isinstance(actions[name], argparse.BooleanOptionalAction):
            if not isinstance(value, bool):
                raise ValueError(f"config file {str(path)!r}: {key!r} must be true or false, not {value!r}")
            argv.append(f"--{name}" if value else f"--no-{name}")
        elif value is not None:
            argv += [f"--{name}", str(value)]
    return argv


def parse_args(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """Parse the config file (if any) and the command line; the command line wins.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).
        parser: the parser (default :func:`build_parser`).

    Returns:
        The parsed arguments. Exits with code 2 (``SystemExit``) on a bad argument.
    """
    parser = parser or build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config", type=Path)
    known, _ = pre.parse_known_args(argv)
    if known.config is not None:
        try:
            argv = config_arguments(known.config, parser) + argv
        except ValueError as error:
            parser.error(str(error))
    return parser.parse_args(argv)


def load_data(args: argparse.Namespace, *, verbose: bool = True) -> runs.RunData:
    """The run's data, from the parsed options (:func:`stutor.runs.load_run_data`, which checks them first)."""
    return runs.load_run_data(
        args.data,
        schema=args.schema,
        case=args.case,
        loss=args.loss,
        holdout=args.holdout,
        eval_data=args.eval_data,
        max_train_rows=args.max_train_rows,
        label_column=args.label_column,
        eval_steps=args.eval_steps,
        say=print if verbose else _silent,
    )


def _silent(*args: Any, **kwargs: Any) -> None:
    """Print nothing: the output of processes other than the main one."""


def main(argv: list[str] | None = None) -> int:
    """Run the command.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 2 for bad arguments or data (message on stderr), found before
        any model weights are read; a failure during the run raises (exit code 1).
    """
    parser = build_parser()
    try:
        args = parse_args(argv, parser)
    except SystemExit as stop:  # argparse printed its message (or --help)
        return int(stop.code or 0)
    rank, world = streaming.distributed_rank()
    is_main = rank == 0
    say = print if is_main else _silent
    settings = vars(args)
    try:
        from stutor import models

        output_dir, checkpoint = runs.check_run_folder(
            args.output_dir, model=args.model, resume=args.resume, settings=settings
        )
        choice = models.resolve_model(args.model, verbose=is_main)  # before the data: a Hub data set can be large
        models.check_max_seq_length(choice, args.max_seq_length, name="--max-seq-length")
        prepared = load_data(args, verbose=is_main)
    except (ValueError, TypeError) as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    from stutor import runtime, triplets

    say(f"Data: {prepared.description}: {len(prepared.train)} training rows, {prepared.report}")
    held_out = f"{len(prepared.eval)} held-out triplets" if prepared.eval is not None else "none"
    say(f"Loss: {prepared.loss}; evaluation: {held_out}")
    if world > 1:
        say(f"Data parallel: {world} processes, {args.batch_size} examples each per step")
    if checkpoint is not None:
        say(f"Resuming from {checkpoint}")

    runtime.configure()
    warnings.filterwarnings("ignore", message=".*broadcast_buffers.*")  # accelerate's DDP call, not ours
    model = models.build_sentence_transformer(choice, max_seq_length=args.max_seq_length)
    evaluator = triplets.triplet_evaluator(prepared.eval, name="heldout") if prepared.eval is not None else None
    if is_main:
        runs.save_settings(output_dir, settings)
    history = training.train(
        model,
        prepared.train,
        prepared.loss,
        report=prepared.report,
        evaluator=evaluator,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        warmup_ratio=args.warmup_ratio,
        seed=args.seed,
        eval_steps=args.eval_steps,
        logging_steps=args.logging_steps,
        max_steps=args.max_steps,
        output_dir=output_dir,
        save_steps=args.save_steps or None,
        resume_from_checkpoint=checkpoint,
    )
    if is_main:
        final = runs.save_metrics(output_dir, history, settings)
        print("final: " + " ".join(f"{key}={value}" for key, value in final.items()), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
