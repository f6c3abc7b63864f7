"""The ``stutor-train`` command: the notebook 07 recipe on your data, on one CPU or many GPUs.

Examples::

    python -m stutor.train                                      # bundled triplets, a quick CPU run
    python -m stutor.train --data embedding-data/QQP_triplets --holdout 1000 --epochs 1
    python -m stutor.train --data pairs.csv --output-dir runs/pairs     # your file, its case detected
    python -m stutor.train --config run.yaml --learning-rate 3e-5       # a config file, one flag changed
    python -m stutor.train --config run.yaml --resume                   # continue from the last checkpoint
    torchrun --nproc_per_node 4 -m stutor.train --data embedding-data/QQP_triplets   # 4 GPUs, DDP
    accelerate launch --multi_gpu --num_processes 4 -m stutor.train --data embedding-data/QQP_triplets

Data is ``bundled`` (the course's paraphrase groups), a Hub data set name or a local
.json/.jsonl/.csv/.tsv/.parquet file, either already in the trainer's layout or in one of the
raw schemas of :data:`stutor.cases.SCHEMAS`. The case is detected (:func:`stutor.cases.detect_case`)
and the loss defaults to the course's recommendation for it (:mod:`stutor.losses`). Evaluation is
triplet accuracy on held-out triplets. A config file (JSON or YAML) holds the same settings, its
keys the long option names; flags given on the command line win. Every argument and the data are
checked before any model loads; a bad one gets a message and exit code 2.

Under ``torchrun`` or ``accelerate launch`` every process runs this same command; the trainer
splits the batches between them and averages the gradients (PyTorch DDP). ``--batch-size`` is per
process. Only the main process (rank 0) prints and writes the model, checkpoints and metrics.

Taught in: notebook 07 (the recipe); the README's "Scale out" section.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from stutor import cases, data, losses, models, runtime, training, triplets

BUNDLED = "bundled"
BUNDLED_DEV = "bundled-dev"
NO_EVAL = "none"
DATA_SUFFIXES = (".json", ".jsonl", ".csv", ".tsv", ".parquet")
METRICS_FILE = "train_metrics.json"
ARGS_FILE = "train_args.json"
# Settings that must not change between a run and its --resume (they fix the data and its order).
RESUME_KEYS = ("model", "data", "schema", "case", "loss", "max_train_rows", "holdout", "batch_size", "seed")
PROBE_SENTENCES = (
    "How do I learn to play the guitar?",
    "What is the fastest way to learn guitar?",
    "How do I repair a flat bicycle tyre?",
    "Which programming language should a beginner learn first?",
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 up to (not including) 1, got {text!r}") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(
            f"is the fraction of the steps spent warming up: from 0 up to (not including) 1, got {text} "
            "(0.1 warms up over the first 10% of the steps)"
        )
    return value


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
        f"(e.g. {data.QQP_TRIPLETS}) or a local {'/'.join(DATA_SUFFIXES)} file (default: %(default)s)",
    )
    source.add_argument(
        "--schema",
        choices=sorted(cases.SCHEMAS),
        help="the raw schema of the data (default: detected; data already in the trainer's layout needs none)",
    )
    source.add_argument(
        "--case",
        help="1-4 or a name (triplet, positive_pair, ...): the data's case; with bundled data it picks the case "
        "to derive, otherwise it must match the detected one (default: detected)",
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
    train.add_argument("--seed", type=_non_negative_int, default=12, help="seed of everything (default %(default)s)")
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
        help="the trained model, its checkpoints and train_metrics.json go here (default %(default)s)",
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
    output.add_argument(
        "--replica-report",
        type=Path,
        help="check for data-parallel runs: every process writes rank<N>.json (world size, steps) and rank<N>.npy "
        "(its in-memory embeddings of fixed probe sentences) to this folder",
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

    if not path.is_file():
        raise ValueError(f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
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


def _looks_like_file(source: str) -> bool:
    return Path(source).suffix.lower() in DATA_SUFFIXES or (os.sep in source and not _hub_name(source))


def _hub_name(source: str) -> bool:
    parts = source.split("/")
    return len(parts) == 2 and all(parts) and not Path(source).suffix and not Path(source).exists()


def _check_source(option: str, source: str, special: tuple[str, ...]) -> None:
    if source in special:
        return
    path = Path(source).expanduser()
    if path.is_dir():
        raise ValueError(f"{option} {source!r} is a folder; pass a {'/'.join(DATA_SUFFIXES)} file in it")
    if path.is_file():
        if path.suffix.lower() not in DATA_SUFFIXES:
            raise ValueError(f"{option} {source!r} has suffix {path.suffix!r}; use a {'/'.join(DATA_SUFFIXES)} file")
        return
    if _looks_like_file(source):
        raise ValueError(f"{option} file {source!r} does not exist")
    if not _hub_name(source):
        choices = " or ".join(repr(s) for s in special)
        raise ValueError(
            f"{option} {source!r} is neither {choices}, an existing file, nor a Hub data set name like "
            f"{data.QQP_TRIPLETS!r}"
        )


def last_checkpoint(output_dir: Path) -> Path | None:
    """The newest ``checkpoint-N`` folder (with its ``trainer_state.json``) in ``output_dir``, or None."""
    if not output_dir.is_dir():
        return None
    found = [
        (int(p.name.split("-")[1]), p)
        for p in output_dir.glob("checkpoint-*")
        if p.name.split("-")[1].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None


def check_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """Check what can be checked without data or model: names, paths, combinations.

    Args:
        args: the parsed arguments.

    Returns:
        ``{"case": Case | None, "checkpoint": Path | None}``.

    Raises:
        ValueError: what is wrong, and how to fix it.
    """
    case = cases.Case.parse(args.case) if args.case is not None else None
    usable = [option.name for option in losses.LOSS_TABLE if not any("guide" in r for r in option.requires)]
    if args.loss is not None and args.loss not in usable:
        why = "needs a guide model, which this command does not load" if args.loss in losses.LOSS_NAMES else "unknown"
        raise ValueError(f"--loss {args.loss!r}: {why}; choose one of: {', '.join(dict.fromkeys(usable))}")
    if case is not None and args.loss is not None:
        fitting = [option.name for option in losses.LOSS_TABLE if option.case is case and option.name in usable]
        if args.loss not in fitting:
            raise ValueError(
                f"--loss {args.loss} does not fit --case {case.value} ({case.title}); "
                f"losses for that case: {', '.join(dict.fromkeys(fitting))}"
            )
    _check_source("--data", args.data, (BUNDLED,))
    if args.eval_data is not None:
        _check_source("--eval-data", args.eval_data, (BUNDLED_DEV, NO_EVAL))
        if args.holdout:
            raise ValueError("--holdout and --eval-data both choose the evaluation data; give one of them")
    if args.holdout and args.data == BUNDLED:
        raise ValueError(
            f"--holdout is for your own data; the bundled data evaluates on its dev groups ({BUNDLED_DEV})"
        )
    if args.eval_steps is not None and args.eval_data == NO_EVAL:
        raise ValueError("--eval-steps needs evaluation data; drop it or choose --eval-data")
    if args.schema is not None and args.data == BUNDLED:
        raise ValueError("--schema is for a Hub or local data set; the bundled data needs none")
    output = args.output_dir.expanduser()
    if output.exists() and not output.is_dir():
        raise ValueError(f"--output-dir {str(output)!r} is a file; pass a folder (created if missing)")
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"--output-dir {str(output)!r} lies under {str(parent)!r}, which is a file")
    checkpoint = None
    if args.resume:
        checkpoint = last_checkpoint(output)
        if checkpoint is None:
            raise ValueError(
                f"--resume: no checkpoint-N folder in {str(output)!r}; run without --resume first "
                "(a checkpoint is written every --save-steps steps)"
            )
        _check_same_run(args, output / ARGS_FILE)
    if args.replica_report is not None and args.replica_report.exists() and not args.replica_report.is_dir():
        raise ValueError(f"--replica-report {str(args.replica_report)!r} is a file; pass a folder")
    return {"case": case, "checkpoint": checkpoint}


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {key: str(value) if isinstance(value, Path) else value for key, value in sorted(vars(args).items())}


def _check_same_run(args: argparse.Namespace, saved: Path) -> None:
    if not saved.is_file():
        return
    before = json.loads(saved.read_text(encoding="utf-8"))
    now = _settings(args)
    changed = [key for key in RESUME_KEYS if before.get(key) != now.get(key)]
    if changed:
        shown = ", ".join(f"{key}: {before.get(key)!r} -> {now.get(key)!r}" for key in changed)
        raise ValueError(f"--resume continues the same run, but these settings changed ({shown}); restore them")


def _load_rows(source: str, schema: str | None, split: str, fallback: str) -> tuple[Any, str | None]:
    """Rows of a Hub name or local file in the trainer's layout, or (None, message) when the Hub is out of reach."""
    raw = data.load_source(source, source, split)
    if raw is None:
        return None, data.fallback_message(source, fallback)
    if schema is not None:
        return cases.convert(raw, schema), None
    try:
        cases.detect_case(raw)
        return raw, None
    except (ValueError, TypeError) as layout_error:
        try:
            return cases.convert(raw), None
        except (ValueError, TypeError) as schema_error:
            raise ValueError(
                f"{source}: not in the trainer's layout ({layout_error}) and not a known raw schema ({schema_error})"
            ) from None


