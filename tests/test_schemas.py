"""Converters from real Hub schemas into the trainer's layout (stutor.schemas)."""

from __future__ import annotations

import pytest
from datasets import Dataset

from stutor import cases, schemas
from stutor.cases import Case, LabelType

# A few rows in the exact shape of each Hub schema (texts written for these tests).
QQP_ROWS = [
    {
        "set": {
            "query": "How do I get better at chess?",
            "pos": ["What is the best way to improve at chess?", "How can I become a stronger chess player?"],
            "neg": ["Who invented chess?", "How do I get better at poker?", "Is chess a sport?"],
        }
    },
    {
        "set": {
            "query": "Why is the sky blue?",
            "pos": ["What makes the sky look blue?"],
            "neg": ["Why are sunsets red?"],
        }
    },
]
STSB_ROWS = [
    {"sentence1": "A dog runs on the beach.", "sentence2": "A dog is running along the sand.", "score": 0.84},
    {"sentence1": "A man plays a guitar.", "sentence2": "A chef is cutting onions.", "score": 0.0},
]
QUORA_ROWS = [
    {
        "id": 0,
        "qid1": 1,
        "qid2": 2,
        "question1": "How can I learn to cook?",
        "question2": "What is the best way to start cooking at home?",
        "is_duplicate": 1,
    },
    {
        "id": 1,
        "qid1": 3,
        "qid2": 4,
        "question1": "How tall is Mount Everest?",
        "question2": "Who first climbed Mount Everest?",
        "is_duplicate": 0,
    },
]
COMPRESSION_ROWS = [
    {"set": ["The city council voted on Tuesday to extend library opening hours.", "Council extends library hours."]},
    {"set": ["Heavy snow closed the mountain pass for the third day in a row.", "Snow closes pass again."]},
]
TREC_ROWS = [
    {"text": "Who wrote Frankenstein?", "coarse_label": 3, "fine_label": 29},
    {"text": "What is the capital of Peru?", "coarse_label": 5, "fine_label": 32},
    {"text": "How far is the Moon?", "coarse_label": 4, "fine_label": 40},
]
NLI_ROWS = [
    {"anchor": "A woman reads in a park.", "positive": "Someone is reading outside.", "negative": "A woman swims."},
    {"anchor": "Two kids play football.", "positive": "Children are playing a game.", "negative": "Kids are asleep."},
]


# --- Case -------------------------------------------------------------------------------------


def test_qqp_triplets_one_per_query_and_all_combinations():
    one = schemas.convert(QQP_ROWS, "qqp_triplets")
    assert one.column_names == ["anchor", "positive", "negative"]
    assert one.num_rows == 2
    assert one[0] == {
        "anchor": "How do I get better at chess?",
        "positive": "What is the best way to improve at chess?",
        "negative": "Who invented chess?",
    }
    every = schemas.convert(QQP_ROWS, "qqp_triplets", all_combinations=True)
    assert every.num_rows == 2 * 3 + 1 * 1
    assert cases.detect_case(every).case is Case.TRIPLET


def test_qqp_converter_reuses_stutor_data():
    assert schemas.convert(QQP_ROWS).to_dict() == schemas.qqp_to_triplets(QQP_ROWS).to_dict()


@pytest.mark.parametrize(
    ("row", "match"),
    [
        ({"set": {"query": "q?", "pos": [], "neg": ["n"]}}, "empty or missing 'pos'"),
        ({"set": {"query": "q?", "pos": ["p"], "neg": []}}, "empty or missing 'neg'"),
        ({"set": {"query": "", "pos": ["p"], "neg": ["n"]}}, "empty or non-string"),
        ({"set": {"query": "q?", "pos": ["p"]}}, "expected the QQP_triplets shape"),
    ],
)
def test_qqp_bad_rows(row, match):
    with pytest.raises(ValueError, match=match):
        schemas.convert([row], "qqp_triplets")


def test_stsb_keeps_scores():
    converted = schemas.convert(STSB_ROWS)
    assert converted.column_names == ["sentence1", "sentence2", "score"]
    assert converted["score"] == pytest.approx([0.84, 0.0])
    report = cases.detect_case(converted)
    assert (report.case, report.label_type) == (Case.LABELLED_PAIR, LabelType.SCORE)


