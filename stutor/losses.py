"""Which loss fits which data: the selection table, its batch samplers, and building the loss.

The table follows the sentence-transformers v6 loss overview (and the "Inputs" table in each
loss' docstring). Every entry says why you would pick it, which batch sampler it needs
(``NO_DUPLICATES`` for losses with in-batch negatives, ``GROUP_BY_LABEL`` for the
BatchHard/BatchAll family) and what else it requires. :func:`check_loss_fits` refuses a loss
that does not match the data *before* any training starts.

The overview also lists ``(Cached)MultipleNegativesSymmetricRankingLoss``; sentence-transformers
6.2 deprecates them in favour of ``MultipleNegativesRankingLoss(model,
directions=("query_to_doc", "doc_to_query"), partition_mode="per_direction")``, so the table
leaves them out (pass those keyword arguments through :func:`build_loss` instead).

Taught in: notebook 05.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import Dataset
from sentence_transformers.base.sampler import BatchSamplers

from stutor import cases
from stutor.cases import Case, CaseReport, LabelType
from stutor.checks import as_dataset


@dataclass(frozen=True)
class LossOption:
    """One row of the selection table.

    Attributes:
        name: the class name in ``sentence_transformers.sentence_transformer.losses``.
        case: the case whose data it takes.
        label_type: the label it needs (``CLASS``, ``SCORE`` or ``NONE``).
        reason: one line: why pick it.
        sampler: the batch sampler to train it with.
        recommended: the course's first choice for this case and label type.
        binary: the class labels must be 0 and 1.
        needs_guide: :func:`build_loss` needs ``guide=``, a second SentenceTransformer that
            filters false in-batch negatives.
        needs_num_labels: the loss is a classifier head: it needs the number of classes (from
            the data) and the embedding dimension (from the model).
    """

    name: str
    case: Case
    label_type: LabelType
    reason: str
    sampler: BatchSamplers
    recommended: bool = False
    binary: bool = False
    needs_guide: bool = False
    needs_num_labels: bool = False

    @property
    def requires(self) -> tuple[str, ...]:
        """What :func:`build_loss` needs besides the model, in words (from the typed fields)."""
        needs = ()
        if self.needs_num_labels:
            needs += ("num_labels (from the data)", "embedding_dimension (from the model)")
        if self.needs_guide:
            needs += ("guide: a second SentenceTransformer that filters false in-batch negatives",)
        return needs


_NO_DUP = BatchSamplers.NO_DUPLICATES
_BY_LABEL = BatchSamplers.GROUP_BY_LABEL
_DEFAULT = BatchSamplers.BATCH_SAMPLER
_PAIR, _POS, _SENT, _TRIP = Case.LABELLED_PAIR, Case.POSITIVE_PAIR, Case.LABELLED_SENTENCE, Case.TRIPLET
_CLASS, _SCORE, _NONE = LabelType.CLASS, LabelType.SCORE, LabelType.NONE

LOSS_TABLE: tuple[LossOption, ...] = (
    # case 1, integer classes
    LossOption(
        "OnlineContrastiveLoss",
        _PAIR,
        _CLASS,
        "pulls 1-pairs together and pushes 0-pairs apart, learning only from the hard pairs of each batch",
        _DEFAULT,
        recommended=True,
        binary=True,
    ),
    LossOption(
        "ContrastiveLoss",
        _PAIR,
        _CLASS,
        "pulls 1-pairs together and pushes 0-pairs beyond a margin, on every pair",
        _DEFAULT,
        binary=True,
    ),
    LossOption(
        "SoftmaxLoss",
        _PAIR,
        _CLASS,
        "trains a classifier on (u, v, |u-v|) for any number of classes, as SBERT did on NLI",
        _DEFAULT,
        needs_num_labels=True,
    ),
    # case 1, float scores in 0-1
    LossOption(
        "CoSENTLoss",
        _PAIR,
        _SCORE,
        "orders the pairs so that a higher score means a higher cosine similarity; a strong signal",
        _DEFAULT,
        recommended=True,
    ),
    LossOption(
        "AnglELoss",
        _PAIR,
        _SCORE,
        "CoSENT on angles instead of cosines, which avoids cosine's flat regions near +-1",
        _DEFAULT,
    ),
    LossOption(
        "CosineSimilarityLoss",
        _PAIR,
        _SCORE,
        "regresses the cosine similarity onto the score (mean squared error): simple, weaker signal",
        _DEFAULT,
    ),
    # case 2, (anchor, positive) pairs
    LossOption(
        "MultipleNegativesRankingLoss",
        _POS,
        _NONE,
        "each anchor must pick its own positive among all positives of the batch (in-batch negatives)",
        _NO_DUP,
        recommended=True,
    ),
    LossOption(
        "CachedMultipleNegativesRankingLoss",
        _POS,
        _NONE,
        "MultipleNegativesRankingLoss computed in mini-batches (GradCache), so big batches fit in memory",
        _NO_DUP,
    ),
    LossOption(
        "MegaBatchMarginLoss",
        _POS,
        _NONE,
        "mines the hardest other positive of the batch as a negative; made for very large batches",
        _NO_DUP,
    ),
    LossOption(
        "GISTEmbedLoss",
        _POS,
        _NONE,
        "in-batch negatives, minus those a guide model says are really positives",
        _NO_DUP,
        needs_guide=True,
    ),
    LossOption(
        "CachedGISTEmbedLoss",
        _POS,
        _NONE,
        "GISTEmbedLoss with GradCache for big batches",
        _NO_DUP,
        needs_guide=True,
    ),
    # case 3, single sentences with a class label
    LossOption(
        "BatchAllTripletLoss",
        _SENT,
        _CLASS,
        "forms every valid triplet the class labels allow inside the batch",
        _BY_LABEL,
        recommended=True,
    ),
    LossOption(
        "BatchHardTripletLoss",
        _SENT,
        _CLASS,
        "per sentence, only the farthest same-class and the closest other-class sentence of the batch",
        _BY_LABEL,
    ),
    LossOption(
        "BatchSemiHardTripletLoss",
        _SENT,
        _CLASS,
        "negatives farther than the positive but within the margin: gentler mining than batch-hard",
        _BY_LABEL,
    ),
    LossOption(
        "BatchHardSoftMarginTripletLoss",
        _SENT,
        _CLASS,
        "batch-hard with a soft margin, so there is no margin to tune",
        _BY_LABEL,
    ),
    # case 4, (anchor, positive, negative) triplets
    LossOption(
        "MultipleNegativesRankingLoss",
        _TRIP,
        _NONE,
        "the negative joins the in-batch negatives: one hard negative plus every other text of the batch",
        _NO_DUP,
        recommended=True,
    ),
    LossOption(
        "TripletLoss",
        _TRIP,
        _NONE,
        "the reference's choice: anchor closer to positive than to negative by a margin",
        _DEFAULT,
    ),
    LossOption(
        "CachedMultipleNegativesRankingLoss",
        _TRIP,
        _NONE,
        "MultipleNegativesRankingLoss with GradCache for big batches",
        _NO_DUP,
    ),
    LossOption(
        "GISTEmbedLoss",
        _TRIP,
        _NONE,
        "in-batch and hard negatives, filtered by a guide model",
        _NO_DUP,
        needs_guide=True,
    ),
    LossOption(
        "CachedGISTEmbedLoss",
        _TRIP,
        _NONE,
        "GISTEmbedLoss with GradCache for big batches",
        _NO_DUP,
        needs_guide=True,
    ),
)

LOSS_NAMES: tuple[str, ...] = tuple(dict.fromkeys(option.name for option in LOSS_TABLE))


def loss_name(loss_or_name: Any) -> str:
    """The class name of a loss given as a name, a class or an instance (wrappers unwrapped)."""
    from sentence_transformers.sentence_transformer import losses

    if isinstance(loss_or_name, str):
        if not hasattr(losses, loss_or_name):
            raise ValueError(
                f"{loss_or_name!r} is not a sentence-transformers loss. Losses in the course table: {list(LOSS_NAMES)}."
            )
        return loss_or_name
    if isinstance(loss_or_name, type):
        return loss_or_name.__name__
    inner = getattr(loss_or_name, "loss", None)  # MatryoshkaLoss, AdaptiveLayerLoss wrap another loss
    if type(loss_or_name).__name__ in ("MatryoshkaLoss", "AdaptiveLayerLoss", "Matryoshka2dLoss") and inner is not None:
        return loss_name(inner)
    if hasattr(loss_or_name, "forward"):
        return type(loss_or_name).__name__
    raise TypeError(f"Expected a loss (name, class or instance), not {type(loss_or_name).__name__}.")


def options_for(name: str) -> list[LossOption]:
    """The rows of :data:`LOSS_TABLE` for one loss name (a loss may take several cases or label types).

    Raises:
        ValueError: a name that is not in the table (the message lists the names that are).
    """
    options = [option for option in LOSS_TABLE if option.name == name]
    if not options:
        raise ValueError(f"{name} is not in the course's selection table; choose one of {list(LOSS_NAMES)}.")
    return options


def _label_type(value: LabelType | str | None) -> LabelType | None:
    if value is None or isinstance(value, LabelType):
        return value
    for label_type in LabelType:
        if value == label_type.value:
            return label_type
    raise ValueError(f"Unknown label type {value!r}; use one of {[t.value for t in LabelType]}.")


def candidate_losses(
    case: Case | CaseReport | int | str, label_type: LabelType | str | None = None
) -> list[LossOption]:
    """The losses that fit a case, recommended first.

    Args:
        case: a :class:`Case` (or its number/name), or the :class:`CaseReport` of a data set, which
            also drops the 0/1 losses when the data has more than two classes.
        label_type: ``"class"`` or ``"score"``; needed for case 1 unless a report is given.

    Returns:
        The matching :class:`LossOption` rows.

    Raises:
        ValueError: an unknown case, or case 1 without a label type.
    """
    report = case if isinstance(case, CaseReport) else None
    if report is not None:
        case, label_type = report.case, report.label_type
    case = Case.parse(case)
    label_type = _label_type(label_type)
    if case is Case.LABELLED_PAIR and label_type not in (LabelType.CLASS, LabelType.SCORE):
        raise ValueError("Case 1 losses depend on the label: pass label_type='class' (integers) or 'score' (floats).")
    options = [
        o for o in LOSS_TABLE if o.case is case and (case is not Case.LABELLED_PAIR or o.label_type is label_type)
    ]
    if report is not None and report.num_labels is not None and report.num_labels > 2:
        options = [o for o in options if not o.binary]
    return sorted(options, key=lambda o: not o.recommended)


def recommended_loss(case: Case | CaseReport | int | str, label_type: LabelType | str | None = None) -> LossOption:
    """The course's first choice for a case (see :func:`candidate_losses`)."""
    return candidate_losses(case, label_type)[0]


