"""Exercises of notebook 07: training with a triplet loss (a quick subset, a held-out evaluator, the batch sampler)."""

from __future__ import annotations

from typing import Any

from stutor.exercises.answers import dataset_or_hint
from stutor.exercises.registry import exercise, hint


@exercise("07.1", "Keep the first half of the rows for a quick run (a Dataset).")
def first_half(answer: Any, data: Any) -> str:
    subset = dataset_or_hint(answer, "the first half of the data, a Dataset")
    full = dataset_or_hint(data, "data=, the full data set")
    n, kept = full.num_rows, subset.num_rows
    if kept == n // 2000:
        hint("floor division by 2000 keeps one row in 2000, not half.")
    if kept != n // 2:
        hint(f"you kept {kept} of {n} rows ({kept / n:.1%}), not half.")
    if subset.column_names != full.column_names or subset.to_list() != full.select(range(kept)).to_list():
        hint("these are not the first rows, with all their columns: select a range from the start.")
    return f"{kept} of {n} rows: print the size before training, every time."


@exercise("07.2", "Build a TripletEvaluator on the held-out triplets, one negative string per triplet.")
def held_out_evaluator(answer: Any, held_out: Any, train: Any) -> str:
    from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

    from stutor.triplets import COLUMNS

    if not isinstance(answer, TripletEvaluator):
        hint(f"the answer is a TripletEvaluator (triplets.triplet_evaluator(...)), not {type(answer).__name__}.")
    if any(not isinstance(text, str) for text in answer.negatives):
        hint("a negative is a list: a triplet has ONE negative string.")
    test = dataset_or_hint(held_out, "held_out=, the test triplets")
    seen = dataset_or_hint(train, "train=, the training triplets")
    training_texts = {text for column in seen.column_names for text in seen[column]}
    if set(answer.anchors) & training_texts:
        hint("some anchors are training questions: accuracy on them measures memory, not comparison of new questions.")
    if [list(answer.anchors), list(answer.positives), list(answer.negatives)] != [list(test[c]) for c in COLUMNS]:
        hint("use every held-out triplet, anchor, positive and negative in their columns.")
    return f"{len(answer.anchors)} held-out triplets, none seen in training."


@exercise(
    "07.3",
    "Train the weak start with MultipleNegativesRankingLoss: which batch sampler does the history report?",
)
def ranking_sampler(answer: Any) -> str:
    from stutor import losses, training

    value = answer.batch_sampler if isinstance(answer, training.TrainingHistory) else answer
    if not isinstance(value, str):
        hint("the answer is history.batch_sampler (a string) or the TrainingHistory itself.")
    expected = losses.batch_sampler_for("MultipleNegativesRankingLoss")
    if str(getattr(value, "value", value)).lower() == expected.value:
        return "the other positives of a batch are its negatives, so a batch must not hold the same text twice."
    hint(
        "this loss uses the other texts of the batch as negatives: which sampler keeps a text from "
        "appearing twice in one batch?"
    )
