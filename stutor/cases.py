"""The four shapes of training data and how to recognise them.

A Sentence Transformer learns from examples that say which texts belong together. Almost every
data set has one of four shapes (the *cases*):

1. a sentence pair with a label: an integer class (duplicate or not) or a float similarity score;
2. a positive pair: two texts that mean the same, no label;
3. a single sentence with a class label: sentences of the same class should end up close;
4. a triplet: an anchor, a positive and a negative, no label.

``SentenceTransformerTrainer`` reads the *input columns first, in order* (their names do not
matter, their position does), and the label from a column named ``label`` or ``score``.
:func:`detect_case` checks a data set in that layout, value by value, and says which case it
is and why; its :class:`CaseReport` is what later steps (choosing and checking a loss, training)
take, so that a data set is scanned once. :func:`to_input_examples` builds the legacy
``InputExample`` list of ``model.fit``. Converting the raw schemas of Hub data sets into this
layout is :mod:`stutor.schemas`; every case derived from the bundled groups is
:func:`stutor.data.bundled_case`.

Taught in: notebook 04 (and notebook 05, which picks a loss for each case).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from datasets import Dataset

from stutor.checks import as_dataset

LABEL_COLUMNS = ("label", "score")


class Case(Enum):
    """The four data shapes. The value is the case number used in the course."""

    LABELLED_PAIR = 1
    POSITIVE_PAIR = 2
    LABELLED_SENTENCE = 3
    TRIPLET = 4

    @property
    def title(self) -> str:
        """A short human name of the case."""
        return {
            Case.LABELLED_PAIR: "sentence pair + label (integer class or float score)",
            Case.POSITIVE_PAIR: "positive pair, no label",
            Case.LABELLED_SENTENCE: "single sentence + class label",
            Case.TRIPLET: "triplet (anchor, positive, negative), no label",
        }[self]

    @property
    def columns(self) -> tuple[str, ...]:
        """The column layout the converters of this module produce (label column last)."""
        return {
            Case.LABELLED_PAIR: ("sentence1", "sentence2", "label | score"),
            Case.POSITIVE_PAIR: ("anchor", "positive"),
            Case.LABELLED_SENTENCE: ("sentence", "label"),
            Case.TRIPLET: ("anchor", "positive", "negative"),
        }[self]

    def __str__(self) -> str:
        return f"case {self.value}: {self.title}"

    @classmethod
    def parse(cls, value: Case | int | str) -> Case:
        """Turn ``Case.TRIPLET``, ``4``, ``"4"``, ``"case 4"`` or ``"triplet"`` into a :class:`Case`.

        Raises:
            ValueError: an unknown case, with the list of valid ones.
        """
        if isinstance(value, cls):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            for case in cls:
                if case.value == value:
                    return case
        if isinstance(value, str):
            key = value.strip().lower().removeprefix("case").strip().replace(" ", "_").replace("-", "_")
            for case in cls:
                if key in (str(case.value), case.name.lower()):
                    return case
        valid = ", ".join(f"{case.value} / {case.name.lower()!r}" for case in cls)
        raise ValueError(f"Unknown case {value!r}. Use a Case, a number or a name: {valid}.")


class LabelType(Enum):
    """What the label column holds."""

    CLASS = "class"
    SCORE = "score"
    NONE = "none"


@dataclass(frozen=True)
class CaseReport:
    """What :func:`detect_case` found.

    Attributes:
        case: the detected case.
        label_type: ``CLASS`` (integers), ``SCORE`` (floats in 0-1) or ``NONE``.
        text_columns: the input columns, in the order the trainer reads them.
        label_column: ``"label"``, ``"score"`` or None.
        num_rows: number of examples.
        num_labels: number of distinct classes (``CLASS`` only).
        reason: one sentence saying why.
    """

    case: Case
    label_type: LabelType
    text_columns: tuple[str, ...]
    label_column: str | None
    num_rows: int
    num_labels: int | None
    reason: str

    @property
    def kind(self) -> str:
        """The case in a few words, naming the label type for case 1."""
        if self.case is Case.LABELLED_PAIR:
            return "sentence pair + " + ("class label" if self.label_type is LabelType.CLASS else "similarity score")
        return self.case.title

    def __str__(self) -> str:
        return f"Case {self.case.value} ({self.kind}): {self.reason}"


def describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def check_text_column(dataset: Dataset, column: str) -> None:
    for index, value in enumerate(dataset[column]):
        if not isinstance(value, str):
            raise TypeError(
                f"Column {column!r} row {index} holds {describe(value)}, not text. The trainer reads every column "
                f"except {' / '.join(LABEL_COLUMNS)} as input text: name the label column 'label' (classes) or "
                f"'score' (floats), remove other columns with dataset.remove_columns([{column!r}]), or convert a raw "
                "Hub schema with stutor.schemas.convert()."
            )
        if not value.strip():
            raise ValueError(f"Column {column!r} row {index} is an empty string; every input text must be non-empty.")


def _label_type(dataset: Dataset, column: str) -> tuple[LabelType, int | None]:
    values = dataset[column]
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            hint = (
                " Map the names to integer ids, e.g. dataset.class_encode_column('label')."
                if isinstance(value, str)
                else " Convert it to int (classes) or float (scores)."
            )
            raise TypeError(
                f"Column {column!r} row {index} holds {describe(value)}; labels must be integers (classes) "
                f"or floats (similarity scores in 0-1).{hint}"
            )
    if all(isinstance(value, int) for value in values):
        if column == "score":
            raise TypeError(
                f"Column 'score' holds integers (e.g. {values[0]!r}); a score is a float in 0-1. If the values are "
                "classes, rename the column to 'label'; if they are 0-5 ratings, divide them by 5.0."
            )
        negative = [v for v in values if v < 0]
        if negative:
            raise ValueError(f"Column {column!r} holds the class {negative[0]}; class labels must be 0, 1, 2, ...")
        return LabelType.CLASS, len(set(values))
    bad = [(i, v) for i, v in enumerate(values) if not (math.isfinite(v) and 0.0 <= v <= 1.0)]
    if bad:
        index, value = bad[0]
        raise ValueError(
            f"Column {column!r} row {index} has the score {value!r}; float scores must lie in 0-1 "
            "(divide 0-5 ratings by 5, map -1..1 cosine values with (s + 1) / 2)."
        )
    return LabelType.SCORE, None


def detect_case(dataset: Dataset | Sequence[Mapping[str, Any]]) -> CaseReport:
    """Say which of the four cases a data set in the trainer's layout is, and why.

    The layout: input text columns first, in order; optionally a label column named ``label``
    (integer classes) or ``score`` (floats in 0-1). Every value is checked.

    Args:
        dataset: a ``datasets.Dataset`` (or a list of dicts) in the trainer's layout.

    Returns:
        A :class:`CaseReport` (``print`` it for a one-line explanation).

    Raises:
        TypeError: not a data set, a non-text input column or a label of the wrong type.
        ValueError: no rows, an empty text, a score outside 0-1, or a column set that is none of the
            four cases (e.g. a labelled triplet).

    Example:
        >>> print(detect_case(data.group_triplets("dev")))  # doctest: +ELLIPSIS
        Case 4 (triplet ...
    """
    dataset = as_dataset(dataset)
    if dataset.num_rows == 0:
        raise ValueError(f"The data set is empty (columns {dataset.column_names}, 0 rows); it needs examples.")
    labels = [c for c in dataset.column_names if c in LABEL_COLUMNS]
    if len(labels) > 1:
        raise ValueError(
            f"The data has both {labels[0]!r} and {labels[1]!r} columns; keep one label column: 'label' for "
            "classes or 'score' for floats."
        )
    label_column = labels[0] if labels else None
    texts = tuple(c for c in dataset.column_names if c != label_column)
    for column in texts:
        check_text_column(dataset, column)
    label_type, num_labels = _label_type(dataset, label_column) if label_column else (LabelType.NONE, None)
    shown = ", ".join(repr(c) for c in texts)
    seen = f"{len(texts)} text column{'' if len(texts) == 1 else 's'} ({shown})" + (
        f" and a {label_column!r} column of {'integer classes' if label_type is LabelType.CLASS else 'floats in 0-1'}"
        if label_column
        else " and no label column"
    )
    case = _case_of(len(texts), label_type, seen)
    return CaseReport(case, label_type, texts, label_column, dataset.num_rows, num_labels, f"{seen}.")


def _case_of(n_texts: int, label_type: LabelType, seen: str) -> Case:
    if n_texts == 1 and label_type is LabelType.CLASS:
        return Case.LABELLED_SENTENCE
    if n_texts == 2:
        return Case.POSITIVE_PAIR if label_type is LabelType.NONE else Case.LABELLED_PAIR
    if n_texts == 3 and label_type is LabelType.NONE:
        return Case.TRIPLET
    if n_texts == 3:
        hint = (
            "The reference tutorial's loss section calls labelled triplets case 3, but the BatchHard/BatchAll "
            "losses take single sentences with a class label and form the triplets themselves. Drop the label "
            "column (case 4), or split the sentences into (sentence, label) rows (case 3)."
        )
    elif n_texts == 1 and label_type is LabelType.SCORE:
        hint = "A single sentence needs an integer class label (case 3), not a float score."
    elif n_texts == 1:
        hint = "A single sentence without a label teaches nothing here: add a 'label' column (case 3) or pair it."
    elif n_texts == 0:
        hint = "There are no text columns at all."
    else:
        hint = "The four cases have 1 to 3 text columns: remove the extra columns with dataset.select_columns([...])."
    raise ValueError(f"The data has {seen}; that is none of the four cases. {hint}")


def to_input_examples(dataset: Dataset | Sequence[Mapping[str, Any]]) -> list:
    """Build the legacy ``InputExample`` list that ``model.fit`` and a ``DataLoader`` take.

    Args:
        dataset: a data set in the trainer's layout (checked with :func:`detect_case`).

    Returns:
        One ``InputExample(texts=[...], label=...)`` per row; the label is 0 when there is none,
        as in the old API.
    """
    from sentence_transformers import InputExample

    dataset = as_dataset(dataset)
    report = detect_case(dataset)
    return [
        InputExample(
            texts=[row[c] for c in report.text_columns],
            label=row[report.label_column] if report.label_column else 0,
        )
        for row in dataset
    ]
