"""Exercises of notebook 08: training with in-batch negatives (candidates per anchor, mined negatives, cached loss)."""

from __future__ import annotations

from typing import Any

from stutor.checks import check_positive
from stutor.exercises.answers import as_int, column_rows, dataset_or_hint
from stutor.exercises.registry import exercise, hint


@exercise(
    "08.1",
    "MultipleNegativesRankingLoss with a mini-batch, gradient accumulation and text columns: how many "
    "in-batch negatives does each anchor get?",
)
def in_batch_negatives(answer: Any, batch_size: Any, accumulation: Any, columns: Any) -> str:
    count = as_int(answer, "the number of candidates an anchor must beat")
    for name, value in (("batch_size", batch_size), ("accumulation", accumulation), ("columns", columns)):
        check_positive(name, value)  # the notebook's settings, not the answer
    size, steps, width = batch_size, accumulation, columns
    candidates = size * (width - 1)  # every positive and negative of the mini-batch
    if count == candidates - 1:
        return (
            f"{candidates} candidates per anchor, its own positive and {count} negatives; accumulating {steps} "
            "mini-batches averages their gradients, it never puts them into one similarity matrix."
        )
    if steps > 1 and count in (size * steps * (width - 1) - 1, size * steps * (width - 1)):
        hint(
            "gradient accumulation adds up the gradients of separate mini-batches: does it enlarge the "
            "similarity matrix?"
        )
    if count == candidates:
        hint("one of the candidates is the anchor's own positive, the right answer; the others are its negatives.")
    if width > 2 and count in (size - 1, size):
        hint("every row's negative column is a candidate for every anchor of the mini-batch, not only for its own row.")
    hint("count the columns of one mini-batch's similarity matrix: one row per anchor, one column per candidate.")


@exercise(
    "08.2",
    "Mine one hard negative per (anchor, positive) pair with mine_hard_negatives, none of them a true paraphrase.",
)
def mined_without_false_negatives(answer: Any, pairs: Any, roles: Any) -> str:
    rows = dataset_or_hint(answer, "the mined rows, a Dataset with anchor, positive and negative")
    given = dataset_or_hint(pairs, "pairs=, the (anchor, positive) pairs")
    if not isinstance(roles, dict):
        hint("pass roles=data.near_miss_roles('train'): which group and role each text has.")
    if not {"anchor", "positive"} <= set(given.column_names):
        hint(f"pairs= has the columns {given.column_names}: pass the (anchor, positive) pairs you mined from.")
    missing = [column for column in ("anchor", "positive", "negative") if column not in rows.column_names]
    if missing:
        hint(f"the rows lack {missing}: mine with output_format='triplet' (the default) and num_negatives=1.")
    known = set(column_rows(given, ("anchor", "positive")))
    triplets = column_rows(rows, ("anchor", "positive", "negative"))
    foreign = sum((anchor, positive) not in known for anchor, positive, _ in triplets)
    if foreign:
        hint(f"{foreign} rows hold an (anchor, positive) that is not one of the pairs: keep the pairs' rows only.")
    unknown = sum(negative not in roles or anchor not in roles for anchor, _, negative in triplets)
    if unknown:
        hint(f"{unknown} rows hold texts that are not in the training groups: mine over the training corpus.")
    itself = sum(anchor == negative for anchor, _, negative in triplets)
    if itself:
        hint(
            f"{itself} anchors got themselves as their negative: the corpus holds the anchors, and each one "
            "is its own first hit."
        )
    false = sum(
        roles[negative][0] == roles[anchor][0] and roles[negative][1] != "near miss" for anchor, _, negative in triplets
    )
    if false:
        hint(
            f"{false} negatives are rewordings of their own anchor (false negatives); the similarity guards cannot "
            "tell them apart here: what does the library assume about an anchor that occurs in several pairs?"
        )
    covered = len({anchor for anchor, _, _ in triplets})
    if covered < 0.9 * len(known):
        hint(f"only {covered} of {len(known)} anchors kept a negative: the guards removed too many candidates.")
    near = sum(roles[negative] == (roles[anchor][0], "near miss") for anchor, _, negative in triplets)
    return f"{len(triplets)} rows, no false negative; {near} of the mined negatives are the group's own near miss."


@exercise(
    "08.3",
    "Build a CachedMultipleNegativesRankingLoss for the model that gives at most max_texts texts a graph at a time.",
)
def cached_loss(answer: Any, model: Any, max_texts: Any) -> str:
    from sentence_transformers.sentence_transformer import losses

    check_positive("max_texts", max_texts)  # the notebook's setting, not the answer
    limit = max_texts
    if isinstance(answer, losses.MultipleNegativesRankingLoss):
        hint("this loss builds the graph of the whole batch at once; its cached sibling works in mini-batches.")
    if not isinstance(answer, losses.CachedMultipleNegativesRankingLoss):
        hint(
            "the answer is a loss instance (losses.CachedMultipleNegativesRankingLoss(...)), "
            f"not {type(answer).__name__}."
        )
    if answer.model is not model:
        hint("the loss is built for another model: pass the model you train as its first argument.")
    if answer.mini_batch_size > limit:
        hint(f"its mini-batches hold {answer.mini_batch_size} texts: which argument sets how many get a graph at once?")
    return (
        f"mini-batches of {answer.mini_batch_size} texts hold activations, while the similarity matrix still "
        "spans the whole batch: the same loss and gradient as MultipleNegativesRankingLoss."
    )
