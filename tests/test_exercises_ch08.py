"""Notebook 08's exercise checkers: the right answer passes, typical wrong answers get a hint without the solution."""

from __future__ import annotations

import pytest
from datasets import Dataset
from feedback import hints, passes

from stutor import data, exercises
from stutor.exercises import registry


def test_three_exercises_registered():
    assert sorted(key for key in registry.REGISTRY if key.startswith("08.")) == ["08.1", "08.2", "08.3"]


# --- 08.1 --------------------------------------------------------------------------------------

SETUP = {"batch_size": 8, "accumulation": 4, "columns": 3}


def test_08_1_candidates_per_anchor():
    assert "15 negatives" in passes("08.1", 15, **SETUP).message
    passes("08.1", 7, batch_size=8, accumulation=1, columns=2)  # pairs: the other rows' positives
    assert "accumulation" in hints("08.1", 63, 15, **SETUP).message
    assert "accumulation" in hints("08.1", 64, 15, **SETUP).message
    assert "own positive" in hints("08.1", 16, 15, **SETUP).message
    assert "negative column" in hints("08.1", 7, 15, **SETUP).message
    assert "similarity matrix" in hints("08.1", 3, 15, **SETUP).message
    assert "whole number" in hints("08.1", 15.0, 15, **SETUP).message


# --- 08.2 --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mining():
    triplets = data.near_miss_triplets("train", per_group=1)
    return {"pairs": triplets.remove_columns("negative"), "roles": data.near_miss_roles("train"), "rows": triplets}


def _with_negatives(rows, negatives):
    return Dataset.from_dict({"anchor": rows["anchor"], "positive": rows["positive"], "negative": negatives})


def test_08_2_the_near_misses_pass(mining):
    feedback = passes("08.2", mining["rows"], pairs=mining["pairs"], roles=mining["roles"])
    assert "no false negative" in feedback.message


def test_08_2_another_groups_text_passes(mining):
    rows, roles = mining["rows"], mining["roles"]
    others = [next(t for t in roles if roles[t][0] != roles[a][0]) for a in rows["anchor"]]
    passes("08.2", _with_negatives(rows, others), pairs=mining["pairs"], roles=roles)


def test_08_2_hints(mining):
    rows, pairs, roles = mining["rows"], mining["pairs"], mining["roles"]
    solution = ["range_min", "every_positive"]
    itself = hints("08.2", _with_negatives(rows, rows["anchor"]), solution, pairs=pairs, roles=roles)
    assert "themselves" in itself.message
    groups = {g["anchor"]: g for g in data.load_near_miss_groups("train")}
    rewordings = [groups[a]["paraphrases"][1] for a in rows["anchor"]]
    assert (
        "false negatives"
        in hints("08.2", _with_negatives(rows, rewordings), solution, pairs=pairs, roles=roles).message
    )
    few = rows.select(range(10))
    assert "only 10 of" in hints("08.2", few, solution, pairs=pairs, roles=roles).message
    assert "negative" in hints("08.2", pairs, solution, pairs=pairs, roles=roles).message
    swapped = Dataset.from_dict({"anchor": rows["positive"], "positive": rows["anchor"], "negative": rows["negative"]})
    assert "not one of the pairs" in hints("08.2", swapped, solution, pairs=pairs, roles=roles).message
    assert "Dataset" in hints("08.2", "mined", solution, pairs=pairs, roles=roles).message
    assert "roles=" in hints("08.2", rows, solution, pairs=pairs, roles=None).message


# --- 08.3 --------------------------------------------------------------------------------------


def test_08_3_cached_loss(st_model, tiny_bert):
    from sentence_transformers.sentence_transformer import SentenceTransformer, losses

    passes("08.3", losses.CachedMultipleNegativesRankingLoss(st_model, mini_batch_size=8), model=st_model, max_texts=8)
    passes("08.3", losses.CachedMultipleNegativesRankingLoss(st_model, mini_batch_size=4), model=st_model, max_texts=8)
    solution = "CachedMultipleNegativesRankingLoss(model"
    plain = losses.MultipleNegativesRankingLoss(st_model)
    assert "cached sibling" in hints("08.3", plain, solution, model=st_model, max_texts=8).message
    large = losses.CachedMultipleNegativesRankingLoss(st_model)  # the default mini_batch_size of 32
    assert "which argument" in hints("08.3", large, "mini_batch_size=8", model=st_model, max_texts=8).message
    other = SentenceTransformer(str(tiny_bert), device="cpu")
    foreign = losses.CachedMultipleNegativesRankingLoss(other, mini_batch_size=8)
    assert "another model" in hints("08.3", foreign, solution, model=st_model, max_texts=8).message
    assert "loss instance" in hints("08.3", "cached", solution, model=st_model, max_texts=8).message


def test_the_notebooks_settings_are_checked_as_arguments_not_as_the_answer():
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        exercises.check("08.1", 15, batch_size=0, accumulation=4, columns=3)
    with pytest.raises(ValueError, match="max_texts must be a positive integer"):
        exercises.check("08.3", object(), model=None, max_texts=2.5)  # checked before the answer is read


def test_08_2_pairs_without_their_columns_get_a_hint(mining):
    wrong = mining["pairs"].rename_column("anchor", "question")
    feedback = hints("08.2", mining["rows"], ["range_min"], pairs=wrong, roles=mining["roles"])
    assert "pairs= has the columns" in feedback.message
