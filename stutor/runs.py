"""A training run's data and bookkeeping: what ``stutor-train`` does before and around :func:`stutor.training.train`.

:func:`load_run_data` turns a data source (the bundled groups, a local file in any supported
layout, or a Hub name) into the training rows, the held-out evaluation triplets, their
:class:`~stutor.cases.CaseReport` and the loss, checking the data once, where it enters; the
report is passed on to :func:`stutor.training.train`, which then does not scan it again; its
first step, :func:`check_run_options`, refuses contradicting choices before anything is loaded.
:func:`check_run_folder` checks the folder a run writes to and, for ``--resume``, its newest
checkpoint (:func:`last_checkpoint`) and saved settings (:func:`check_same_run`);
:func:`save_settings` and :func:`save_metrics` write the run's two records there.

Taught in: no notebook; it packages notebook 07's recipe as the ``stutor-train`` command
(:mod:`stutor.cli.train`, a thin layer over this module; README "Scale out").
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stutor import cases, data, schemas, sources
from stutor.checks import check_non_negative_int, check_output_dir, check_positive
from stutor.training import check_checkpoint

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset

    from stutor.training import TrainingHistory

BUNDLED = "bundled"
BUNDLED_DEV = "bundled-dev"
NO_EVAL = "none"
ARGS_FILE = "train_args.json"
METRICS_FILE = "train_metrics.json"
# Settings that must not change between a run and its --resume (they fix the data and its order).
RESUME_KEYS = (
    "model", "data", "schema", "label_column", "case", "loss", "max_train_rows", "holdout", "batch_size", "seed"
)  # fmt: skip


@dataclass(frozen=True)
class RunData:
    """The data of one training run, checked.

    Attributes:
        train: the training rows, in the trainer's layout (only input and label columns).
        eval: held-out triplets for the evaluator, or None.
        report: the training rows' :class:`~stutor.cases.CaseReport` (pass it on to ``train``).
        loss: the loss name: the one asked for, or the course's recommendation for the case.
        description: where the training rows came from, for people.
    """

    train: Dataset
    eval: Dataset | None
    report: cases.CaseReport
    loss: str
    description: str


def usable_losses() -> list[str]:
    """The losses of the course's table that need nothing but the model (no guide model)."""
    from stutor import losses  # sentence-transformers: imported only when a loss is needed

    return list(dict.fromkeys(option.name for option in losses.LOSS_TABLE if not option.needs_guide))


def check_run_options(
    *,
    data_source: str = BUNDLED,
    schema: str | None = None,
    case: cases.Case | int | str | None = None,
    loss: str | None = None,
    holdout: int = 0,
    eval_data: str | None = None,
    eval_steps: int | None = None,
    max_train_rows: int | None = None,
    label_column: str | None = None,
) -> cases.Case | None:
    """Refuse unknown or contradicting choices before any data or model is loaded.

    Args: as :func:`load_run_data`, which calls this first.

    Returns:
        The parsed case, or None.

    Raises:
        ValueError / TypeError: what is wrong and how to fix it.
    """
    parsed = cases.Case.parse(case) if case is not None else None
    if loss is not None:
        from stutor import losses  # sentence-transformers: imported only when a loss is named

        usable = usable_losses()
        if loss not in usable:
            why = "needs a guide model, which a run does not load" if loss in losses.LOSS_NAMES else "unknown"
            raise ValueError(f"loss {loss!r}: {why}; choose one of: {', '.join(usable)}")
        fitting = [o.name for o in losses.LOSS_TABLE if o.case is parsed and o.name in usable]
        if parsed is not None and loss not in fitting:
            raise ValueError(
                f"loss {loss} does not fit case {parsed.value} ({parsed.title}); "
                f"losses for that case: {', '.join(dict.fromkeys(fitting))}"
            )
    schemas.check_schema_name(schema)
    check_non_negative_int("holdout", holdout)
    check_positive("eval_steps", eval_steps, optional=True)
    check_positive("max_train_rows", max_train_rows, optional=True)
    sources.check_source(data_source, name="data", special=(BUNDLED,))
    if eval_data is not None:
        sources.check_source(eval_data, name="eval data", special=(BUNDLED_DEV, NO_EVAL))
        if holdout:
            raise ValueError("holdout and eval data both choose the evaluation data; give one of them")
    if holdout and data_source == BUNDLED:
        raise ValueError(f"holdout is for your own data; the bundled data evaluates on its dev groups ({BUNDLED_DEV})")
    if eval_steps is not None and eval_data == NO_EVAL:
        raise ValueError("eval_steps needs evaluation data; drop it or choose the eval data")
    if schema is not None and data_source == BUNDLED:
        raise ValueError("a schema is for a Hub or local data set; the bundled data needs none")
    if label_column is not None and data_source == BUNDLED:
        raise ValueError("a label column is for your own text classification data; the bundled data needs none")
    if label_column is not None and (not isinstance(label_column, str) or not label_column.strip()):
        raise ValueError(f"label_column must be a column name, not {label_column!r}")
    return parsed


