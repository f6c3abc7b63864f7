"""Train a Sentence Transformer with ``SentenceTransformerTrainer``, checked first, and keep its history.

:func:`train` takes a model, training data (a ``datasets.Dataset`` in the trainer's layout or
the legacy ``InputExample`` list), a loss and an optional evaluator. Before any training it
checks every argument and that the loss fits the data's case (:mod:`stutor.cases`,
:mod:`stutor.losses`); it then picks the batch sampler the loss needs, seeds everything, and
returns a :class:`TrainingHistory`: the training loss per logging step and the evaluator's
metrics per evaluation, which can plot itself.

It works offline (the model card never asks the Hub), draws progress bars for a person and
stays silent under tests (``STUTOR_QUIET=1``), and runs unchanged from a script under
``torchrun``: the trainer saves on the main process only.

Taught in: notebook 07 (and notebooks 05 and 08, which also train with :func:`train`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stutor import cases, memory, runtime
from stutor.checks import (
    as_dataset,
    check_fraction,
    check_non_negative,
    check_output_dir,
    check_positive,
    check_seed,
)

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset
    from matplotlib.figure import Figure

_TIMING_KEYS = ("runtime", "per_second", "_time")


@dataclass
class TrainingHistory:
    """What happened during one training run.

    Attributes:
        losses: ``(step, training loss)`` per logging step.
        evaluations: one dict per evaluation: ``step`` plus the evaluator's metrics
            (e.g. ``eval_dev_cosine_accuracy``); step 0 is the model before training.
        steps: optimisation steps done.
        seconds: wall time of the whole run, evaluations included.
        batch_sampler: the batch sampler used (its name).
        train_loss: the trainer's mean training loss over the steps of this run (None before training).
    """

    losses: list[tuple[int, float]] = field(default_factory=list)
    evaluations: list[dict[str, float]] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    batch_sampler: str = ""
    train_loss: float | None = None
    processes: int = 1

    def final_metrics(self, output_dir: str | Path | None = None) -> dict[str, Any]:
        """The run in one flat dict: mean training loss, held-out accuracy before and after, steps, seconds.

        Args:
            output_dir: where the model was saved, recorded as ``output_dir``.

        Returns:
            ``{"train_loss", "eval_accuracy_before", "eval_accuracy", "steps", "seconds", "processes",
            "output_dir"}`` (the loss and accuracies only when recorded).
        """
        final: dict[str, Any] = {}
        if self.train_loss is not None:
            final["train_loss"] = round(self.train_loss, 4)
        if self.evaluations:
            _, accuracy = self.metric("cosine_accuracy")
            final["eval_accuracy_before"] = round(accuracy[0], 4)
            final["eval_accuracy"] = round(accuracy[-1], 4)
        final.update(steps=self.steps, seconds=round(self.seconds, 1), processes=self.processes)
        if output_dir is not None:
            final["output_dir"] = str(output_dir)
        return final

    @property
    def metric_names(self) -> list[str]:
        """The evaluator metrics recorded, in order of first appearance."""
        names = [key for record in self.evaluations for key in record if key != "step"]
        return list(dict.fromkeys(names))

    def _metric_name(self, name: str | None) -> str:
        names = self.metric_names
        if not names:
            raise ValueError("No evaluation was recorded: pass an evaluator to train().")
        if name is None:
            return next((n for n in names if n.endswith("accuracy")), names[0])
        matches = [n for n in names if n == name or n.endswith(name)]
        if not matches:
            raise ValueError(f"No metric {name!r}; recorded metrics: {names}.")
        return matches[0]

    def metric(self, name: str | None = None) -> tuple[list[int], list[float]]:
        """Steps and values of one evaluator metric.

        Args:
            name: a metric name, or its ending (``"cosine_accuracy"``); None picks the first
                metric that ends in ``accuracy``, else the first metric.

        Returns:
            ``(steps, values)``.

        Raises:
            ValueError: no evaluation was recorded, or no metric has that name.
        """
        chosen = self._metric_name(name)
        records = [r for r in self.evaluations if chosen in r]
        return [int(r["step"]) for r in records], [float(r[chosen]) for r in records]

    def plot(self, metric: str | None = None, *, title: str = "") -> Figure:
        """Plot the training loss per step and, if recorded, an evaluator metric per evaluation.

        Args:
            metric: the metric to plot (see :meth:`metric`).
            title: a title above both panels.

        Returns:
            The matplotlib ``Figure``.
        """
        import matplotlib.pyplot as plt

        panels = 2 if self.evaluations else 1
        fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 3.4), squeeze=False)
        ax = axes[0][0]
        if self.losses:
            steps, values = zip(*self.losses, strict=True)
            ax.plot(steps, values, marker=".", color="tab:blue")
        ax.set(xlabel="training step", ylabel="training loss", title="Training loss (one batch per point)")
        if self.evaluations:
            chosen = self._metric_name(metric)
            steps, values = self.metric(chosen)
            ax = axes[0][1]
            ax.plot(steps, values, marker="o", color="tab:green")
            ax.set(xlabel="training step", ylabel=chosen.removeprefix("eval_"), title="Evaluator, held-out data")
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        return fig


def examples_to_dataset(examples: Sequence[Any]) -> Dataset:
    """Turn the legacy ``InputExample`` list into a ``datasets.Dataset`` in the trainer's layout.

    Columns ``sentence_0``, ``sentence_1``, ... (the trainer reads inputs by position), plus
    ``label`` unless every label is the old default 0 (as ``model.fit`` does).

    Args:
        examples: a non-empty list of ``InputExample`` with the same number of texts each.

    Returns:
        The data set.

    Raises:
        TypeError: an item that is not an ``InputExample``.
        ValueError: an empty list or examples with different numbers of texts.
    """
    from datasets import Dataset
    from sentence_transformers import InputExample

    if not examples:
        raise ValueError("The InputExample list is empty: pass at least one example.")
    bad = next((i for i, e in enumerate(examples) if not isinstance(e, InputExample)), None)
    if bad is not None:
        raise TypeError(f"examples[{bad}] is {type(examples[bad]).__name__}, not InputExample.")
    sizes = sorted({len(e.texts) for e in examples})
    if len(sizes) != 1:
        raise ValueError(f"The examples have {sizes} texts each; all must have the same number (e.g. 3 for triplets).")
    columns: dict[str, list[Any]] = {f"sentence_{k}": [e.texts[k] for e in examples] for k in range(sizes[0])}
    labels = [e.label for e in examples]
    if any(label != 0 for label in labels):
        columns["label"] = labels
    return Dataset.from_dict(columns)


def static_embedding_model(model: Any = None) -> Any:
    """A weak starting point: a transformer's input word embeddings, averaged over the tokens.

    The Sentence Transformer is one ``StaticEmbedding`` module (an embedding bag with mean
    pooling) on the transformer's tokenizer, its table copied from the transformer's *input*
    embeddings: no attention, no context, so word order and word sense are lost. Training it
    shows accuracy climbing from near chance.

    Args:
        model: a :class:`~stutor.models.ModelChoice`, or anything
            :func:`stutor.models.resolve_model` accepts.

    Returns:
        ``SentenceTransformer(modules=[StaticEmbedding])`` on the CPU.
    """
    from sentence_transformers.sentence_transformer import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    from stutor.models import load_hf_model

    raw, tokenizer = load_hf_model(model)
    weights = raw.get_input_embeddings().weight.detach().clone()
    del raw
    return SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_weights=weights)], device="cpu")


def _check_numbers(
    epochs: Any,
    batch_size: Any,
    learning_rate: Any,
    warmup_ratio: Any,
    seed: Any,
    eval_steps: Any,
    logging_steps: Any,
    max_steps: Any,
) -> None:
    check_positive("epochs", epochs, Real)
    check_positive("batch_size", batch_size)
    check_positive("learning_rate", learning_rate, Real)
    check_fraction(
        "warmup_ratio", warmup_ratio, hint=" The reference warms up over 10% of the steps: warmup_ratio=0.1."
    )
    check_seed("seed", seed)
    check_positive("logging_steps", logging_steps)
    check_positive("eval_steps", eval_steps, optional=True)
    check_positive("max_steps", max_steps, optional=True)


def _check_checkpoints(save_steps: Any, resume_from_checkpoint: Any, target: Path | None) -> Path | None:
    if save_steps is not None:
        check_positive("save_steps", save_steps)
        if target is None:
            raise ValueError(
                "save_steps needs an output_dir: the checkpoints are written to <output_dir>/checkpoint-N."
            )
    if resume_from_checkpoint is None:
        return None
    return check_checkpoint(resume_from_checkpoint)


def check_checkpoint(checkpoint: Any, *, name: str = "resume_from_checkpoint") -> Path:
    """Check a ``checkpoint-N`` folder before resuming from it: its state file and weights are whole.

    Only sizes and headers are read (:func:`stutor.models.check_weight_file`), never the weights.

    Args:
        checkpoint: the folder.
        name: the argument's name in messages (``--resume`` for the command).

    Returns:
        The folder as a ``Path``.

    Raises:
        TypeError: not a path.
        ValueError: no checkpoint folder, a damaged ``trainer_state.json``, or a missing, empty or
            truncated model, optimizer or scheduler file.
    """
    import json

    from stutor.models import check_weight_file

    if not isinstance(checkpoint, str | Path):
        raise TypeError(f"{name} must be a checkpoint folder path, not {checkpoint!r}.")
    folder = Path(checkpoint).expanduser()
    if not folder.is_dir() or not (folder / "trainer_state.json").is_file():
        raise ValueError(
            f"{name} {str(folder)!r} is not a checkpoint folder (a checkpoint-N folder with "
            "trainer_state.json, written when save_steps is set)."
        )
    damaged = f"{name}: the checkpoint {str(folder)!r} is damaged (an interrupted save?)"
    fix = "delete that folder to resume from the checkpoint before it, or start again without resuming."
    try:
        state = json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        state = None
    if not isinstance(state, dict) or not isinstance(state.get("global_step"), int):
        raise ValueError(f"{damaged}: trainer_state.json is not valid; {fix}")
    weights = [p for p in folder.rglob("*") if p.is_file() and p.suffix in (".safetensors", ".bin", ".pt", ".pth")]
    if not any(p.suffix in (".safetensors", ".bin") and "training_args" not in p.name for p in weights):
        raise ValueError(f"{damaged}: it holds no model weights (model.safetensors); {fix}")
    for file in sorted(weights):
        try:
            check_weight_file(file)
        except ValueError as error:
            raise ValueError(f"{damaged}: {error} Or {fix}") from None
    return folder


def _distributed_cpu() -> bool:
    """Several processes (torchrun, accelerate launch) and no GPU: DDP must be asked for on the CPU."""
    import torch

    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available()


def _as_training_data(train_data: Any) -> Dataset:
    from datasets import Dataset, DatasetDict

    if isinstance(train_data, Dataset | DatasetDict):
        return as_dataset(train_data, "training data")
    if isinstance(train_data, Sequence) and not isinstance(train_data, str) and train_data:
        if all(hasattr(item, "texts") for item in train_data):
            return examples_to_dataset(list(train_data))
    return as_dataset(train_data, "training data")


def _model_of(loss: Any) -> Any:
    return getattr(loss, "model", None) or getattr(loss, "sentence_embedder", None)


def _check_report(report: Any, dataset: Dataset) -> cases.CaseReport:
    """Take the report of a data set checked earlier, after a cheap look that it belongs to it."""
    if not isinstance(report, cases.CaseReport):
        raise TypeError(f"report must be the CaseReport of the training data (from detect_case), not {report!r}.")
    columns = list(report.text_columns) + ([report.label_column] if report.label_column else [])
    if report.num_rows != dataset.num_rows or not set(columns) <= set(dataset.column_names):
        raise ValueError(
            f"report describes {report.num_rows} rows with columns {columns}, but the training data has "
            f"{dataset.num_rows} rows with {dataset.column_names}: pass the report of this data set, or none."
        )
    return report


def _prepare_loss(loss: Any, model: Any, dataset: Dataset, report: cases.CaseReport) -> Any:
    """Build the loss if a name or class was given, and check that it fits the data and the model."""
    from torch import nn

    from stutor import losses

    if isinstance(loss, str | type):
        name = loss if isinstance(loss, str) else loss.__name__
        return losses.build_loss(name, model, dataset, report=report)
    if not isinstance(loss, nn.Module):
        raise TypeError(
            f"loss must be a loss instance (e.g. losses.TripletLoss(model)), a loss class or its name, "
            f"not {type(loss).__name__}."
        )
    inner = getattr(loss, "loss", loss)
    if _model_of(inner) is not None and _model_of(inner) is not model:
        raise ValueError(
            f"{type(loss).__name__} was built for another model; build it for the model you train: "
            f"{type(loss).__name__}(model)."
        )
    if losses.loss_name(loss) in losses.LOSS_NAMES:  # outside the course's table, the layout check is all
        losses.check_loss_fits(loss, dataset, report=report)
    return loss


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Hide trainer chatter in quiet mode (``STUTOR_QUIET=1``); always hide CPU-only noise.

    In quiet mode the log lines the trainer prints without progress bars go nowhere, and the
    model-card helper's "Computing widget examples" bar (a notebook widget in Jupyter) is not
    drawn. Also useful around the legacy ``model.fit`` call.

    Yields:
        Nothing; use it as ``with quiet(): ...``.
    """
    from sentence_transformers.base import model_card

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        if not runtime.is_quiet():
            yield
            return
        bar = model_card.tqdm
        model_card.tqdm = functools.partial(bar, disable=True)
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                yield
        finally:
            model_card.tqdm = bar