@pytest.mark.parametrize(
    ("rows", "error", "match"),
    [
        ([{**STSB_ROWS[0], "score": 4.2}], ValueError, "divide 0-5 scores by 5"),
        ([{**STSB_ROWS[0], "score": "0.5"}], ValueError, "numbers from 0 to 1"),
        ([{**STSB_ROWS[0], "sentence2": ""}], ValueError, "empty string"),
        ([{**STSB_ROWS[0], "genre": "news"}], ValueError, r"unexpected column\(s\) \['genre'\]"),
        ([{"sentence1": "a", "score": 0.5}], ValueError, r"misses \['sentence2'\]"),
    ],
)
def test_stsb_bad_rows(rows, error, match):
    with pytest.raises(error, match=match):
        schemas.convert(rows, "stsb")


def test_quora_pairs_become_labelled_pairs_or_positive_pairs():
    pairs = schemas.convert(QUORA_ROWS)
    assert pairs.column_names == ["sentence1", "sentence2", "label"]
    assert pairs["label"] == [1, 0]
    assert cases.detect_case(pairs).label_type is LabelType.CLASS
    positives = schemas.convert(QUORA_ROWS, "quora_duplicates", positives_only=True)
    assert positives.column_names == ["anchor", "positive"]
    assert positives["anchor"] == ["How can I learn to cook?"]
    assert cases.detect_case(positives).case is Case.POSITIVE_PAIR


def test_quora_without_id_columns():
    rows = [{k: v for k, v in row.items() if k not in ("id", "qid1", "qid2")} for row in QUORA_ROWS]
    assert schemas.convert(rows).num_rows == 2


@pytest.mark.parametrize(
    ("rows", "options", "match"),
    [
        ([{**QUORA_ROWS[0], "is_duplicate": 2}], {}, "integers 0 and 1"),
        ([{**QUORA_ROWS[0], "is_duplicate": "yes"}], {}, "integers 0 and 1"),
        ([{**QUORA_ROWS[0], "is_duplicate": 0.5}], {}, "integers 0 and 1"),
        ([QUORA_ROWS[1]], {"positives_only": True}, "no row has is_duplicate=1"),
    ],
)
def test_quora_bad_rows(rows, options, match):
    with pytest.raises(ValueError, match=match):
        schemas.convert(rows, "quora_duplicates", **options)


def test_sentence_compression_becomes_positive_pairs():
    pairs = schemas.convert(COMPRESSION_ROWS)
    assert pairs.column_names == ["anchor", "positive"]
    assert pairs[1]["positive"] == "Snow closes pass again."
    assert cases.detect_case(pairs).case is Case.POSITIVE_PAIR


@pytest.mark.parametrize("item", [["only one sentence"], ["a", "b", "c"], ["a", ""]])
def test_sentence_compression_bad_rows(item):
    with pytest.raises(ValueError, match="exactly two non-empty strings"):
        schemas.convert([{"set": item}], "sentence_compression")


def test_trec_needs_a_label_column_choice():
    with pytest.raises(ValueError, match=r"several label columns \['coarse_label', 'fine_label'\]"):
        schemas.convert(TREC_ROWS)
    coarse = schemas.convert(TREC_ROWS, label_column="coarse_label")
    assert coarse.column_names == ["sentence", "label"]
    assert coarse["label"] == [3, 5, 4]
    assert cases.detect_case(coarse).case is Case.LABELLED_SENTENCE


def test_text_with_one_label_column():
    rows = [{"text": row["text"], "label": row["coarse_label"]} for row in TREC_ROWS]
    assert schemas.convert(rows)["label"] == [3, 5, 4]


@pytest.mark.parametrize(
    ("rows", "options", "error", "match"),
    [
        ([{"text": "a?", "label": "LOC"}], {}, TypeError, "class_encode_column"),
        ([{"text": "a?", "label": 0.5}], {}, TypeError, "class label is an integer"),
        ([{"text": "a?", "label": -2}], {}, TypeError, "class label is an integer"),
        (TREC_ROWS, {"label_column": "topic"}, ValueError, "not a column"),
        ([{"text": "", "label": 1}], {}, ValueError, "empty string"),
        ([{"text": "a?"}], {}, ValueError, "needs an integer label column"),
    ],
)
def test_text_classification_bad_rows(rows, options, error, match):
    with pytest.raises(error, match=match):
        schemas.convert(rows, "text_classification", **options)


def test_all_nli_triplets_pass_through():
    triplets = schemas.convert(NLI_ROWS)
    assert triplets.to_list() == NLI_ROWS
    with pytest.raises(ValueError, match="'negative' row 0 is an empty string"):
        schemas.convert([{**NLI_ROWS[0], "negative": ""}], "all_nli_triplet")