def _subset(rows: Dataset, report: cases.CaseReport, indices: range) -> tuple[Dataset, cases.CaseReport]:
    """Some rows of checked data, and their report, without scanning the texts again."""
    subset = rows.select(indices)
    num_labels = report.num_labels
    if report.label_type is cases.LabelType.CLASS:
        num_labels = len(set(subset[report.label_column]))
    return subset, dataclasses.replace(report, num_rows=len(subset), num_labels=num_labels)


def load_run_data(
    data_source: str = BUNDLED,
    *,
    schema: str | None = None,
    case: cases.Case | int | str | None = None,
    loss: str | None = None,
    holdout: int = 0,
    eval_data: str | None = None,
    max_train_rows: int | None = None,
    label_column: str | None = None,
    eval_steps: int | None = None,
    say: Callable[[str], Any] = print,
) -> RunData:
    """Load, check and split the training and evaluation data of a run; no model is needed.

    Args:
        data_source: ``"bundled"`` (the paraphrase groups' train split), a local data file in the
            trainer's layout or a raw schema, or a Hub data set name (which falls back to the
            bundled data, with one line, when the Hub is out of reach).
        schema: the raw schema of the data (default: the layout as it is, or detected).
        case: with bundled data, the case to derive; otherwise the case the data must have.
        loss: the loss (default: the course's recommendation for the data's case).
        holdout: keep the last N rows of triplet data out of training and evaluate on them.
        eval_data: ``"bundled-dev"`` (default), ``"none"``, or triplets from a file or Hub name.
        max_train_rows: train on the first N rows only.
        label_column: the label column of text classification data with several (TREC).
        eval_steps: how often the run will evaluate (only checked here: it needs evaluation data).
        say: where the fallback line goes.

    Returns:
        A :class:`RunData`; its ``report`` is the one scan of the training rows.

    Raises:
        ValueError / TypeError: the options (:func:`check_run_options`), data that fits no case,
            another case than asked, held-out rows that are not triplets named anchor/positive/negative,
            a loss that does not fit, too few rows.
    """
    if not callable(say):
        raise TypeError(f"say must be a function that takes one line (e.g. print), not {type(say).__name__}.")
    wanted = check_run_options(
        data_source=data_source,
        schema=schema,
        case=case,
        loss=loss,
        holdout=holdout,
        eval_data=eval_data,
        eval_steps=eval_steps,
        max_train_rows=max_train_rows,
        label_column=label_column,
    )
    fallback_used = "paraphrase-group triplets (train split)"
    loaded = None
    if data_source == BUNDLED:
        description = "bundled paraphrase groups, train split"
    else:
        loaded = sources.load_training_rows(data_source, schema=schema, label_column=label_column)
        description = data_source
        if loaded is None:
            say(sources.fallback_message(data_source, fallback_used))
            description = "bundled paraphrase groups, train split (offline fallback)"
    if loaded is None:
        derived = wanted if wanted is not None and data_source == BUNDLED else cases.Case.TRIPLET
        rows = data.group_triplets("train") if derived is cases.Case.TRIPLET else data.bundled_case(derived)
        loaded = (rows, cases.detect_case(rows))
    train_rows, report = loaded
    if wanted is not None and report.case is not wanted:
        raise ValueError(f"case {wanted.value} was asked for, but the data is {report.case}: {report.reason}")
    evaluation = None
    if holdout:
        if report.case is not cases.Case.TRIPLET:
            raise ValueError(f"holdout evaluates triplet accuracy, but the data is {report.case}; use eval data")
        _check_triplet_names(report, f"the holdout rows of {data_source}")
        if holdout >= len(train_rows):
            raise ValueError(f"holdout {holdout} leaves no training rows (the data has {len(train_rows)})")
        split = len(train_rows) - holdout
        evaluation = train_rows.select(range(split, len(train_rows)))
        train_rows, report = _subset(train_rows, report, range(split))
    elif eval_data in (None, BUNDLED_DEV):
        evaluation = data.group_triplets("dev")
    elif eval_data != NO_EVAL:
        evaluation = _load_eval_triplets(eval_data, say)
    if max_train_rows is not None and max_train_rows < len(train_rows):
        train_rows, report = _subset(train_rows, report, range(max_train_rows))
    from stutor import losses

    chosen = loss or losses.recommended_loss(report).name
    losses.check_loss_fits(chosen, train_rows, report=report)
    return RunData(train_rows, evaluation, report, chosen, description)


def _load_eval_triplets(source: str, say: Callable[[str], Any]) -> Dataset:
    loaded = sources.load_training_rows(source)
    if loaded is None:
        say(sources.fallback_message(source, "paraphrase-group triplets (dev split)"))
        return data.group_triplets("dev")
    rows, found = loaded
    if found.case is not cases.Case.TRIPLET:
        raise ValueError(f"the eval data must hold triplets (anchor, positive, negative); it is {found.case}")
    _check_triplet_names(found, f"the eval data {source}")
    return rows


