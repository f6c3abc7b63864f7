"""Answer checks shared by the chapters: each turns a wrong type of answer into a hint, not an error.

The ``as_*`` helpers coerce an answer (a number, a tensor, a model). The ``*_or_hint`` helpers call
the library's own check (:func:`stutor.checks.as_dataset`, :func:`stutor.checks.check_texts`,
:func:`stutor.cases.detect_case`, :func:`stutor.losses.loss_name`) and answer with a hint where
it refuses.

Taught in: the exercise cells at the end of notebooks 01-09 (through the chapter modules).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

from stutor.exercises.registry import hint

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from datasets import Dataset
    from sentence_transformers.sentence_transformer import SentenceTransformer

    from stutor.cases import CaseReport


def as_int(answer: Any, what: str) -> int:
    """The answer as an ``int``; a bool, a float or anything else is a hint."""
    if isinstance(answer, bool) or not isinstance(answer, Integral):
        hint(f"the answer is {what}, a whole number (int), not {type(answer).__name__}.")
    return int(answer)


def as_float(answer: Any, what: str) -> float:
    """The answer as a finite ``float`` (a 0-d tensor or numpy scalar is unwrapped)."""
    if hasattr(answer, "item") and getattr(answer, "ndim", 0) == 0:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, Real) or not math.isfinite(answer):
        hint(f"the answer is {what}, a finite number (float), not {type(answer).__name__} {answer!r:.40}.")
    return float(answer)


def as_float_tensor(answer: Any, what: str) -> torch.Tensor:
    """The answer as a detached float tensor (a numpy array is converted)."""
    import numpy as np
    import torch

    if isinstance(answer, np.ndarray):
        answer = torch.from_numpy(answer)
    if not isinstance(answer, torch.Tensor) or not answer.is_floating_point():
        hint(f"the answer is {what}: a float torch.Tensor (or numpy array), not {type(answer).__name__}.")
    return answer.detach().float()


def as_sentence_transformer(answer: Any, what: str) -> SentenceTransformer:
    """The answer itself if it is a ``SentenceTransformer``."""
    from sentence_transformers.sentence_transformer import SentenceTransformer

    if not isinstance(answer, SentenceTransformer):
        hint(f"the answer is {what}, a SentenceTransformer, not {type(answer).__name__}.")
    return answer


def dataset_or_hint(answer: Any, what: str) -> Dataset:
    """:func:`stutor.checks.as_dataset`, with a hint where it refuses the answer."""
    from stutor.checks import as_dataset

    try:
        return as_dataset(answer, what)
    except (TypeError, ValueError):
        hint(
            f"the answer is {what}: a datasets.Dataset (or a non-empty list of row dicts), not {type(answer).__name__}."
        )


def texts_or_hint(texts: Any, name: str) -> list[str]:
    """:func:`stutor.checks.check_texts`, with its message as the hint where it refuses the texts."""
    from stutor.checks import check_texts

    try:
        return check_texts(texts, name=name)
    except (TypeError, ValueError) as error:
        hint(str(error))


def case_report_or_hint(dataset: Any) -> CaseReport:
    """:func:`stutor.cases.detect_case`, with a hint where it refuses the data set."""
    from stutor.cases import detect_case

    try:
        return detect_case(dataset)
    except (TypeError, ValueError) as error:
        hint(f"cases.detect_case refuses your data set: {error}")


def loss_name_or_hint(answer: Any) -> str:
    """:func:`stutor.losses.loss_name`, with a hint where the answer is not a loss."""
    from stutor.losses import loss_name

    try:
        return loss_name(answer)
    except (TypeError, ValueError):
        hint("the answer is a loss: its class name (a string), its class, or a built loss.")


def column_rows(dataset: Dataset, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """The rows of ``dataset`` as tuples of the values in ``columns``."""
    return list(zip(*(dataset[column] for column in columns), strict=True))
