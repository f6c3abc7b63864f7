"""Uncertainty for paired comparisons: two models (or a model before and after training) on the same test items.

Every before/after and every A-against-B in the course is scored on the *same* items, so the
comparison is paired: :func:`compare` takes one score per item for each side (1/0 for a correct
triplet or prediction, or a per-query rank metric such as reciprocal rank) and returns a
:class:`Comparison` with

- a paired bootstrap interval for the difference of the means (resampling items, seeded; or, with
  ``groups=``, resampling whole groups of correlated items, such as the rewordings of one question), and
- for 0/1 scores, the exact McNemar test: how many items B fixed and broke, and the two-sided
  binomial p-value of that split.

Its ``verdict`` says "no measurable difference" whenever the interval includes zero, so the prose
of a notebook can follow the numbers.

Taught in: notebooks 06 and 07 (and every later comparison).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stutor.checks import check_fraction, check_non_negative_int, check_positive, to_list


def _scores(values: Any, name: str) -> np.ndarray:
    values = to_list(values)  # a numpy array, pandas Series or torch tensor of scores, as a list
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise TypeError(
            f"{name} must be a list or array of per-item scores (1/0 or a metric), not {type(values).__name__}."
        )
    array = np.asarray(values, dtype=float) if len(values) else np.zeros(0)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d list of per-item scores, not shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        bad = np.flatnonzero(~np.isfinite(array))[:5].tolist()
        raise ValueError(f"{name} holds NaN or infinite scores at items {bad}.")
    return array


def _group_ids(groups: Any, n: int) -> np.ndarray:
    """Group labels (any hashable values) as integers 0..k-1, one per item."""
    groups = to_list(groups)  # a numpy array, pandas Series or torch tensor of ids, as a list
    if isinstance(groups, str) or not isinstance(groups, Sequence):
        raise TypeError(f"groups must be a list with one group id per item, not {type(groups).__name__}.")
    labels = list(groups)
    if len(labels) != n:
        raise ValueError(f"groups has {len(labels)} ids for {n} items; give one group id per item, in the same order.")
    index: dict[Any, int] = {}
    try:
        return np.array([index.setdefault(label, len(index)) for label in labels], dtype=int)
    except TypeError as error:
        raise TypeError(f"groups must hold hashable ids (strings or numbers): {error}.") from None


def exact_mcnemar(fixed: int, broken: int) -> float:
    """Two-sided exact p-value that ``fixed`` and ``broken`` items split evenly (a binomial sign test).

    Args:
        fixed: items wrong on side A and right on side B.
        broken: items right on side A and wrong on side B.

    Returns:
        The p-value (1.0 when nothing changed).
    """
    check_non_negative_int("fixed", fixed)
    check_non_negative_int("broken", broken)
    n, k = fixed + broken, min(fixed, broken)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class Comparison:
    """A paired comparison of side B against side A on the same items.

    Attributes:
        a, b: the two sides' names.
        n: number of items.
        mean_a, mean_b: the mean score of each side (accuracy for 0/1 scores).
        difference: ``mean_b - mean_a``.
        low, high: the paired bootstrap interval of the difference.
        confidence: the interval's level (0.95).
        fixed, broken: for 0/1 scores, items B gets right that A got wrong, and the reverse; else None.
        p_value: the exact McNemar p-value for 0/1 scores; else None.
        groups: the number of groups resampled as wholes (``compare(..., groups=)``); None when
            the items were resampled one by one.
    """

    a: str
    b: str
    n: int
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    confidence: float
    fixed: int | None
    broken: int | None
    p_value: float | None
    groups: int | None = None

    @property
    def measurable(self) -> bool:
        """True when the interval excludes zero."""
        return self.low > 0 or self.high < 0

    @property
    def verdict(self) -> str:
        """The conclusion in words, following the interval."""
        if not self.measurable:
            return f"no measurable difference between {self.b} and {self.a}"
        better, worse = (self.b, self.a) if self.difference > 0 else (self.a, self.b)
        return f"{better} is better than {worse}"

    def __str__(self) -> str:
        level = f"{self.confidence:.0%}"
        text = (
            f"{self.b} {self.mean_b:.3f} vs {self.a} {self.mean_a:.3f} on {self.n} items"
            f"{'' if self.groups is None else f' in {self.groups} groups'}: difference "
            f"{self.difference:+.3f}, {level} interval [{self.low:+.3f}, {self.high:+.3f}]"
        )
        if self.fixed is not None:
            text += f"; fixed {self.fixed}, broken {self.broken}, exact McNemar p = {self.p_value:.3g}"
        return f"{text} -> {self.verdict}"


def compare(
    scores_a: Sequence[float] | np.ndarray,
    scores_b: Sequence[float] | np.ndarray,
    *,
    a: str = "A",
    b: str = "B",
    confidence: float = 0.95,
    resamples: int = 10_000,
    seed: int = 0,
    groups: Sequence[Any] | np.ndarray | None = None,
) -> Comparison:
    """Compare side B with side A on the same items, with a paired bootstrap interval.

    Args:
        scores_a: one score per item for side A (1/0 for correct/wrong, or a per-item metric).
        scores_b: the same items' scores for side B, in the same order.
        a, b: names for the two sides (e.g. "pretrained", "fine-tuned").
        confidence: the interval's level, in (0, 1).
        resamples: bootstrap resamples of the items.
        seed: the resampling seed (the same seed gives the same interval).
        groups: one group id per item (e.g. the paraphrase group a test sentence comes from). Items of
            one group are not independent draws: the bootstrap then resamples whole groups, and the
            interval is as wide as the number of groups allows (wider than resampling items). None
            resamples items.

    Returns:
        A :class:`Comparison`; ``print`` it for one line ending in the verdict.

    Raises:
        TypeError / ValueError: not two equally long, non-empty lists of finite numbers; a level
            outside (0, 1); a non-positive number of resamples; ``groups`` not one id per item.
    """
    first, second = _scores(scores_a, "scores_a"), _scores(scores_b, "scores_b")
    if first.shape != second.shape:
        raise ValueError(
            f"scores_a has {first.size} items and scores_b {second.size}: a paired comparison needs the same items "
            "on both sides, in the same order."
        )
    check_fraction("confidence", confidence, hint=" A usual level is 0.95.", zero=False)
    check_positive("resamples", resamples)
    check_non_negative_int("seed", seed)
    differences = second - first
    rng = np.random.default_rng(seed)
    n_groups = None
    if groups is None:
        picks = rng.integers(0, differences.size, size=(resamples, differences.size))
        means = differences[picks].mean(axis=1)
    else:
        ids = _group_ids(groups, differences.size)
        n_groups = int(ids.max()) + 1
        sums, sizes = np.bincount(ids, weights=differences), np.bincount(ids)
        picks = rng.integers(0, n_groups, size=(resamples, n_groups))
        means = sums[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    binary = bool(np.isin(first, (0, 1)).all() and np.isin(second, (0, 1)).all())
    fixed = int(((first == 0) & (second == 1)).sum()) if binary else None
    broken = int(((first == 1) & (second == 0)).sum()) if binary else None
    return Comparison(
        a=a,
        b=b,
        n=int(first.size),
        mean_a=float(first.mean()),
        mean_b=float(second.mean()),
        difference=float(differences.mean()),
        low=float(low),
        high=float(high),
        confidence=float(confidence),
        fixed=fixed,
        broken=broken,
        p_value=exact_mcnemar(fixed, broken) if binary else None,
        groups=n_groups,
    )
