"""Exercises of notebook 04: data formats (Hub schemas, the four cases, labelled data of one case from another)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from stutor.exercises.answers import as_int, case_report_or_hint, column_rows, dataset_or_hint
from stutor.exercises.registry import exercise, hint

_POS, _NEG = 3, 30


def _qqp_row(n_pos: int, n_neg: int) -> dict[str, Any]:
    """One raw row of the QQP triplets schema with ``n_pos`` positives and ``n_neg`` negatives."""
    return {
        "set": {
            "query": "How do I get better at chess?",
            "pos": [f"How can I improve at chess? ({i + 1})" for i in range(n_pos)],
            "neg": [f"Who invented chess? ({j + 1})" for j in range(n_neg)],
        }
    }


@exercise(
    "04.1",
    f"How many triplets does all_combinations=True make from a QQP query with {_POS} pos and {_NEG} neg?",
)
def all_combinations(answer: Any) -> str:
    from stutor import schemas

    count = as_int(answer, "a number of triplets")
    expected = schemas.convert([_qqp_row(_POS, _NEG)], "qqp_triplets", all_combinations=True).num_rows
    if count == expected:
        return "one triplet per (positive, negative) combination: the data grows fast, and so do its repetitions."
    if count == schemas.convert([_qqp_row(_POS, _NEG)], "qqp_triplets").num_rows:
        hint("that is what the converter makes without all_combinations.")
    if count in (_POS + _NEG, _POS, _NEG):
        hint("every positive is combined with every negative.")
    hint("convert a row with that many pos and neg (schemas.convert(..., all_combinations=True)) and count.")


@exercise("04.2", "Turn the labelled pairs of case 1 into case 2 data (a Dataset in the course's case-2 layout).")
def positive_pairs(answer: Any, source: Any) -> str:
    from stutor.cases import Case

    dataset = dataset_or_hint(answer, "the case-2 data set")
    original = dataset_or_hint(source, "source=, the labelled pairs")
    report = case_report_or_hint(dataset)
    if report.case is not Case.POSITIVE_PAIR:
        hint(f"detect_case sees {report.case}; case 2 is two texts per row and no label.")
    if tuple(dataset.column_names) != Case.POSITIVE_PAIR.columns:
        hint(
            f"name the columns as in the course's case-2 layout (cases.Case.POSITIVE_PAIR.columns), "
            f"not {dataset.column_names}."
        )
    labelled = case_report_or_hint(original)
    pairs = column_rows(original, labelled.text_columns)
    labels = original[labelled.label_column]
    keep = [pair for pair, label in zip(pairs, labels, strict=True) if label == 1]
    drop = [pair for pair, label in zip(pairs, labels, strict=True) if label != 1]
    answered = column_rows(dataset, Case.POSITIVE_PAIR.columns)
    if set(answered) & set(drop):
        hint("some of your pairs had label 0: two different questions are not a positive pair.")
    if sorted(answered) != sorted(keep):
        hint("keep every pair with label 1, each once, with its texts in their original order.")
    return f"{len(keep)} positive pairs; the label-0 pairs (hard negatives) are gone, and so is what they taught."


@exercise("04.3", "Build case-3 data from the training groups with the group's topic as the class (integer labels).")
def topic_classes(answer: Any) -> str:
    from stutor import data
    from stutor.cases import Case

    dataset = dataset_or_hint(answer, "the case-3 data set")
    report = case_report_or_hint(dataset)
    if report.case is not Case.LABELLED_SENTENCE:
        hint(f"detect_case sees {report.case}; case 3 is one sentence and one integer class per row.")
    training = data.topic_sentences("train")
    topic_of = dict(zip(training["sentence"], training["topic"], strict=True))
    sentences = list(dataset[report.text_columns[0]])
    if sorted(sentences) != sorted(topic_of):
        hint("use every paraphrase of every training group once (data.load_paraphrase_groups('train')).")
    labels = list(dataset[report.label_column])
    n_groups, n_topics = data.load_paraphrase_groups("train").num_rows, len(set(topic_of.values()))
    if report.num_labels == n_groups and n_groups != n_topics:
        hint("one class per group is what bundled_case(3) does; here a class is a topic, shared by many groups.")
    classes: dict[Any, set[str]] = defaultdict(set)
    for text, label in zip(sentences, labels, strict=True):
        classes[label].add(topic_of[text])
    if any(len(topics) > 1 for topics in classes.values()) or len(classes) != n_topics:
        hint("give every topic its own integer, and the same integer to every sentence of that topic.")
    return (
        f"{len(sentences)} sentences in {n_topics} classes: a model trained on it pulls same-topic questions together."
    )
