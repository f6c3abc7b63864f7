"""Exercises of notebook 06: the limits of classification with embeddings (less data, tuned thresholds, length)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stutor.exercises.answers import as_float, dataset_or_hint
from stutor.exercises.registry import exercise, hint

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

_LONG = 8


def _vectors(embed: Any, texts: Any) -> np.ndarray:
    """The notebook's ``embed`` applied to ``texts``, as a float array."""
    import numpy as np

    if not callable(embed):
        hint("pass embed=, the notebook's function that turns a list of sentences into vectors.")
    return np.asarray(embed(list(texts)), dtype=float)


def _near(value: float, expected: float, n: int) -> bool:
    """Equal up to one example: re-encoding may move a borderline prediction."""
    return abs(value - expected) <= 1.0 / n + 1e-9


@exercise("06.1", "Test accuracy of logistic regression (C=best_c) trained on one paraphrase per training group.")
def less_data(answer: Any, embed: Any, C: Any, train: Any, test: Any) -> str:
    from sklearn.linear_model import LogisticRegression

    from stutor import data

    value = as_float(answer, "a test accuracy between 0 and 1")
    test = dataset_or_hint(test, "test=, the test sentences")
    train = dataset_or_hint(train, "train=, the training sentences")
    few = data.topic_sentences("train", per_group=1)

    def fitted(rows: Any) -> Any:
        return LogisticRegression(C=C, max_iter=2000).fit(_vectors(embed, rows["sentence"]), list(rows["label"]))

    probe, test_vectors = fitted(few), _vectors(embed, test["sentence"])
    expected = probe.score(test_vectors, list(test["label"]))
    before = fitted(train).score(test_vectors, list(test["label"]))
    if _near(value, expected, test.num_rows):
        return (
            f"{expected:.3f} with {few.num_rows} training sentences, {before:.3f} with {train.num_rows}: "
            "a linear probe on frozen embeddings needs few examples per class."
        )
    if _near(value, before, test.num_rows):
        hint("that is the accuracy with the notebook's `train` (two paraphrases per group); use one per group.")
    if _near(value, probe.score(_vectors(embed, few["sentence"]), list(few["label"])), few.num_rows):
        hint("that is the accuracy on the training sentences themselves; score the held-out test sentences.")
    hint("fit on data.topic_sentences('train', per_group=1) with C=best_c, then score on `test`.")


@exercise("06.2", "Bi-encoder test accuracy with the cosine threshold chosen on the test pairs themselves.")
def threshold_on_test(answer: Any, embed: Any, pairs: Any, threshold: Any = None) -> str:
    import numpy as np

    from stutor import classification

    value = as_float(answer, "a test accuracy between 0 and 1")
    pairs = dataset_or_hint(pairs, "pairs=, the test pairs")
    first, second = _vectors(embed, pairs["sentence1"]), _vectors(embed, pairs["sentence2"])
    cosine = np.sum(first * second, axis=1) / (np.linalg.norm(first, axis=1) * np.linalg.norm(second, axis=1))
    labels = np.asarray(pairs["label"])
    _, expected = classification.best_threshold(cosine, labels)
    honest = None if threshold is None else float(np.mean((cosine > float(threshold)) == (labels == 1)))
    if _near(value, expected, pairs.num_rows):
        against = "the" if honest is None else f"{honest:.3f},"
        return (
            f"{expected:.3f} against {against} accuracy with the threshold chosen on the train pairs: a number "
            "tuned on the test set is optimistic by construction, so report the held-out one."
        )
    if honest is not None and _near(value, honest, pairs.num_rows):
        hint("that is the threshold chosen on the train pairs; this time choose it on the test pairs.")
    if value < expected:
        hint("a threshold chosen on the test pairs does better than that: pick the best one for these pairs.")
    hint("no threshold reaches that accuracy on these pairs: predict a duplicate when cosine > threshold.")


@exercise("06.3", f"Test accuracy of logistic regression predicting 'more than {_LONG} words' from the embeddings.")
def length_label(answer: Any, embed: Any, train: Any, test: Any) -> str:
    from sklearn.linear_model import LogisticRegression

    value = as_float(answer, "a test accuracy between 0 and 1")
    train = dataset_or_hint(train, "train=, the training sentences")
    test = dataset_or_hint(test, "test=, the test sentences")

    def long(rows: Any) -> list[int]:
        return [int(len(sentence.split()) > _LONG) for sentence in rows["sentence"]]

    probe = LogisticRegression(max_iter=2000).fit(_vectors(embed, train["sentence"]), long(train))
    expected = probe.score(_vectors(embed, test["sentence"]), long(test))
    share = sum(long(test)) / test.num_rows
    majority = max(share, 1 - share)
    if _near(value, expected, test.num_rows):
        return (
            f"{expected:.3f}, against {majority:.3f} for always answering the most common class; compare that gap "
            "with the topic classifier's to see how much of a sentence's length its embedding keeps."
        )
    if _near(value, majority, test.num_rows):
        hint("that is the score of always answering the most common class; train the classifier on the embeddings.")
    hint(
        f"label each sentence 1 if it has more than {_LONG} words (len(sentence.split())), fit on train, score on test."
    )
