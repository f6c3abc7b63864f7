"""The four shapes of training data, how to recognise them, and converters from real Hub schemas.

A Sentence Transformer learns from examples that say which texts belong together. Almost every
data set has one of four shapes (the *cases*):

1. a sentence pair with a label: an integer class (duplicate or not) or a float similarity score;
2. a positive pair: two texts that mean the same, no label;
3. a single sentence with a class label: sentences of the same class should end up close;
4. a triplet: an anchor, a positive and a negative, no label.

``SentenceTransformerTrainer`` reads the *input columns first, in order* (their names do not
matter, their position does), and the label from a column named ``label`` or ``score``.
:func:`detect_case` checks a data set in that layout and says which case it is and why;
:func:`convert` turns the raw schemas of real Hub data sets into it; :func:`to_input_examples`
builds the legacy ``InputExample`` list of ``model.fit``; :func:`bundled_case` derives every
case from the bundled paraphrase groups, so all four work offline.

Taught in: notebook 04 (and notebook 05, which picks a loss for each case).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from datasets import Dataset, DatasetDict

from stutor import data

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


def as_dataset(rows: Dataset | Sequence[Mapping[str, Any]], what: str = "data") -> Dataset:
    """Accept a ``Dataset`` or a non-empty list of dicts; refuse a ``DatasetDict`` and anything else.

    Args:
        rows: the data.
        what: how to call it in error messages.

    Returns:
        A ``datasets.Dataset``.
    """
    if isinstance(rows, DatasetDict):
        raise TypeError(
            f"The {what} is a DatasetDict with splits {list(rows)}; pick one split, e.g. dataset[{next(iter(rows))!r}]."
        )
    if isinstance(rows, Dataset):
        return rows
    if isinstance(rows, Sequence) and not isinstance(rows, str) and all(isinstance(r, Mapping) for r in rows):
        if not rows:
            raise ValueError(f"The {what} is empty: it has no rows. Pass at least one example.")
        return Dataset.from_list([dict(r) for r in rows])
    raise TypeError(f"The {what} must be a datasets.Dataset or a list of dicts, not {type(rows).__name__}.")


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def _check_text_column(dataset: Dataset, column: str) -> None:
    for index, value in enumerate(dataset[column]):
        if not isinstance(value, str):
            raise TypeError(
                f"Column {column!r} row {index} holds {_describe(value)}, not text. The trainer reads every column "
                f"except {' / '.join(LABEL_COLUMNS)} as input text: name the label column 'label' (classes) or "
                f"'score' (floats), remove other columns with dataset.remove_columns([{column!r}]), or convert a raw "
                "Hub schema with stutor.cases.convert()."
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
                f"Column {column!r} row {index} holds {_describe(value)}; labels must be integers (classes) "
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
        >>> print(detect_case(data.bundled_triplets("dev")))  # doctest: +ELLIPSIS
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
        _check_text_column(dataset, column)
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


# --- converters from real Hub schemas ------------------------------------------------------


@dataclass(frozen=True)
class Schema:
    """A raw data set schema found on the Hugging Face Hub, and how to convert it.

    Attributes:
        name: the short name to pass to :func:`convert`.
        source: where data in this shape comes from.
        case: the case it converts to by default.
        shape: what one raw row looks like.
        columns: the top-level columns it needs.
        optional: columns it may also have, dropped by the converter.
        example: one row in that exact shape (written for this course).
        converter: the function that does the conversion.
        other_columns_are_labels: any other column is a candidate label column (text classification).
    """

    name: str
    source: str
    case: Case
    shape: str
    columns: tuple[str, ...]
    optional: tuple[str, ...]
    example: dict[str, Any]
    converter: Callable[..., Dataset]
    other_columns_are_labels: bool = False

    def convert(self, rows: Dataset | Sequence[Mapping[str, Any]], **options: Any) -> Dataset:
        """Check the columns, then convert the rows into the trainer's layout."""
        dataset = as_dataset(rows, f"{self.name} data")
        if dataset.num_rows == 0:
            raise ValueError(f"The {self.name} data is empty (0 rows); it needs at least one row like {self.shape}.")
        missing = [c for c in self.columns if c not in dataset.column_names]
        extra = [c for c in dataset.column_names if c not in self.columns + self.optional]
        extra = [] if self.other_columns_are_labels else extra
        if missing or extra:
            problem = f"misses {missing}" if missing else f"has unexpected column(s) {extra}"
            raise ValueError(
                f"The data has columns {dataset.column_names} and {problem}; the {self.name} schema ({self.source}) "
                f"is {self.shape}. Remove other columns with dataset.remove_columns([...])."
            )
        result = self.converter(
            dataset.remove_columns([c for c in self.optional if c in dataset.column_names]), **options
        )
        detect_case(result)  # every converted data set is checked once more
        return result


