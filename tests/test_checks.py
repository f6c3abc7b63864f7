from __future__ import annotations

from numbers import Real

import pytest

from stutor.checks import check_positive


def test_positive_values_pass():
    check_positive("batch_size", 8)
    check_positive("learning_rate", 2e-5, Real)


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (0, int, "batch_size must be a positive integer, not 0"),
        (True, int, "positive integer, not True"),
        (2.0, int, "positive integer, not 2.0"),
        (-1e-5, Real, "batch_size must be a positive number"),
        (float("nan"), Real, "positive number, not nan"),
        ("8", int, "positive integer, not '8'"),
    ],
)
def test_bad_values_name_the_argument(value, kind, message):
    with pytest.raises(ValueError, match=message):
        check_positive("batch_size", value, kind)
