"""Held-out triplets and a TripletEvaluator built right (notebook 07)."""

from __future__ import annotations

import numpy as np
import pytest
from sentence_transformers import InputExample
from sentence_transformers.sentence_transformer.evaluation import TripletEvaluator

from stutor import data, triplets


def test_one_triplet_per_group_is_its_first_two_paraphrases_and_first_hard_negative():
    for split in ("train", "dev", "test"):
        groups = data.load_paraphrase_groups(split)
        assert data.group_triplets(split, per_group=1).to_dict() == {
            "anchor": [g["paraphrases"][0] for g in groups],
            "positive": [g["paraphrases"][1] for g in groups],
            "negative": [g["hard_negatives"][0] for g in groups],
        }


def test_group_triplets_use_every_paraphrase_once_as_anchor_and_stay_in_their_split():
    test = data.group_triplets("test")
    groups = data.load_paraphrase_groups("test")
    assert len(test) == sum(len(g["paraphrases"]) for g in groups)
    assert sorted(test["anchor"]) == sorted(p for g in groups for p in g["paraphrases"])
    train_texts = {t for g in data.load_paraphrase_groups("train") for t in g["paraphrases"] + g["hard_negatives"]}
    assert not train_texts & (set(test["anchor"]) | set(test["positive"]) | set(test["negative"]))
    assert all(a != p for a, p in zip(test["anchor"], test["positive"], strict=True))


@pytest.mark.parametrize("per_group", [0, -1, 1.5, True, "2"])
def test_group_triplets_refuses_a_bad_per_group(per_group):
    with pytest.raises(ValueError, match="per_group"):
        data.group_triplets("dev", per_group=per_group)


def test_evaluator_refuses_a_list_of_negatives_like_the_reference():
    rows = {"anchor": ["How do I learn Python?"], "positive": ["Best way to learn Python?"], "negative": [["a", "b"]]}
    with pytest.raises(TypeError, match=r"negatives\[0\] is a list.*ONE negative"):
        triplets.triplet_evaluator(rows)


@pytest.mark.parametrize(
    ("anchors", "positives", "negatives", "error", "message"),
    [
        (["a", "b"], ["c"], ["d", "e"], ValueError, "2, 1 and 2 items"),
        (["a"], [3], ["d"], TypeError, r"positives\[0\] is int"),
        (["a"], ["b"], [""], ValueError, r"negatives\[0\] is an empty string"),
        ([], [], [], ValueError, "anchors is empty"),
        ("abc", ["b"], ["c"], TypeError, "not a single string"),
    ],
)
def test_check_triplets_refuses_bad_lists(anchors, positives, negatives, error, message):
    with pytest.raises(error, match=message):
        triplets.check_triplets(anchors, positives, negatives)
    with pytest.raises(error, match=message):
        triplets.triplet_evaluator({"anchor": anchors, "positive": positives, "negative": negatives})


def test_evaluator_refuses_missing_columns_and_other_types():
    with pytest.raises(ValueError, match="lack \\['negative'\\]"):
        triplets.triplet_evaluator({"anchor": ["a"], "positive": ["b"]})
    with pytest.raises(TypeError, match="triplets must be"):
        triplets.triplet_evaluator(42)
    with pytest.raises(ValueError, match="each triplet is"):
        triplets.triplet_evaluator([("a", "b")])
    with pytest.raises(ValueError, match="batch_size"):
        triplets.triplet_evaluator(data.group_triplets("dev", per_group=1), batch_size=0)


def test_evaluator_accepts_rows_and_input_examples():
    rows = [("q1", "p1", "n1"), ("q2", "p2", "n2")]
    from_rows = triplets.triplet_evaluator(rows, name="x")
    from_examples = triplets.triplet_evaluator([InputExample(texts=list(r)) for r in rows])
    assert isinstance(from_rows, TripletEvaluator)
    assert from_rows.negatives == from_examples.negatives == ["n1", "n2"]
    assert from_rows.write_csv is False and from_rows.show_progress_bar is False


def test_distances_give_the_triplet_evaluators_accuracy(st_model):
    dev = data.group_triplets("dev", per_group=2)
    evaluator = triplets.triplet_evaluator(dev, name="dev")
    expected = evaluator(st_model)["dev_cosine_accuracy"]
    positive, negative = triplets.triplet_distances(st_model, dev)
    # a triplet is correct where the positive is the nearer: the evaluator's accuracy from the distances
    assert float(np.mean(positive < negative)) == pytest.approx(expected, abs=1e-6)
    assert positive.shape == negative.shape == (len(dev),)
    assert np.all((positive >= -1e-6) & (positive <= 2 + 1e-6))
    # A trained model separates held-out paraphrases from hard negatives far better than chance.
    assert expected > 0.75