def load_data(args: argparse.Namespace, case: cases.Case | None = None, *, verbose: bool = True) -> dict[str, Any]:
    """Load, check and split the training and evaluation data; no model is needed.

    Args:
        args: the parsed arguments.
        case: the case asked for (``--case``), or None.
        verbose: print the data lines (main process).

    Returns:
        ``{"train": Dataset, "eval": Dataset | None, "report": CaseReport, "loss": str, "description": str}``.

    Raises:
        ValueError: data that fits no case, another case than ``--case``, a loss that does not fit, too few rows.
    """
    say = print if verbose else (lambda *a, **k: None)
    if args.data == BUNDLED:
        derived = case if case is not None else cases.Case.TRIPLET
        train_set = triplets.group_triplets("train") if derived is cases.Case.TRIPLET else cases.bundled_case(derived)
        description = "bundled paraphrase groups, train split"
    else:
        train_set, fallback = _load_rows(args.data, args.schema, "train", "paraphrase-group triplets (train split)")
        description = args.data
        if train_set is None:
            say(fallback)
            train_set = triplets.group_triplets("train")
            description = "bundled paraphrase groups, train split (offline fallback)"
    report = cases.detect_case(train_set)
    if case is not None and report.case is not case:
        raise ValueError(f"--case {case.value}, but the data is {report.case}: {report.reason}")
    columns = list(report.text_columns) + ([report.label_column] if report.label_column else [])
    train_set = train_set.select_columns(columns)  # the trainer reads columns by position: drop any others
    evaluation = None
    if args.holdout:
        if report.case is not cases.Case.TRIPLET:
            raise ValueError(f"--holdout evaluates triplet accuracy, but the data is {report.case}; use --eval-data")
        if args.holdout >= len(train_set):
            raise ValueError(f"--holdout {args.holdout} leaves no training rows (the data has {len(train_set)})")
        split = len(train_set) - args.holdout
        evaluation = train_set.select(range(split, len(train_set)))
        train_set = train_set.select(range(split))
    elif args.eval_data in (None, BUNDLED_DEV):
        evaluation = triplets.group_triplets("dev")
    elif args.eval_data != NO_EVAL:
        evaluation, fallback = _load_rows(args.eval_data, None, "train", "paraphrase-group triplets (dev split)")
        if evaluation is None:
            say(fallback)
            evaluation = triplets.group_triplets("dev")
        found = cases.detect_case(evaluation)
        if found.case is not cases.Case.TRIPLET:
            raise ValueError(f"--eval-data must hold triplets (anchor, positive, negative); it is {found.case}")
        evaluation = evaluation.select_columns(list(found.text_columns))
    if args.max_train_rows is not None:
        train_set = train_set.select(range(min(args.max_train_rows, len(train_set))))
    report = cases.detect_case(train_set)
    loss = args.loss or losses.recommended_loss(report).name
    losses.check_loss_fits(loss, train_set)
    return {"train": train_set, "eval": evaluation, "report": report, "loss": loss, "description": description}


