"""Exercises of notebook 03: why not plain BERT (cross- versus bi-encoder cost, CLS pooling on STS)."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

from stutor.exercises.answers import as_int
from stutor.exercises.registry import exercise, hint

_SEARCH_N = 5_000


@exercise(
    "03.1",
    f"How many forward passes do a cross-encoder and a bi-encoder need to find the most similar pair among "
    f"{_SEARCH_N:,} sentences? Answer (cross, bi).",
)
def pass_counts(answer: Any) -> str:
    from stutor import costs

    if not isinstance(answer, Sequence) or isinstance(answer, str) or len(answer) != 2:
        hint("the answer is a pair of whole numbers: (cross-encoder passes, bi-encoder passes).")
    cross = as_int(answer[0], "a number of cross-encoder passes")
    bi = as_int(answer[1], "a number of bi-encoder passes")
    expected = costs.pair_count(_SEARCH_N)
    if cross != expected:
        if cross in (_SEARCH_N**2, _SEARCH_N * (_SEARCH_N - 1)):
            hint("each unordered pair is scored once: (a, b) is the same pair as (b, a).")
        hint("a cross-encoder reads every pair of distinct sentences once.")
    if bi != _SEARCH_N:
        hint("a bi-encoder runs the transformer once per sentence; comparing the vectors needs no forward pass.")
    return f"{expected / _SEARCH_N:,.0f} times more passes for the cross-encoder."


@exercise("03.2", "The smallest n for which the extrapolated cross-encoder search takes longer than one minute.")
def minute_threshold(answer: Any, comparison: Any) -> str:
    from stutor import costs

    n = as_int(answer, "a number of sentences")
    rate = getattr(getattr(comparison, "cross", None), "rate", None)
    if not isinstance(rate, Real) or rate <= 0:
        hint("pass comparison=, the result of costs.compare_costs(...) in the notebook.")
    if n < 2:
        hint("a search needs at least two sentences.")

    def seconds(k: int) -> float:
        return costs.pair_count(k) / rate

    if seconds(n) <= 60:
        hint(f"at n = {n:,} the extrapolated search takes {seconds(n):.1f} s, not more than a minute: go higher.")
    if seconds(n - 1) > 60:
        hint(f"already at n = {n - 1:,} it takes more than a minute ({seconds(n - 1):.0f} s): the smallest n is lower.")
    return "one sentence fewer stays within the minute; doubling n would take about four times as long."


@exercise(
    "03.3",
    "Evaluate a Sentence Transformer built with pooling='cls' (methods=['sentence_transformer']) on the same pairs.",
)
def cls_pooling_score(answer: Any, result: Any) -> str:
    from stutor.evaluation import STSResult

    if not isinstance(answer, STSResult):
        hint(f"the answer is what evaluation.evaluate_sts(...) returns (an STSResult), not {type(answer).__name__}.")
    if not isinstance(result, STSResult):
        hint("pass result=, the STS table computed in the notebook.")
    rows = [row for row in answer.rows if row.method == "sentence_transformer"]
    if len(rows) != 1:
        hint("evaluate exactly one model with methods=['sentence_transformer'].")
    if (answer.data, answer.n_pairs) != (result.data, result.n_pairs):
        hint("evaluate on the same scored pairs as the table above (pairs, score_range, data_name).")
    row = rows[0]
    try:
        cls_score, mean_score = result.score("cls", row.model), result.score("mean", row.model)
    except KeyError:
        hint(f"the table above has no rows for {row.model!r}: build the model from `choice`.")
    if abs(row.spearman - cls_score) <= 0.05:
        return (
            f"{row.spearman:.1f} equals the CLS row: a Pooling layer in 'cls' mode returns the first output token, "
            "which is what that row measures."
        )
    if abs(row.spearman - mean_score) <= 0.05:
        hint("your score equals the mean-pooling row: which pooling did your model use?")
    hint("your score matches neither row of this model: build it from `choice` with a first-token Pooling layer.")