def _main_process_saves(trainer: Any) -> None:
    """Let only the main process write the model and checkpoints.

    transformers 5 moved the main-process check from ``save_model`` into ``Trainer._save``, which
    sentence-transformers 6.2 overrides without it: under DDP every process would write the same
    files at once.
    """
    save = trainer._save

    def _save(output_dir: str | None = None, state_dict: Any = None) -> None:
        if trainer.args.should_save:
            save(output_dir, state_dict=state_dict)

    trainer._save = _save


def _history_callback(history: TrainingHistory):
    from transformers import TrainerCallback

    class HistoryCallback(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "train_loss" in logs:
                history.train_loss = float(logs["train_loss"])
            if logs and "loss" in logs:
                history.losses.append((int(state.global_step), float(logs["loss"])))

        def on_evaluate(self, args, state, control, metrics=None, **kwargs):
            kept = {
                key: float(value)
                for key, value in (metrics or {}).items()
                if isinstance(value, Real) and not key.endswith(_TIMING_KEYS) and key != "epoch"
            }
            history.evaluations.append({"step": int(state.global_step), **kept})

    return HistoryCallback()


def _bar_callback():
    from transformers.trainer_callback import ProgressCallback

    class BarOnly(ProgressCallback):
        """The usual progress bar, without printing every log dictionary under it."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            return None

    return BarOnly


def train(
    model: Any,
    train_data: Dataset | Sequence[Any],
    loss: Any,
    *,
    evaluator: Any = None,
    epochs: float = 1,
    batch_size: int = 16,
    learning_rate: float = 2e-5,
    warmup_ratio: float = 0.1,
    seed: int = 12,
    eval_steps: int | None = None,
    logging_steps: int = 1,
    max_steps: int | None = None,
    weight_decay: float = 0.01,
    output_dir: str | Path | None = None,
    evaluate_before: bool = True,
    save_steps: int | None = None,
    resume_from_checkpoint: str | Path | None = None,
    report: cases.CaseReport | None = None,
) -> TrainingHistory:
    """Train a Sentence Transformer with ``SentenceTransformerTrainer`` and return its history.

    Args:
        model: the ``SentenceTransformer`` to train (changed in place).
        train_data: a ``datasets.Dataset`` in the trainer's layout (text columns first, then
            ``label``/``score``) or the legacy list of ``InputExample``.
        loss: a loss instance built for ``model``, a loss class, or its name (``"TripletLoss"``).
        evaluator: an evaluator on HELD-OUT data (e.g. :func:`stutor.triplets.triplet_evaluator`),
            or None.
        epochs: passes over the training data.
        batch_size: examples per step (per process under ``torchrun``).
        learning_rate: peak learning rate of AdamW.
        warmup_ratio: fraction of the steps over which the learning rate rises linearly from 0;
            it then falls linearly to 0.
        seed: seeds the data order, dropout and any new weights: the same seed gives the same numbers.
        eval_steps: run the evaluator every this many steps (and at the end); None: only before
            and after training.
        logging_steps: record the training loss every this many steps.
        max_steps: stop after this many steps (overrides ``epochs``).
        weight_decay: AdamW weight decay (``model.fit`` used 0.01).
        output_dir: save the trained model there (main process only); None saves nothing.
        evaluate_before: also run the evaluator once before training (step 0).
        save_steps: write a checkpoint (model, optimizer, scheduler, data position) to
            ``<output_dir>/checkpoint-N`` every this many steps, keeping the last two; None: none.
        resume_from_checkpoint: a ``checkpoint-N`` folder to continue from (same data and
            settings): training restarts at step N with the saved weights and optimizer state.
        report: the :class:`~stutor.cases.CaseReport` of ``train_data`` when it was checked
            already (e.g. by :func:`stutor.runs.load_run_data`); None checks the data here. The
            data is scanned once either way.

    Returns:
        A :class:`TrainingHistory`.

    Raises:
        TypeError / ValueError: a non-positive epochs, batch size or learning rate, a warmup
            outside 0-1, an output_dir that is a file, data that fits no case, a loss that does
            not fit the data's case or was built for another model, eval_steps without an
            evaluator, save_steps without output_dir, a resume_from_checkpoint that is no
            checkpoint folder. All before training starts.

    Example:
        >>> history = train(model, triplets, "TripletLoss", evaluator=dev_evaluator, eval_steps=5)  # doctest: +SKIP
        >>> history.plot()  # doctest: +SKIP
    """
    import torch
    import transformers
    from sentence_transformers.base.evaluation import BaseEvaluator
    from sentence_transformers.sentence_transformer import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from stutor.losses import batch_sampler_for

    if not isinstance(model, SentenceTransformer):
        raise TypeError(f"model must be a SentenceTransformer, not {type(model).__name__}.")
    _check_numbers(epochs, batch_size, learning_rate, warmup_ratio, seed, eval_steps, logging_steps, max_steps)
    check_non_negative("weight_decay", weight_decay, hint=" model.fit used 0.01.")
    if evaluator is not None and not isinstance(evaluator, BaseEvaluator):
        raise TypeError(
            f"evaluator must be a sentence-transformers evaluator (e.g. TripletEvaluator), not "
            f"{type(evaluator).__name__}; build one with stutor.triplets.triplet_evaluator(held_out_triplets)."
        )
    if eval_steps is not None and evaluator is None:
        raise ValueError("eval_steps needs an evaluator: pass evaluator=... (on held-out data) or drop eval_steps.")
    target = check_output_dir(output_dir)
    checkpoint = _check_checkpoints(save_steps, resume_from_checkpoint, target)
    dataset = _as_training_data(train_data)
    report = cases.detect_case(dataset) if report is None else _check_report(report, dataset)
    runtime.configure()
    transformers.set_seed(seed)
    loss = _prepare_loss(loss, model, dataset, report)
    sampler = batch_sampler_for(loss)

    history = TrainingHistory(batch_sampler=str(getattr(sampler, "value", sampler)))
    show = runtime.show_progress()
    card = model.model_card_data
    local_only = card.local_files_only
    card.local_files_only = True  # the model card never asks the Hub (offline-safe)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="stutor-train-") as scratch, quiet():
            args = SentenceTransformerTrainingArguments(
                output_dir=str(target) if target is not None else scratch,
                num_train_epochs=float(epochs),
                max_steps=max_steps if max_steps is not None else -1,
                per_device_train_batch_size=batch_size,
                per_device_eval_batch_size=batch_size,
                learning_rate=float(learning_rate),
                warmup_steps=float(warmup_ratio),  # a value below 1 is a fraction of the steps
                lr_scheduler_type="linear",
                weight_decay=float(weight_decay),
                seed=seed,
                data_seed=seed,
                batch_sampler=sampler,
                eval_strategy="steps" if eval_steps else "no",
                eval_steps=eval_steps,
                # evaluated by the trainer once training is set up: a trainer.evaluate() call before
                # trainer.train() keeps the model out of DDP, and the processes then train apart
                eval_on_start=evaluator is not None and evaluate_before,
                logging_strategy="steps",
                logging_steps=logging_steps,
                save_strategy="steps" if save_steps else "no",
                save_steps=save_steps or 500,
                save_total_limit=2,
                report_to="none",
                disable_tqdm=not show,
                dataloader_pin_memory=torch.cuda.is_available(),
                use_cpu=_distributed_cpu(),  # without it, CPU processes train alone instead of with DDP (gloo)
            )
            trainer = SentenceTransformerTrainer(
                model=model, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator
            )
            _main_process_saves(trainer)
            trainer.remove_callback(PrinterCallback)
            if show:
                trainer.remove_callback(ProgressCallback)
                trainer.add_callback(_bar_callback())
            trainer.add_callback(_history_callback(history))
            trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint is not None else None)
            history.steps = int(trainer.state.global_step)
            history.processes = int(trainer.args.world_size)
            if evaluator is not None and (not history.evaluations or history.evaluations[-1]["step"] != history.steps):
                trainer.evaluate()
            if target is not None:
                trainer.save_model(str(target))
    finally:
        card.local_files_only = local_only
        trainer = None
        memory.return_freed_memory()
    history.seconds = time.perf_counter() - start
    return history