def _rank() -> tuple[int, int]:
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def _process_group_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def write_replica_report(directory: Path, model: Any, history: training.TrainingHistory) -> None:
    """Write this process's ``rank<N>.json`` and ``rank<N>.npy`` (embeddings of :data:`PROBE_SENTENCES`).

    Args:
        directory: the folder (created if missing).
        model: the trained model in memory.
        history: its training history.
    """
    import numpy as np

    rank, _ = _rank()
    directory.mkdir(parents=True, exist_ok=True)
    embeddings = model.encode(list(PROBE_SENTENCES), convert_to_numpy=True, show_progress_bar=False)
    np.save(directory / f"rank{rank}.npy", embeddings)
    report = {
        "rank": rank,
        "world_size": _process_group_size(),
        "steps": history.steps,
        "logged_steps": [step for step, _ in history.losses],
    }
    (directory / f"rank{rank}.json").write_text(json.dumps(report), encoding="utf-8")


def _final_metrics(history: training.TrainingHistory, processes: int, output_dir: Path) -> dict[str, Any]:
    final: dict[str, Any] = {}
    if history.train_loss is not None:
        final["train_loss"] = round(history.train_loss, 4)
    if history.evaluations:
        _, accuracy = history.metric("cosine_accuracy")
        final["eval_accuracy_before"] = round(accuracy[0], 4)
        final["eval_accuracy"] = round(accuracy[-1], 4)
    final.update(
        steps=history.steps, seconds=round(history.seconds, 1), processes=processes, output_dir=str(output_dir)
    )
    return final


