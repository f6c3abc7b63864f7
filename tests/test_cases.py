"""The four data cases and their detection (stutor.cases)."""

from __future__ import annotations

import pytest
from datasets import Dataset
from test_schemas import QQP_ROWS, STSB_ROWS

from stutor import cases, data, schemas
from stutor.cases import Case, LabelType


@pytest.mark.parametrize("value", [Case.TRIPLET, 4, "4", "case 4", "triplet", "TRIPLET", "Case 4"])
def test_case_parse_accepts_numbers_and_names(value):
    assert Case.parse(value) is Case.TRIPLET


@pytest.mark.parametrize("value", [0, 5, "quadruplet", True, None, 4.0])
def test_case_parse_refuses_unknown_cases(value):
    with pytest.raises(ValueError, match="Unknown case"):
        Case.parse(value)


def test_every_case_has_a_title_and_a_layout():
    for case in Case:
        assert case.title and case.columns
        assert str(case).startswith(f"case {case.value}")


# --- detect_case on the trainer's layout --------------------------------------------------------


@pytest.mark.parametrize(
    ("rows", "case", "label_type"),
    [
        ([{"sentence1": "a b", "sentence2": "c d", "label": 1}], Case.LABELLED_PAIR, LabelType.CLASS),
        ([{"sentence1": "a b", "sentence2": "c d", "score": 0.5}], Case.LABELLED_PAIR, LabelType.SCORE),
        ([{"anchor": "a b", "positive": "c d"}], Case.POSITIVE_PAIR, LabelType.NONE),
        ([{"sentence": "a b", "label": 2}, {"sentence": "c", "label": 0}], Case.LABELLED_SENTENCE, LabelType.CLASS),
        ([{"anchor": "a", "positive": "b", "negative": "c"}], Case.TRIPLET, LabelType.NONE),
    ],
)
def test_detect_case(rows, case, label_type):
    report = cases.detect_case(rows)
    assert report.case is case
    assert report.label_type is label_type
    assert report.num_rows == len(rows)
    assert str(report).startswith(f"Case {case.value} ({report.kind}): ")


def test_detect_case_reads_columns_by_position_not_name():
    report = cases.detect_case([{"question": "q?", "answer": "a."}])
    assert report.case is Case.POSITIVE_PAIR
    assert report.text_columns == ("question", "answer")


def test_detect_case_counts_classes():
    report = cases.detect_case(data.bundled_case(3, "dev"))
    assert report.num_labels == len(data.load_paraphrase_groups("dev"))


def test_detect_case_refuses_a_labelled_triplet_and_explains_case_3():
    rows = [{"anchor": "a", "positive": "b", "negative": "c", "label": 1}]
    with pytest.raises(ValueError, match="single sentences with a class label"):
        cases.detect_case(rows)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([], ValueError, "empty"),
        (Dataset.from_dict({"anchor": [], "positive": []}), ValueError, "empty"),
        ([{"anchor": "a", "positive": "b", "idx": 3}], TypeError, "'idx' row 0 holds int"),
        ([{"a": "x", "b": "y", "c": "z", "d": "w"}], ValueError, "1 to 3 text columns"),
        ([{"sentence1": "a", "sentence2": "b", "label": "duplicate"}], TypeError, "class_encode_column"),
        ([{"sentence1": "a", "sentence2": "b", "score": 4}], TypeError, "divide them by 5"),
        ([{"sentence1": "a", "sentence2": "b", "score": 3.8}], ValueError, "must lie in 0-1"),
        ([{"sentence1": "a", "sentence2": "b", "label": -1}], ValueError, "0, 1, 2"),
        ([{"sentence1": "a", "sentence2": "b", "label": 1, "score": 0.5}], ValueError, "keep one label column"),
        ([{"anchor": "a", "positive": "  ", "negative": "c"}], ValueError, "'positive' row 0 is an empty string"),
        ([{"anchor": "a", "positive": None}], ValueError, "column 'positive' is empty in row 0"),
        ([{"sentence": "a", "score": 0.4}], ValueError, "integer class label"),
        ([{"sentence": "a"}], ValueError, "without a label"),
        ([{"label": 1}], ValueError, "no text columns"),
        ([{"set": {"query": "q", "pos": ["p"], "neg": ["n"]}}], TypeError, "convert a raw"),
        ("anchor,positive", TypeError, "datasets.Dataset, a list of dicts or a pandas DataFrame"),
    ],
)
def test_detect_case_bad_input(rows, error, match):
    with pytest.raises(error, match=match):
        cases.detect_case(rows)


def test_detect_case_refuses_a_dataset_dict():
    from datasets import DatasetDict

    splits = DatasetDict({"train": Dataset.from_list([{"anchor": "a", "positive": "b"}])})
    with pytest.raises(TypeError, match=r"pick one split, e.g. dataset\['train'\]"):
        cases.detect_case(splits)


# --- converters from real Hub schemas -----------------------------------------------------------


def test_to_input_examples_keeps_texts_in_order_and_labels():
    examples = cases.to_input_examples(schemas.convert(QQP_ROWS))
    assert [e.texts for e in examples][0] == [
        "How do I get better at chess?",
        "What is the best way to improve at chess?",
        "Who invented chess?",
    ]
    assert examples[0].label == 0
    scored = cases.to_input_examples(STSB_ROWS)
    assert [e.label for e in scored] == pytest.approx([0.84, 0.0])


def test_to_input_examples_validates_first():
    with pytest.raises(ValueError, match="empty string"):
        cases.to_input_examples([{"anchor": "a", "positive": ""}])


# --- every case from the bundled paraphrase groups ------------------------------------------------
