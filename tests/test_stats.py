"""stutor.stats: paired bootstrap intervals and the exact McNemar test, and verdicts that follow them."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from stutor import stats


def test_exact_mcnemar_matches_the_binomial_test():
    for fixed, broken in [(10, 2), (3, 3), (0, 7), (25, 14)]:
        expected = binomtest(min(fixed, broken), fixed + broken, 0.5).pvalue
        assert stats.exact_mcnemar(fixed, broken) == pytest.approx(expected)
    assert stats.exact_mcnemar(0, 0) == 1.0


def test_a_clear_gain_is_measurable_and_counts_fixed_and_broken():
    before = [0] * 40 + [1] * 60
    after = [1] * 30 + [0] * 10 + [1] * 58 + [0] * 2
    result = stats.compare(before, after, a="pretrained", b="fine-tuned")
    assert (result.n, result.fixed, result.broken) == (100, 30, 2)
    assert result.difference == pytest.approx(0.28) and result.low > 0 and result.measurable
    assert result.verdict == "fine-tuned is better than pretrained"
    assert "fixed 30, broken 2" in str(result) and "95% interval" in str(result)


def test_a_one_item_change_is_no_measurable_difference():
    before = [1] * 100 + [0] * 25
    after = [1] * 101 + [0] * 24
    result = stats.compare(before, after)
    assert result.low <= 0 <= result.high and not result.measurable
    assert result.verdict == "no measurable difference between B and A"


def test_the_interval_is_seeded_and_covers_the_difference():
    rng = np.random.default_rng(3)
    a, b = rng.random(200), rng.random(200) + 0.05
    first, again = stats.compare(a, b, seed=1), stats.compare(a, b, seed=1)
    assert (first.low, first.high) == (again.low, again.high)
    assert first.low < first.difference < first.high and first.fixed is None and first.p_value is None


def test_groups_resample_whole_groups_and_widen_the_interval():
    rng = np.random.default_rng(5)
    effect = np.repeat(rng.normal(0.05, 0.3, 20), 5)  # 20 groups of 5 items that move together
    a = np.zeros(100)
    b = effect + rng.normal(0, 0.02, 100)
    items = stats.compare(a, b)
    grouped = stats.compare(a, b, groups=np.repeat([f"g{i}" for i in range(20)], 5))
    assert grouped.groups == 20 and items.groups is None
    assert grouped.difference == items.difference
    assert grouped.high - grouped.low > 1.5 * (items.high - items.low)
    assert "in 20 groups" in str(grouped) and "groups" not in str(items)
    same = stats.compare(a, b, groups=list(range(100)))  # one item per group: the item bootstrap
    assert (same.low, same.high) == (items.low, items.high)
    again = stats.compare(a, b, groups=np.repeat(np.arange(20), 5), seed=3)
    assert (again.low, again.high) == (stats.compare(a, b, groups=np.repeat(np.arange(20), 5), seed=3).low, again.high)


@pytest.mark.parametrize(
    ("groups", "error", "words"),
    [
        ([0, 1], ValueError, "one group id per item"),
        ("ab", TypeError, "one group id"),
        ([[0], [1], [2]], TypeError, "hashable"),
    ],
)
def test_bad_groups(groups, error, words):
    with pytest.raises(error, match=words):
        stats.compare([1, 0, 1], [1, 1, 1], groups=groups)


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "error", "words"),
    [
        ([1, 0], [1], {}, ValueError, "same items"),
        ([], [], {}, ValueError, "non-empty"),
        ("1010", [1, 0, 1, 0], {}, TypeError, "list or array"),
        ([1, float("nan")], [1, 0], {}, ValueError, "NaN or infinite"),
        ([[1, 0]], [[1, 0]], {}, ValueError, "1-d"),
        ([1, 0], [0, 1], {"confidence": 95}, ValueError, "between 0 and 1"),
        ([1, 0], [0, 1], {"resamples": 0}, ValueError, "resamples must be a positive integer"),
    ],
)
def test_bad_input(a, b, kwargs, error, words):
    with pytest.raises(error, match=words):
        stats.compare(a, b, **kwargs)