def main(argv: list[str] | None = None) -> int:
    """Run the command.

    Args:
        argv: the arguments (default ``sys.argv[1:]``).

    Returns:
        The exit code: 0 on success, 2 for bad arguments or data (message on stderr).
    """
    parser = build_parser()
    try:
        args = parse_args(argv, parser)
    except SystemExit as stop:  # argparse printed its message (or --help)
        return int(stop.code or 0)
    rank, world = _rank()
    is_main = rank == 0
    say = print if is_main else (lambda *a, **k: None)
    try:
        checked = check_arguments(args)
        choice = models.resolve_model(args.model, verbose=is_main)
        prepared = load_data(args, checked["case"], verbose=is_main)
    except (ValueError, TypeError) as error:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return 2
    output_dir = args.output_dir.expanduser()
    train_set, eval_set, report = prepared["train"], prepared["eval"], prepared["report"]
    say(f"Data: {prepared['description']}: {len(train_set)} training rows, {report}")
    held_out = f"{len(eval_set)} held-out triplets" if eval_set is not None else "none"
    say(f"Loss: {prepared['loss']}; evaluation: {held_out}")
    if world > 1:
        say(f"Data parallel: {world} processes, {args.batch_size} examples each per step")
    if checked["checkpoint"] is not None:
        say(f"Resuming from {checked['checkpoint']}")

    runtime.configure()
    warnings.filterwarnings("ignore", message=".*broadcast_buffers.*")  # accelerate's DDP call, not ours
    model = models.build_sentence_transformer(choice, max_seq_length=args.max_seq_length)
    evaluator = triplets.triplet_evaluator(eval_set, name="heldout") if eval_set is not None else None
    if is_main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / ARGS_FILE).write_text(json.dumps(_settings(args), indent=1), encoding="utf-8")
    history = training.train(
        model,
        train_set,
        prepared["loss"],
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
        resume_from_checkpoint=checked["checkpoint"],
    )
    if args.replica_report is not None:
        write_replica_report(args.replica_report, model, history)
    if is_main:
        final = _final_metrics(history, _process_group_size(), output_dir)
        record = {"final": final, "losses": history.losses, "evaluations": history.evaluations, "args": _settings(args)}
        (output_dir / METRICS_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
        print("final: " + " ".join(f"{key}={value}" for key, value in final.items()), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
