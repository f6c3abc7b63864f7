"""Notebook 08's package code: the near-miss retrieval task, the text roles and per-query ranking metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stutor import data, retrieval


def test_near_miss_retrieval_leaves_the_anchors_out_of_the_corpus():
    queries, corpus, relevant = data.near_miss_retrieval("test")
    groups = data.load_near_miss_groups("test")
    assert list(queries) == list(groups["id"]) == list(relevant)
    assert set(queries.values()).isdisjoint(corpus.values())
    assert len(corpus) == sum(len(g["paraphrases"]) + len(g["near_misses"]) for g in groups)
    for group in groups:
        assert {corpus[d] for d in relevant[group["id"]]} == set(group["paraphrases"])
    train_texts = set(data.near_miss_retrieval("train")[1].values())
    assert train_texts.isdisjoint(corpus.values())


def test_near_miss_roles_cover_every_text_once():
    roles = data.near_miss_roles("train")
    triplets = data.near_miss_triplets("train")
    assert {text for column in triplets.column_names for text in triplets[column]} == set(roles)
    group = data.load_near_miss_groups("train")[0]
    assert roles[group["anchor"]] == (group["id"], "anchor")
    assert roles[group["paraphrases"][1]] == (group["id"], "paraphrase")
    assert roles[group["near_misses"][0]] == (group["id"], "near miss")
    with pytest.raises(ValueError, match="split"):
        data.near_miss_roles("validation")


def test_ranking_metrics_by_hand():
    similarity = [[0.9, 0.8, 0.1, 0.7], [0.2, 0.3, 0.9, 0.1]]
    corpus_ids = ["d0", "d1", "d2", "d3"]
    relevant = {"q0": {"d1", "d3"}, "q1": {"d0"}}
    metrics = retrieval.ranking_metrics(similarity, ["q0", "q1"], corpus_ids, relevant, k=3, cutoffs=(1, 3))
    # q0 ranks d0 d1 d3 d2: first relevant at rank 2; q1 ranks d2 d1 d0 d3: first relevant at rank 3
    assert metrics["mrr@3"].tolist() == [0.5, pytest.approx(1 / 3)]
    assert metrics["accuracy@1"].tolist() == [0.0, 0.0]
    assert metrics["accuracy@3"].tolist() == [1.0, 1.0]
    assert metrics["recall@3"].tolist() == [1.0, 1.0]
    ideal = 1 + 1 / np.log2(3)
    assert metrics["ndcg@3"][0] == pytest.approx((1 / np.log2(3) + 1 / np.log2(4)) / ideal)
    assert metrics["ndcg@3"][1] == pytest.approx(1 / np.log2(4))


def test_ties_are_broken_by_document_id_as_the_evaluator_does():
    metrics = retrieval.ranking_metrics(torch.ones(1, 3), ["q"], ["b", "a", "c"], {"q": {"a"}}, k=10, cutoffs=(1,))
    assert metrics["accuracy@1"].tolist() == [1.0]


def test_ranking_metrics_equal_the_evaluators_means(st_model):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    queries, corpus, relevant = data.near_miss_retrieval("dev")
    report = InformationRetrievalEvaluator(queries, corpus, relevant, name="dev", write_csv=False)(st_model)
    query_vectors = st_model.encode_query(list(queries.values()), convert_to_tensor=True)
    corpus_vectors = st_model.encode_document(list(corpus.values()), convert_to_tensor=True)
    similarity = st_model.similarity(query_vectors, corpus_vectors)
    metrics = retrieval.ranking_metrics(similarity, list(queries), list(corpus), relevant)
    assert set(metrics) == {f"{m}@{c}" for m in ("accuracy", "recall") for c in (1, 3, 5, 10)} | {"mrr@10", "ndcg@10"}
    for name, per_query in metrics.items():
        assert per_query.shape == (len(queries),)
        assert per_query.mean() == pytest.approx(report[f"dev_cosine_{name}"], abs=1e-6), name


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (([[1.0, 2.0]], ["q"], ["a"], {"q": {"a"}}), ValueError, "shape"),
        (([1.0, 2.0], ["q"], ["a", "b"], {"q": {"a"}}), ValueError, "2 dimension"),
        (([[1.0, 2.0]], ["q"], ["a", "a"], {"q": {"a"}}), ValueError, "unique"),
        (([[1.0, 2.0]], ["q"], ["a", "b"], {"q": set()}), ValueError, "no set of relevant"),
        (([[1.0, 2.0]], ["q"], ["a", "b"], {"q": {"z"}}), ValueError, "not among corpus_ids"),
        (([[1.0, 2.0]], ["q"], ["a", "b"], [("q", {"a"})]), TypeError, "relevant_docs must be a dict"),
        (("scores", ["q"], ["a"], {"q": {"a"}}), TypeError, "similarity"),
    ],
)
def test_ranking_metrics_refuse_bad_input(arguments, error, match):
    with pytest.raises(error, match=match):
        retrieval.ranking_metrics(*arguments)


def test_ranking_metrics_refuse_bad_cutoffs():
    with pytest.raises(ValueError, match="k"):
        retrieval.ranking_metrics([[1.0]], ["q"], ["a"], {"q": {"a"}}, k=0)
    with pytest.raises(TypeError, match="cutoffs"):
        retrieval.ranking_metrics([[1.0]], ["q"], ["a"], {"q": {"a"}}, cutoffs=5)
    with pytest.raises(ValueError, match="cutoffs"):
        retrieval.ranking_metrics([[1.0]], ["q"], ["a"], {"q": {"a"}}, cutoffs=(0,))
