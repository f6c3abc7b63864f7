"""Converters from the raw schemas of real Hub data sets into the trainer's column layout.

Hub data sets rarely come in the layout ``SentenceTransformerTrainer`` reads (input text columns
first, then ``label``/``score``). Each :class:`Schema` of :data:`SCHEMAS` names one raw shape
(``embedding-data/QQP_triplets``, ``sentence-compression``, ``stsb``, Quora duplicates, text
classification, ``all-nli``), shows one example row and converts it; :func:`detect_schema`
recognises the shape and :func:`convert` does the conversion. The four cases themselves, and
checking data already in the layout, are :mod:`stutor.cases`.

Taught in: notebook 04.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from datasets import Dataset

from stutor import cases
from stutor.cases import Case
from stutor.checks import as_dataset, check_choice


def qqp_to_triplets(rows: Iterable[Mapping[str, Any]], *, all_combinations: bool = False) -> Dataset:
    """Turn rows in the ``embedding-data/QQP_triplets`` schema into triplets.

    The schema is ``{"set": {"query": str, "pos": [str, ...], "neg": [str, ...]}}``.

    Args:
        rows: the rows (a ``Dataset`` or a list of dicts).
        all_combinations: one triplet per (pos, neg) combination instead of one per query
            (its first positive and first negative).

    Returns:
        A ``datasets.Dataset`` with ``anchor``, ``positive``, ``negative``.

    Raises:
        TypeError: not rows (None, a single dict, a string).
        ValueError: a row without ``set``/``query``/``pos``/``neg``, or with an empty list.
    """
    if type(rows).__name__ == "DataFrame":
        rows = as_dataset(rows, "QQP_triplets data")
    if rows is None or isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        raise TypeError(
            f"rows must be a Dataset, a pandas DataFrame or a list of row dicts in the QQP_triplets shape, "
            f"not {type(rows).__name__}."
        )
    anchors: list[str] = []
    positives: list[str] = []
    negatives: list[str] = []
    for index, row in enumerate(rows):
        item = row.get("set") if isinstance(row, Mapping) else None
        if not isinstance(item, Mapping) or not {"query", "pos", "neg"} <= set(item):
            raise ValueError(
                f"Row {index} is {str(row)[:80]!r}; expected the QQP_triplets shape "
                '{"set": {"query": str, "pos": [str, ...], "neg": [str, ...]}}.'
            )
        query, pos, neg = item["query"], item["pos"], item["neg"]
        for key, values in (("pos", pos), ("neg", neg)):
            if not isinstance(values, list) or not values:
                raise ValueError(f"Row {index} has an empty or missing {key!r} list; each query needs at least one.")
        texts = [query, *pos, *neg]
        if any(not isinstance(text, str) or not text.strip() for text in texts):
            raise ValueError(f"Row {index} holds an empty or non-string sentence; every text must be a non-empty str.")
        pairs = [(p, n) for p in pos for n in neg] if all_combinations else [(pos[0], neg[0])]
        for positive, negative in pairs:
            anchors.append(query)
            positives.append(positive)
            negatives.append(negative)
    if not anchors:
        raise ValueError("No rows to convert: the QQP_triplets data is empty.")
    return Dataset.from_dict({"anchor": anchors, "positive": positives, "negative": negatives})


def parse_stsb(rows: Dataset | Sequence[Mapping[str, Any]]) -> Dataset:
    """Check rows in the ``sentence-transformers/stsb`` schema and keep its three columns.

    Args:
        rows: a ``Dataset`` with ``sentence1``, ``sentence2`` and ``score`` in 0-1.

    Returns:
        The same rows with exactly those columns.

    Raises:
        TypeError: not rows (a ``Dataset``, a list of row dicts or a pandas DataFrame).
        ValueError: a missing column, or a score outside 0-1.
    """
    rows = as_dataset(rows, "stsb data")
    missing = {"sentence1", "sentence2", "score"} - set(rows.column_names)
    if missing:
        raise ValueError(
            f"The data has columns {rows.column_names}; the stsb schema needs sentence1, sentence2 and "
            f"score (missing: {sorted(missing)})."
        )
    scores = rows["score"]
    bad = [i for i, s in enumerate(scores) if not isinstance(s, int | float) or not 0.0 <= float(s) <= 1.0]
    if bad:
        raise ValueError(
            f"Row {bad[0]} has score {scores[bad[0]]!r}; stsb scores are numbers from 0 to 1 (divide 0-5 scores by 5)."
        )
    return rows.select_columns(["sentence1", "sentence2", "score"])


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
        """Check the columns and options, then convert the rows into the trainer's layout."""
        takes = [p for p in inspect.signature(self.converter).parameters if p not in ("dataset", "rows")]
        unknown = [key for key in options if key not in takes]
        if unknown:
            offered = f"its options are {', '.join(takes)}" if takes else "it takes no options"
            raise TypeError(f"The {self.name} schema has no option {unknown[0]!r}; {offered}.")
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
        return result