def _qqp(dataset: Dataset, *, all_combinations: bool = False) -> Dataset:
    return data.qqp_to_triplets(dataset, all_combinations=all_combinations)


def _compression(dataset: Dataset) -> Dataset:
    anchors, positives = [], []
    for index, item in enumerate(dataset["set"]):
        if not isinstance(item, list) or len(item) != 2 or not all(isinstance(t, str) and t.strip() for t in item):
            raise ValueError(
                f"Row {index} has set={item!r:.80}; sentence-compression rows hold exactly two non-empty strings: "
                "[sentence, compressed sentence]."
            )
        anchors.append(item[0])
        positives.append(item[1])
    return Dataset.from_dict({"anchor": anchors, "positive": positives})


def _quora(dataset: Dataset, *, positives_only: bool = False) -> Dataset:
    labels = dataset["is_duplicate"]
    for index, value in enumerate(labels):
        if isinstance(value, bool) or value not in (0, 1) or isinstance(value, float):
            raise ValueError(f"Row {index} has is_duplicate={value!r}; Quora pairs use the integers 0 and 1.")
    pairs = Dataset.from_dict(
        {"sentence1": dataset["question1"], "sentence2": dataset["question2"], "label": [int(v) for v in labels]}
    )
    if not positives_only:
        return pairs
    duplicates = pairs.filter(lambda row: row["label"] == 1)
    if duplicates.num_rows == 0:
        raise ValueError("positives_only=True but no row has is_duplicate=1: there are no positive pairs to keep.")
    return duplicates.select_columns(["sentence1", "sentence2"]).rename_columns(
        {"sentence1": "anchor", "sentence2": "positive"}
    )


def _text_class(dataset: Dataset, *, label_column: str | None = None) -> Dataset:
    label_columns = [c for c in dataset.column_names if c != "text"]
    if not label_columns:
        raise ValueError("The data has only a 'text' column; text classification needs an integer label column too.")
    if label_column is None:
        if len(label_columns) != 1:
            raise ValueError(
                f"The data has several label columns {label_columns}; choose one, e.g. "
                f"convert(rows, 'text_classification', label_column={label_columns[0]!r})."
            )
        label_column = label_columns[0]
    if label_column not in label_columns:
        raise ValueError(f"label_column={label_column!r} is not a column; choose one of {label_columns}.")
    _check_text_column(dataset, "text")
    values = dataset[label_column]
    bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, int)), None)
    if bad is not None or any(v < 0 for v in values):
        shown = bad if bad is not None else min(values)
        raise TypeError(
            f"Column {label_column!r} holds {_describe(shown)}; a class label is an integer 0, 1, 2, ... "
            "(map names to ids with dataset.class_encode_column)."
        )
    return Dataset.from_dict({"sentence": dataset["text"], "label": values})


def _nli_triplet(dataset: Dataset) -> Dataset:
    return dataset.select_columns(["anchor", "positive", "negative"])