def _check_triplet_names(report: cases.CaseReport, what: str) -> None:
    """Held-out triplets go to the evaluator, which reads its columns by name (the trainer reads them in order)."""
    names = cases.Case.TRIPLET.columns
    if tuple(report.text_columns) != names:
        renames = ", ".join(f"{old!r} -> {new!r}" for old, new in zip(report.text_columns, names, strict=True))
        raise ValueError(
            f"{what} are triplets in the columns {list(report.text_columns)}, but the evaluator reads the columns "
            f"'anchor', 'positive' and 'negative'; rename them in the file ({renames})"
        )


def last_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest ``checkpoint-N`` folder (with its ``trainer_state.json``) in ``output_dir``, or None."""
    folder = Path(output_dir).expanduser()
    if not folder.is_dir():
        return None
    found = [
        (int(p.name.split("-")[1]), p)
        for p in folder.glob("checkpoint-*")
        if p.name.split("-")[1].isdigit() and (p / "trainer_state.json").is_file()
    ]
    return max(found)[1] if found else None


def check_same_run(settings: Mapping[str, Any], saved: str | Path, keys: Sequence[str]) -> None:
    """Refuse to resume a run whose data-defining settings changed.

    Args:
        settings: this run's settings.
        saved: the settings file the first run wrote (nothing to compare when it is missing).
        keys: the settings that fix the data and its order.

    Raises:
        ValueError: the changed settings, before and now, or a damaged settings file.
    """
    path = Path(saved)
    if not path.is_file():
        return
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        before = None
    if not isinstance(before, dict):
        raise ValueError(
            f"resume compares this run's settings with {str(path)!r}, which is damaged (not a JSON object of "
            "settings); restore it, or start a new run in another folder."
        )
    changed = [key for key in keys if before.get(key) != settings.get(key)]
    if changed:
        shown = ", ".join(f"{key}: {before.get(key)!r} -> {settings.get(key)!r}" for key in changed)
        raise ValueError(f"resume continues the same run, but these settings changed ({shown}); restore them")


def check_run_folder(
    output_dir: str | Path,
    *,
    model: str | None = None,
    resume: bool = False,
    settings: Mapping[str, Any] | None = None,
) -> tuple[Path, Path | None]:
    """Check the folder a run writes to before anything loads; for a resume, its checkpoint and saved settings.

    Messages name the ``stutor-train`` options (``--output-dir``, ``--model``, ``--resume``).

    Args:
        output_dir: the run's folder (created later if missing).
        model: the base model as given; a folder that is ``output_dir`` itself is refused.
        resume: continue from the newest ``checkpoint-N`` folder in ``output_dir``.
        settings: this run's settings (the command's options); on a resume, those of
            :data:`RESUME_KEYS` must equal the ones :func:`save_settings` wrote.

    Returns:
        ``(folder, checkpoint)``: the output folder, and the checkpoint to resume from (None unless ``resume``).

    Raises:
        ValueError / TypeError: a folder that cannot be written or is the model's, or for a resume: no
            checkpoint, a damaged one, or changed settings.
    """
    folder = check_output_dir(output_dir, name="--output-dir", optional=False)
    model_folder = Path(model).expanduser() if model else None
    if model_folder is not None and model_folder.is_dir() and model_folder.resolve() == folder.resolve():
        raise ValueError(
            f"--output-dir {str(folder)!r} is the --model folder: the trained model would overwrite the model it "
            "starts from; choose another --output-dir"
        )
    if not resume:
        return folder, None
    checkpoint = last_checkpoint(folder)
    if checkpoint is None:
        raise ValueError(
            f"--resume: no checkpoint-N folder in {str(folder)!r}; run without --resume first "
            "(a checkpoint is written every --save-steps steps)"
        )
    check_checkpoint(checkpoint, name="--resume")
    check_same_run(_as_json(settings or {}), folder / ARGS_FILE, RESUME_KEYS)
    return folder, checkpoint


def _as_json(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings as they are saved: sorted by name, paths as strings."""
    return {key: str(value) if isinstance(value, Path) else value for key, value in sorted(settings.items())}


def save_settings(output_dir: str | Path, settings: Mapping[str, Any]) -> Path:
    """Write the run's settings to :data:`ARGS_FILE` in ``output_dir`` (created), for a resume to compare.

    Returns:
        The file's path.
    """
    path = Path(output_dir) / ARGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_as_json(settings), indent=1), encoding="utf-8")
    return path


def save_metrics(output_dir: str | Path, history: TrainingHistory, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Write the run's record to :data:`METRICS_FILE` in ``output_dir``: final metrics, losses, evaluations, settings.

    Returns:
        The final metrics (:meth:`stutor.training.TrainingHistory.final_metrics`).
    """
    final = history.final_metrics(output_dir)
    record = {"final": final, "losses": history.losses, "evaluations": history.evaluations, "args": _as_json(settings)}
    (Path(output_dir) / METRICS_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
    return final
