from __future__ import annotations

import pytest

from stutor.texts import check_texts


def test_valid_texts_come_back_as_a_list():
    assert check_texts(("a", "b")) == ["a", "b"]
    assert check_texts(["", "x"], allow_empty_strings=True) == ["", "x"]


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        (None, TypeError, "not NoneType"),
        ("text", TypeError, "wrap it"),
        ([], ValueError, "empty"),
        ([b"bytes"], TypeError, r"texts\[0\] is bytes"),
        (["ok", ""], ValueError, r"texts\[1\] is an empty string"),
    ],
)
def test_bad_texts(value, error, message):
    with pytest.raises(error, match=message):
        check_texts(value)