SCHEMAS: dict[str, Schema] = {
    schema.name: schema
    for schema in (
        Schema(
            "qqp_triplets",
            "embedding-data/QQP_triplets (the reference tutorial's data)",
            Case.TRIPLET,
            '{"set": {"query": str, "pos": [str, ...], "neg": [str, ...]}}',
            ("set",),
            (),
            {
                "set": {
                    "query": "How do I get better at chess?",
                    "pos": ["What is the best way to improve my chess game?"],
                    "neg": ["Who invented chess?", "How do I get better at poker?"],
                }
            },
            _qqp,
        ),
        Schema(
            "sentence_compression",
            "embedding-data/sentence-compression",
            Case.POSITIVE_PAIR,
            '{"set": [sentence, compressed sentence]}',
            ("set",),
            (),
            {
                "set": [
                    "The city council voted on Tuesday night to extend the opening hours of the public library.",
                    "Council extends library hours.",
                ]
            },
            _compression,
        ),
        Schema(
            "stsb",
            "sentence-transformers/stsb",
            Case.LABELLED_PAIR,
            '{"sentence1": str, "sentence2": str, "score": float in 0-1}',
            ("sentence1", "sentence2", "score"),
            (),
            {"sentence1": "A dog runs on the beach.", "sentence2": "A dog is running along the sand.", "score": 0.84},
            lambda dataset: data.parse_stsb(dataset),
        ),
        Schema(
            "quora_duplicates",
            "Quora Question Pairs (quora_duplicate_questions.tsv, as on Kaggle)",
            Case.LABELLED_PAIR,
            '{"question1": str, "question2": str, "is_duplicate": 0 or 1} (id, qid1, qid2 dropped)',
            ("question1", "question2", "is_duplicate"),
            ("id", "qid1", "qid2"),
            {
                "id": 0,
                "qid1": 1,
                "qid2": 2,
                "question1": "How can I learn to cook?",
                "question2": "What is the best way to start cooking at home?",
                "is_duplicate": 1,
            },
            _quora,
        ),
        Schema(
            "text_classification",
            "single sentences with a class, like TREC (CogComp/trec: text, coarse_label, fine_label)",
            Case.LABELLED_SENTENCE,
            '{"text": str, <label column>: int} (one or more integer label columns; pick one)',
            ("text",),
            (),
            {"text": "Who wrote the novel Frankenstein?", "coarse_label": 3, "fine_label": 29},
            _text_class,
            other_columns_are_labels=True,
        ),
        Schema(
            "all_nli_triplet",
            "sentence-transformers/all-nli, subset 'triplet'",
            Case.TRIPLET,
            '{"anchor": str, "positive": str, "negative": str}',
            ("anchor", "positive", "negative"),
            (),
            {
                "anchor": "A woman is reading a book in a park.",
                "positive": "Someone is reading outdoors.",
                "negative": "A woman is swimming in the sea.",
            },
            _nli_triplet,
        ),
    )
}


def detect_schema(rows: Dataset | Sequence[Mapping[str, Any]]) -> Schema:
    """Recognise which known raw schema some rows are in, from their columns and first value.

    Args:
        rows: a ``Dataset`` or a list of dicts.

    Returns:
        The matching :class:`Schema` from :data:`SCHEMAS`.

    Raises:
        ValueError: no rows, or columns that match no known schema (the message lists them all).
    """
    dataset = as_dataset(rows)
    if dataset.num_rows == 0:
        raise ValueError(f"The data is empty (columns {dataset.column_names}, 0 rows); nothing to recognise.")
    columns = set(dataset.column_names)
    if columns == {"set"}:
        first = dataset[0]["set"]
        if isinstance(first, Mapping):
            return SCHEMAS["qqp_triplets"]
        if isinstance(first, list):
            return SCHEMAS["sentence_compression"]
    for name in ("stsb", "quora_duplicates", "all_nli_triplet"):
        schema = SCHEMAS[name]
        if set(schema.columns) <= columns <= set(schema.columns + schema.optional):
            return schema
    if "text" in columns and len(columns) > 1:
        return SCHEMAS["text_classification"]
    known = "; ".join(f"{s.name}: {s.shape}" for s in SCHEMAS.values())
    raise ValueError(
        f"Columns {dataset.column_names} match no known schema. Known schemas: {known}. Data already in the "
        "trainer's layout needs no conversion: check it with detect_case()."
    )