def _qqp(dataset: Dataset, *, all_combinations: bool = False) -> Dataset:
    return qqp_to_triplets(dataset, all_combinations=all_combinations)


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
    others = [c for c in dataset.column_names if c != "text"]
    # Text columns beside the label are the labels' names (SetFit's ``label_text``): dropped, not labels.
    label_columns = [c for c in others if all(isinstance(v, int) and not isinstance(v, bool) for v in dataset[c])]
    names = [c for c in others if all(isinstance(v, str) for v in dataset[c])]
    if label_column is None:
        if len(label_columns) != 1:
            if not label_columns and not others:
                raise ValueError(
                    "The data has only a 'text' column; text classification needs an integer label column too."
                )
            if not label_columns:
                held = ", ".join(f"{c!r} holds {cases.describe(dataset[0][c])}" for c in others)
                raise TypeError(
                    f"The data has a 'text' column but no integer label column ({held}); a class label is an "
                    "integer 0, 1, 2, ... (map class names to ids with dataset.class_encode_column)."
                )
            raise ValueError(
                f"The data has several label columns {label_columns}; choose one, e.g. "
                f"convert(rows, 'text_classification', label_column={label_columns[0]!r}) "
                f"(stutor-train: --label-column {label_columns[0]})."
            )
        label_column = label_columns[0]
    if label_column not in others:
        raise ValueError(f"label_column={label_column!r} is not a column; choose one of {label_columns or others}.")
    unknown = [c for c in others if c not in label_columns and c not in names]
    if unknown and label_column not in unknown:
        raise ValueError(
            f"Column(s) {unknown} hold neither integer classes nor label names; remove them with "
            "dataset.remove_columns([...])."
        )
    cases.check_text_column(dataset, "text")
    values = dataset[label_column]
    bad = next((v for v in values if isinstance(v, bool) or not isinstance(v, int)), None)
    if bad is not None or any(v < 0 for v in values):
        shown = bad if bad is not None else min(values)
        raise TypeError(
            f"Column {label_column!r} holds {cases.describe(shown)}; a class label is an integer 0, 1, 2, ... "
            "(map names to ids with dataset.class_encode_column)."
        )
    return Dataset.from_dict({"sentence": dataset["text"], "label": values})


def _quora_canonical(dataset: Dataset, *, positives_only: bool = False) -> Dataset:
    first, second, labels = [], [], []
    for index, (questions, duplicate) in enumerate(zip(dataset["questions"], dataset["is_duplicate"], strict=True)):
        texts = questions.get("text") if isinstance(questions, Mapping) else None
        if not isinstance(texts, list) or len(texts) != 2 or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError(
                f"Row {index} has questions={questions!r:.80}; the quora schema holds "
                '{"questions": {"id": [int, int], "text": [str, str]}, "is_duplicate": bool}.'
            )
        if not isinstance(duplicate, bool | int) or duplicate not in (0, 1):
            raise ValueError(f"Row {index} has is_duplicate={duplicate!r}; quora uses true/false.")
        first.append(texts[0])
        second.append(texts[1])
        labels.append(int(duplicate))
    pairs = Dataset.from_dict({"question1": first, "question2": second, "is_duplicate": labels})
    return _quora(pairs, positives_only=positives_only)