def test_schema_examples_are_in_their_own_shape():
    for name, schema in schemas.SCHEMAS.items():
        rows = [schema.example]
        options = {"label_column": "coarse_label"} if name == "text_classification" else {}
        converted = schemas.convert(rows, name, **options)
        assert cases.detect_case(converted).case is schema.case
        assert schemas.detect_schema(rows) is schema


def test_convert_bad_input():
    with pytest.raises(ValueError, match="Unknown schema 'msmarco'"):
        schemas.convert(NLI_ROWS, "msmarco")
    with pytest.raises(ValueError, match="match no known schema"):
        schemas.convert([{"premise": "a", "hypothesis": "b"}])
    with pytest.raises(ValueError, match="empty"):
        schemas.convert([], "stsb")
    with pytest.raises(ValueError, match="empty"):
        schemas.convert(Dataset.from_dict({"sentence1": [], "sentence2": [], "score": []}), "stsb")
    with pytest.raises(ValueError, match="empty"):
        schemas.detect_schema(Dataset.from_dict({"text": []}))


# --- legacy InputExample path -------------------------------------------------------------------


# Rows in the layouts of the data sets' own cards (SetFit/sst2 dataset_infos.json: text, label, label_text;
# the quora loading script: questions {id, text} sequences and a bool is_duplicate; nyu-mll/glue stsb:
# sentence1, sentence2, float label 0-5, idx).
SETFIT_ROWS = [
    {"text": "a gripping, beautifully shot film", "label": 1, "label_text": "positive"},
    {"text": "dull and far too long", "label": 0, "label_text": "negative"},
]
QUORA_CANONICAL_ROWS = [
    {"questions": {"id": [1, 2], "text": ["How do I learn to swim?", "What is the best way to learn swimming?"]},
     "is_duplicate": True},
    {"questions": {"id": [3, 4], "text": ["How do I learn to swim?", "Who invented the swimming pool?"]},
     "is_duplicate": False},
]  # fmt: skip
GLUE_STSB_ROWS = [
    {"sentence1": "A man is playing a flute.", "sentence2": "A man plays the flute.", "label": 4.8, "idx": 0},
    {"sentence1": "A dog runs.", "sentence2": "It is raining.", "label": 0.0, "idx": 1},
]


def test_setfit_text_label_label_text_is_case_3():
    converted = schemas.convert(SETFIT_ROWS)
    assert converted.to_list() == [{"sentence": r["text"], "label": r["label"]} for r in SETFIT_ROWS]
    assert cases.detect_case(converted).case is Case.LABELLED_SENTENCE


def test_canonical_quora_becomes_labelled_pairs():
    assert schemas.detect_schema(QUORA_CANONICAL_ROWS).name == "quora"
    pairs = schemas.convert(QUORA_CANONICAL_ROWS)
    assert pairs.to_list()[0] == {
        "sentence1": "How do I learn to swim?",
        "sentence2": "What is the best way to learn swimming?",
        "label": 1,
    }
    assert pairs["label"] == [1, 0]
    assert schemas.convert(QUORA_CANONICAL_ROWS, positives_only=True).column_names == ["anchor", "positive"]
    with pytest.raises(ValueError, match="the quora schema holds"):
        schemas.convert([{"questions": {"id": [1], "text": ["only one"]}, "is_duplicate": True}], "quora")


def test_glue_stsb_scores_are_scaled_and_test_labels_refused():
    pairs = schemas.convert(GLUE_STSB_ROWS)
    assert pairs.column_names == ["sentence1", "sentence2", "score"]
    assert pairs["score"] == pytest.approx([0.96, 0.0])
    assert cases.detect_case(pairs).label_type is LabelType.SCORE
    mrpc = [{**row, "label": int(row["label"] > 2)} for row in GLUE_STSB_ROWS]
    assert schemas.convert(mrpc)["label"] == [1, 0]
    with pytest.raises(ValueError, match="GLUE test split"):
        schemas.convert([{**GLUE_STSB_ROWS[0], "label": -1}])
    with pytest.raises(ValueError, match="not a similarity score from 0 to 5"):
        schemas.convert([{**GLUE_STSB_ROWS[0], "label": 7.5}])


def test_several_label_columns_name_the_command_option():
    with pytest.raises(ValueError, match="--label-column coarse_label"):
        schemas.convert(TREC_ROWS)