def convert(rows: Dataset | Sequence[Mapping[str, Any]], schema: str | None = None, **options: Any) -> Dataset:
    """Convert raw rows of a known Hub schema into the trainer's column layout.

    Args:
        rows: a ``Dataset`` or a list of dicts in one of the :data:`SCHEMAS`.
        schema: the schema name; None detects it with :func:`detect_schema`.
        **options: converter options: ``all_combinations`` (qqp_triplets: every pos x neg
            instead of one triplet per query), ``positives_only`` (quora_duplicates: keep the
            duplicates as case-2 pairs), ``label_column`` (text_classification).

    Returns:
        A ``datasets.Dataset``: text columns first, then ``label``/``score`` if any.

    Raises:
        ValueError: an unknown schema name, or rows that do not fit the schema (the message shows
            what the data looks like and what was expected).
    """
    if schema is None:
        chosen = detect_schema(rows)
    elif schema in SCHEMAS:
        chosen = SCHEMAS[schema]
    else:
        raise ValueError(f"Unknown schema {schema!r}. Choose one of {sorted(SCHEMAS)} or None to detect it.")
    return chosen.convert(rows, **options)


# --- the four cases from the bundled paraphrase groups ------------------------------------


def _group_label() -> dict[str, int]:
    return {gid: index for index, gid in enumerate(sorted(data.load_paraphrase_groups()["id"]))}


def bundled_case(case: Case | int | str, split: str | None = "train", *, label_type: str = "class") -> Dataset:
    """Derive a data set of one case from the bundled data, in the trainer's layout.

    - case 1 ``label_type="class"``: per group, (question, paraphrase, 1) and (question, hard negative, 0);
      ``label_type="score"``: the bundled scored pairs with scores scaled to 0-1 (they have no split);
    - case 2: per group, (question, paraphrase);
    - case 3: every paraphrase with its group number as the class;
    - case 4: :func:`stutor.data.bundled_triplets` (question, paraphrase, hard negative).

    Args:
        case: the case (see :meth:`Case.parse`).
        split: ``"train"``, ``"dev"``, ``"test"`` or None for every group.
        label_type: ``"class"`` or ``"score"`` (case 1 only).

    Returns:
        A ``datasets.Dataset``.
    """
    case = Case.parse(case)
    if label_type not in ("class", "score"):
        raise ValueError(f"label_type must be 'class' or 'score', not {label_type!r}.")
    if label_type == "score" and case is not Case.LABELLED_PAIR:
        raise ValueError(f"label_type='score' exists only for case 1 (labelled pairs), not {case}.")
    if case is Case.TRIPLET:
        return data.bundled_triplets(split)
    if case is Case.LABELLED_PAIR and label_type == "score":
        pairs = data.load_sts_pairs()
        return Dataset.from_dict(
            {**pairs.select_columns(["sentence1", "sentence2"]).to_dict(), "score": [s / 5.0 for s in pairs["score"]]}
        )
    groups = data.load_paraphrase_groups(split)
    if case is Case.POSITIVE_PAIR:
        return Dataset.from_dict(
            {"anchor": [g["paraphrases"][0] for g in groups], "positive": [g["paraphrases"][1] for g in groups]}
        )
    if case is Case.LABELLED_PAIR:
        rows = []
        for g in groups:
            rows.append({"sentence1": g["paraphrases"][0], "sentence2": g["paraphrases"][1], "label": 1})
            rows.append({"sentence1": g["paraphrases"][0], "sentence2": g["hard_negatives"][0], "label": 0})
        return Dataset.from_list(rows)
    labels = _group_label()
    return Dataset.from_list(
        [{"sentence": text, "label": labels[g["id"]]} for g in groups for text in g["paraphrases"]]
    )