def _glue_pairs(dataset: Dataset) -> Dataset:
    labels = dataset["label"]
    if any(v == -1 for v in labels):
        raise ValueError(
            "Some rows have label -1: that is a GLUE test split, whose labels are hidden. Train on the 'train' or "
            "'validation' split."
        )
    if all(isinstance(v, int) and not isinstance(v, bool) for v in labels):  # MRPC-style classes
        return dataset.select_columns(["sentence1", "sentence2", "label"])
    bad = next((v for v in labels if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 5), None)
    if bad is not None:
        raise ValueError(f"The GLUE label {bad!r} is not a similarity score from 0 to 5 (STS-B) or a class id.")
    return Dataset.from_dict(
        {"sentence1": dataset["sentence1"], "sentence2": dataset["sentence2"], "score": [v / 5.0 for v in labels]}
    )


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
            parse_stsb,
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
            "quora",
            "quora (the Hub's canonical Quora Question Pairs)",
            Case.LABELLED_PAIR,
            '{"questions": {"id": [int, int], "text": [str, str]}, "is_duplicate": bool}',
            ("questions", "is_duplicate"),
            (),
            {
                "questions": {
                    "id": [1, 2],
                    "text": ["How can I learn to cook?", "What is the best way to start cooking?"],
                },
                "is_duplicate": True,
            },
            _quora_canonical,
        ),
        Schema(
            "glue_pairs",
            "nyu-mll/glue sentence-pair tasks: stsb (label 0-5, scaled to a 0-1 score) and mrpc (label 0/1)",
            Case.LABELLED_PAIR,
            '{"sentence1": str, "sentence2": str, "label": float 0-5 or int class, "idx": int} (idx dropped)',
            ("sentence1", "sentence2", "label", "idx"),
            ("idx",),
            {"sentence1": "A man is playing a flute.", "sentence2": "A man plays the flute.", "label": 4.8, "idx": 0},
            _glue_pairs,
        ),
        Schema(
            "text_classification",
            "single sentences with a class, like TREC (CogComp/trec: text, coarse_label, fine_label) or SetFit's "
            "sets (text, label, label_text)",
            Case.LABELLED_SENTENCE,
            '{"text": str, <label column>: int, ...} (integer label columns: pick one; text columns: names, dropped)',
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
    if columns == {"sentence1", "sentence2", "label", "idx"}:
        return SCHEMAS["glue_pairs"]
    for name in ("stsb", "quora_duplicates", "quora", "all_nli_triplet"):
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


def check_schema_name(schema: str | None) -> None:
    """Refuse a schema name that is not in :data:`SCHEMAS` (None means: detect it).

    Raises:
        ValueError: an unknown name, with the valid ones.
    """
    check_choice("schema", schema, sorted(SCHEMAS), allow_none=True)


def convert_checked(
    rows: Dataset | Sequence[Mapping[str, Any]], schema: str | None = None, **options: Any
) -> tuple[Dataset, cases.CaseReport]:
    """Like :func:`convert`, and also return the converted data's :class:`~stutor.cases.CaseReport`.

    The converted rows are checked once, here, so that a caller that goes on to pick a loss or
    train passes the report on instead of scanning the data again.

    Returns:
        ``(rows, report)``.
    """
    check_schema_name(schema)
    chosen = detect_schema(rows) if schema is None else SCHEMAS[schema]
    result = chosen.convert(rows, **options)
    return result, cases.detect_case(result)


def convert(rows: Dataset | Sequence[Mapping[str, Any]], schema: str | None = None, **options: Any) -> Dataset:
    """Convert raw rows of a known Hub schema into the trainer's column layout.

    Args:
        rows: a ``Dataset`` or a list of dicts in one of the :data:`SCHEMAS`.
        schema: the schema name; None detects it with :func:`detect_schema`.
        **options: converter options: ``all_combinations`` (qqp_triplets: every pos x neg
            instead of one triplet per query), ``positives_only`` (quora_duplicates: keep the
            duplicates as case-2 pairs), ``label_column`` (text_classification).

    Returns:
        A ``datasets.Dataset``: text columns first, then ``label``/``score`` if any; checked with
        :func:`stutor.cases.detect_case`.

    Raises:
        ValueError: an unknown schema name, or rows that do not fit the schema (the message shows
            what the data looks like and what was expected).
    """
    return convert_checked(rows, schema, **options)[0]
