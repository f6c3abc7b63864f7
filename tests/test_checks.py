"""stutor.checks: the argument checks every public function and both commands share."""

from __future__ import annotations

from numbers import Real

import pytest
from datasets import Dataset, DatasetDict

from stutor.checks import (
    as_dataset,
    check_choice,
    check_fraction,
    check_non_negative_int,
    check_output_dir,
    check_positive,
    check_texts,
)


def test_positive_values_pass():
    check_positive("batch_size", 8)
    check_positive("learning_rate", 2e-5, Real)
    check_positive("limit", None, optional=True)


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        (0, int, "batch_size must be a positive integer, not 0"),
        (True, int, "positive integer, not True"),
        (2.0, int, "positive integer, not 2.0"),
        (-1e-5, Real, "batch_size must be a positive number"),
        (float("nan"), Real, "positive number, not nan"),
        (float("inf"), Real, "positive number, not inf"),
        ("8", int, "positive integer, not '8'"),
        (None, int, "positive integer, not None"),
    ],
)
def test_bad_values_name_the_argument(value, kind, message):
    with pytest.raises(ValueError, match=message):
        check_positive("batch_size", value, kind)


def test_optional_positive_says_none_is_allowed():
    with pytest.raises(ValueError, match="per_group must be a positive integer or None, not 0"):
        check_positive("per_group", 0, optional=True)


@pytest.mark.parametrize("value", [-1, 1.5, True, "3", None])
def test_non_negative_int(value):
    check_non_negative_int("seed", 0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        check_non_negative_int("seed", value)


@pytest.mark.parametrize("value", [1, 1.0, -0.1, float("nan"), True, "0.1"])
def test_fraction_is_zero_up_to_one(value):
    check_fraction("warmup_ratio", 0)
    check_fraction("warmup_ratio", 0.999)
    with pytest.raises(ValueError, match=r"warmup_ratio must be a number from 0 up to but not including 1.*0\.1"):
        check_fraction("warmup_ratio", value, hint=" Usual: 0.1.")


@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), True, "0.5", None])
def test_open_fraction_excludes_zero_and_one(value):
    check_fraction("confidence", 1e-9, zero=False)
    check_fraction("confidence", 0.95, zero=False)
    with pytest.raises(ValueError, match=r"confidence must be a fraction between 0 and 1, both excluded.*0\.95"):
        check_fraction("confidence", value, hint=" Usual: 0.95.", zero=False)


def test_choice_lists_the_options():
    check_choice("split", None, ("train", "dev"), allow_none=True)
    with pytest.raises(ValueError, match=r"Unknown split 'validation'. Choose one of \('train', 'dev'\)"):
        check_choice("split", "validation", ("train", "dev"))


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


def test_as_dataset_takes_rows_and_refuses_splits_and_others():
    rows = as_dataset([{"a": "x"}, {"a": "y"}])
    assert isinstance(rows, Dataset) and rows["a"] == ["x", "y"]
    assert as_dataset(rows) is rows
    with pytest.raises(TypeError, match=r"DatasetDict with splits \['train'\]; pick one split"):
        as_dataset(DatasetDict({"train": rows}))
    with pytest.raises(ValueError, match="is empty"):
        as_dataset([])
    with pytest.raises(TypeError, match="not str"):
        as_dataset("rows")


def test_output_dir(tmp_path):
    assert check_output_dir(None) is None
    assert check_output_dir(tmp_path / "new") == tmp_path / "new"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="is a file; pass a folder"):
        check_output_dir(a_file)
    with pytest.raises(ValueError, match="which is a file"):
        check_output_dir(a_file / "model", name="--output-dir")
    with pytest.raises(TypeError, match="output_dir must be a folder path"):
        check_output_dir(3)
    with pytest.raises(TypeError, match="or None"):
        check_output_dir("  ")