def batch_sampler_for(loss_or_name: Any) -> BatchSamplers:
    """The batch sampler a loss needs.

    Args:
        loss_or_name: a loss instance, class or class name (a Matryoshka wrapper is unwrapped).

    Returns:
        ``NO_DUPLICATES`` for losses with in-batch negatives (MultipleNegativesRankingLoss family,
        MegaBatchMargin, GISTEmbed), ``GROUP_BY_LABEL`` for the BatchHard/BatchAll family,
        ``BATCH_SAMPLER`` otherwise.

    Raises:
        ValueError: a name that is no sentence-transformers loss.
    """
    name = loss_name(loss_or_name)
    options = [option for option in LOSS_TABLE if option.name == name]
    return options[0].sampler if options else BatchSamplers.BATCH_SAMPLER


def _expects(option: LossOption) -> str:
    if option.label_type is LabelType.SCORE:
        return "case 1 (sentence pairs + float scores in 0-1)"
    if option.case is Case.LABELLED_PAIR:
        return f"case 1 (sentence pairs + {'0/1' if option.binary else 'integer class'} labels)"
    return f"case {option.case.value} ({option.case.title})"


def check_loss_fits(
    loss_or_name: Any,
    dataset: Dataset | Sequence[Mapping[str, Any]],
    *,
    report: CaseReport | None = None,
    training_set: bool = True,
) -> CaseReport:
    """Refuse a loss that does not match the data, before any training.

    Args:
        loss_or_name: a loss instance, class or class name from the table.
        dataset: the training data in the trainer's layout.
        report: the data's :class:`~stutor.cases.CaseReport` if it was checked already; None
            checks it here (:func:`stutor.cases.detect_case`).
        training_set: the data is a whole training set, so the BatchHard/BatchAll family's rule
            (2 classes with 2 sentences each) applies; False for a single batch, where a batch
            without such classes simply gives a loss of 0.

    Returns:
        The data's :class:`CaseReport`.

    Raises:
        ValueError: the loss takes another case or label type, needs 0/1 labels, or (BatchHard/BatchAll
            family) needs at least 2 classes with 2 sentences each. The message says what the data
            looks like, what the loss expects and which losses would fit.
    """
    name = loss_name(loss_or_name)
    options = options_for(name)
    dataset = as_dataset(dataset)
    report = cases.detect_case(dataset) if report is None else report
    fits = [o for o in options if o.case is report.case and o.label_type is report.label_type]
    if not fits:
        expected = " or ".join(_expects(o) for o in options)
        others = [o.name for o in candidate_losses(report)]
        problem = ""
        if any(o.case is report.case for o in options) and report.label_type is not LabelType.NONE:
            problem = (
                " The labels are integers (classes) but this loss needs float scores in 0-1: cast them with "
                "dataset.cast_column(...) only if they really are similarities."
                if report.label_type is LabelType.CLASS
                else " The labels are floats (scores) but this loss needs integer classes."
            )
        raise ValueError(
            f"{name} does not fit this data. The data is case {report.case.value} ({report.kind}): {report.reason} "
            f"{name} expects {expected}.{problem} "
            f"Losses that fit this data: {others}."
        )
    labels = dataset[report.label_column] if report.label_column else []
    if fits[0].binary and not set(labels) <= {0, 1}:
        raise ValueError(
            f"{name} needs labels 0 (different) and 1 (similar), but the data has classes {sorted(set(labels))[:10]}. "
            "Use SoftmaxLoss for more classes."
        )
    if training_set and fits[0].sampler is BatchSamplers.GROUP_BY_LABEL:
        counts: dict[int, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        usable = [label for label, count in counts.items() if count >= 2]
        if len(usable) < 2:
            raise ValueError(
                f"{name} mines triplets inside a batch: it needs at least 2 classes with at least 2 sentences each, "
                f"but the data has {len(counts)} class(es) and only {len(usable)} with 2 or more sentences."
            )
    return report


def build_loss(
    loss: str | LossOption,
    model: Any,
    dataset: Dataset | None = None,
    *,
    report: CaseReport | None = None,
    **kwargs: Any,
) -> Any:
    """Build a loss from the table for a model, checking the data first when it is given.

    Args:
        loss: the loss name (or a :class:`LossOption`).
        model: the ``SentenceTransformer`` to train.
        dataset: the training data; checked with :func:`check_loss_fits`, and gives SoftmaxLoss its
            number of labels.
        report: the data's :class:`~stutor.cases.CaseReport` if it was checked already.
        **kwargs: passed on to the loss (e.g. ``guide=`` for the GISTEmbed losses, ``margin=``).

    Returns:
        The loss module.

    Raises:
        ValueError: an unknown loss, data that does not fit, or a missing requirement.
    """
    from sentence_transformers.sentence_transformer import losses

    name = loss.name if isinstance(loss, LossOption) else loss_name(loss)
    option = options_for(name)[0]
    if not hasattr(model, "get_embedding_dimension"):
        raise TypeError(f"model must be a SentenceTransformer, not {type(model).__name__}.")
    _check_options(name, getattr(losses, name), kwargs)
    if dataset is not None:
        dataset = as_dataset(dataset, "training data")
    report = check_loss_fits(name, dataset, report=report) if dataset is not None else None
    if option.needs_num_labels:
        if "num_labels" not in kwargs:
            if report is None:
                raise ValueError(f"{name} needs num_labels: pass the training data or num_labels=<classes>.")
            kwargs["num_labels"] = max(dataset[report.label_column]) + 1
        kwargs.setdefault("embedding_dimension", model.get_embedding_dimension())
    if option.needs_guide and kwargs.get("guide") is None:
        raise ValueError(
            f"{name} needs a guide model: build_loss({name!r}, model, guide=<another SentenceTransformer>)."
        )
    return getattr(losses, name)(model, **kwargs)


def _check_options(name: str, loss_class: type, options: Mapping[str, Any]) -> None:
    """Refuse keyword arguments the loss does not take, naming the ones it does."""
    parameters = inspect.signature(loss_class).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return
    accepted = [p for p in parameters if p not in ("self", "model")]
    unknown = [key for key in options if key not in accepted]
    if unknown:
        raise TypeError(f"{name} takes no argument {unknown[0]!r}; it takes: {', '.join(accepted) or 'nothing else'}.")


def loss_on_batch(loss: Any, dataset: Dataset) -> float:
    """Compute a loss once on a (small) data set, as the trainer would for one batch (no gradients).

    Notebook 05 uses it to show that a BatchAll batch with one sentence per class has loss 0.

    Args:
        loss: a built loss (its ``model`` encodes the texts).
        dataset: the rows of the batch, in the trainer's layout (checked first: the loss must fit
            its case and label type).

    Returns:
        The loss value.
    """
    import torch

    dataset = as_dataset(dataset, "batch")
    report = check_loss_fits(loss, dataset, training_set=False)
    model = getattr(loss, "model", None) or loss.sentence_embedder  # the BatchHard family names it so
    features = [model.preprocess(dataset[column]) for column in report.text_columns]
    labels = torch.tensor(dataset[report.label_column]) if report.label_column else None
    with torch.no_grad():
        return float(loss(features, labels))
