"""Triplets for evaluation: held-out (anchor, positive, negative) rows and a TripletEvaluator built right.

A triplet is *correct* when the anchor is closer to its positive than to its negative. The
reference tutorial's evaluator has two mistakes this module makes impossible:

- it passes ``train_data[i]['neg']`` (a *list* of negatives) where one sentence is expected;
- it evaluates on the first 30 *training* rows, so the score says nothing about new questions.

:func:`stutor.data.group_triplets` builds many triplets from the bundled paraphrase groups of one
split (groups never cross splits); :func:`triplet_evaluator` checks the three columns and builds a
``TripletEvaluator``; :func:`triplet_distances` gives the two cosine distances of every triplet
(for histograms; a triplet is correct where the first is the smaller).

Taught in: notebook 07.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from stutor.checks import as_dataset, check_positive, check_texts

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

COLUMNS = ("anchor", "positive", "negative")


def _as_list(values: Any) -> Any:
    """A column as a list; a single string stays a string so that the check can refuse it."""
    return values if isinstance(values, str) else list(values)


def _columns(triplets: Any) -> tuple[list[str], list[str], list[str]]:
    """Read and check the three columns of a Dataset, a dict of lists, a list of 3-item rows or of row dicts."""
    is_rows = (
        isinstance(triplets, Sequence)
        and not isinstance(triplets, str)
        and any(isinstance(row, Mapping) for row in triplets)
    )
    if type(triplets).__name__ == "DataFrame" or is_rows:
        triplets = as_dataset(triplets, "triplets")  # a pandas DataFrame, or a list of row dicts
    if isinstance(triplets, Mapping) or hasattr(triplets, "column_names"):
        names = list(triplets.column_names if hasattr(triplets, "column_names") else triplets.keys())
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise ValueError(
                f"The triplets have columns {names} and lack {missing}; name them 'anchor', 'positive' and "
                "'negative' (dataset.rename_columns({...}))."
            )
        anchors, positives, negatives = (_as_list(triplets[c]) for c in COLUMNS)
    elif isinstance(triplets, Sequence) and not isinstance(triplets, str):
        rows = [getattr(row, "texts", row) for row in triplets]  # InputExample -> its texts
        bad = next(
            (i for i, row in enumerate(rows) if isinstance(row, str) or not isinstance(row, Sequence) or len(row) != 3),
            None,
        )
        if bad is not None:
            raise ValueError(f"Triplet {bad} is {rows[bad]!r:.80}; each triplet is (anchor, positive, negative).")
        anchors, positives, negatives = ([row[k] for row in rows] for k in range(3))
    else:
        raise TypeError(
            f"triplets must be a Dataset, a dict or a pandas DataFrame with anchor/positive/negative columns, or a "
            f"list of (anchor, positive, negative) rows or row dicts, not {type(triplets).__name__}."
        )
    return check_triplets(anchors, positives, negatives)


def check_triplets(
    anchors: Sequence[str], positives: Sequence[str], negatives: Sequence[str]
) -> tuple[list[str], list[str], list[str]]:
    """Check the three lists of a triplet set: same length, one non-empty string per item.

    Args:
        anchors: the anchor texts.
        positives: one positive text per anchor.
        negatives: one negative text per anchor (a string, not a list of negatives).

    Returns:
        The three lists.

    Raises:
        TypeError: an item that is not a string; a list of negatives gets its own explanation.
        ValueError: empty lists, empty strings or lists of different lengths.
    """
    for name, values in (("anchors", anchors), ("positives", positives), ("negatives", negatives)):
        if isinstance(values, Sequence) and not isinstance(values, str):
            nested = next((i for i, v in enumerate(values) if isinstance(v, list | tuple)), None)
            if nested is not None:
                raise TypeError(
                    f"{name}[{nested}] is a list ({values[nested]!r:.60}), but a triplet has ONE {name[:-1]}. "
                    "The reference passes train_data[i]['neg'], the list of all negatives of a query: take one "
                    "(train_data[i]['neg'][0]) or add one triplet per negative."
                )
    lists = [
        check_texts(anchors, name="anchors"),
        check_texts(positives, name="positives"),
        check_texts(negatives, name="negatives"),
    ]
    lengths = [len(values) for values in lists]
    if len(set(lengths)) != 1:
        raise ValueError(
            f"anchors, positives and negatives have {lengths[0]}, {lengths[1]} and {lengths[2]} items; "
            "a triplet set needs one positive and one negative per anchor (equal lengths)."
        )
    return lists[0], lists[1], lists[2]


def triplet_evaluator(triplets: Any, *, name: str = "", batch_size: int = 32) -> TripletEvaluator:
    """Build a ``TripletEvaluator`` after checking its input.

    Args:
        triplets: a Dataset, dict of lists or pandas DataFrame with ``anchor``, ``positive`` and
            ``negative`` (other columns are ignored), or a list of row dicts, of (anchor, positive,
            negative) rows or of ``InputExample`` triplets. Use held-out data.
        name: prefix of the metric names, e.g. ``"dev"`` gives ``dev_cosine_accuracy``.
        batch_size: texts per forward pass.

    Returns:
        The evaluator; calling it on a model returns ``{"<name>_cosine_accuracy": ...}``. It
        writes no CSV file and draws no progress bar.

    Raises:
        TypeError / ValueError: see :func:`check_triplets`.
    """
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

    if not isinstance(name, str):
        raise TypeError(f"name must be a string, not {type(name).__name__}.")
    check_positive("batch_size", batch_size)
    anchors, positives, negatives = _columns(triplets)
    return TripletEvaluator(
        anchors,
        positives,
        negatives,
        name=name,
        batch_size=batch_size,
        show_progress_bar=False,
        write_csv=False,
        similarity_fn_names=["cosine"],
    )


def triplet_distances(model: Any, triplets: Any, *, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances anchor-positive and anchor-negative of every triplet.

    Each distinct text is encoded once (anchors often repeat).

    Args:
        model: a ``SentenceTransformer``.
        triplets: as for :func:`triplet_evaluator`.
        batch_size: texts per forward pass.

    Returns:
        ``(positive_distances, negative_distances)``, two float arrays with one value per triplet;
        a distance is ``1 - cosine similarity`` (0 = same direction, 2 = opposite).
    """
    import torch

    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"model must be a SentenceTransformer (with encode), not {type(model).__name__}.")
    check_positive("batch_size", batch_size)
    anchors, positives, negatives = _columns(triplets)
    texts = list(dict.fromkeys(anchors + positives + negatives))
    index = {text: i for i, text in enumerate(texts)}
    embeddings = model.encode(texts, batch_size=batch_size, convert_to_tensor=True, show_progress_bar=False)
    embeddings = torch.nn.functional.normalize(embeddings.float().cpu(), dim=-1)

    def distances(others: list[str]) -> np.ndarray:
        a = embeddings[[index[t] for t in anchors]]
        b = embeddings[[index[t] for t in others]]
        return (1.0 - (a * b).sum(dim=-1)).numpy()

    return distances(positives), distances(negatives)
