"""stutor.retrieval: per-query reciprocal ranks and overlap with exact search, and their input checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sentence_transformers import util

from stutor.retrieval import overlap_at_k, reciprocal_ranks

CORPUS = ["p0", "p1", "p2", "p3"]
QUERIES = ["q0", "q1", "q2"]
RELEVANT = {"q0": {"p0"}, "q1": {"p2"}, "q2": {"p3"}}


def test_reciprocal_ranks_from_semantic_search_hits():
    corpus = torch.eye(4)
    queries = torch.tensor([[1.0, 0.1, 0, 0], [0, 1.0, 0.5, 0], [0.9, 0.8, 0.7, 0.1]])
    hits = util.semantic_search(queries, corpus, top_k=4)
    assert reciprocal_ranks(hits, QUERIES, CORPUS, RELEVANT, k=4).tolist() == [1.0, 0.5, 0.25]
    assert reciprocal_ranks(hits, QUERIES, CORPUS, RELEVANT, k=3).tolist() == [1.0, 0.5, 0.0]


def test_reciprocal_ranks_from_an_index_array_and_plain_lists():
    ranked = np.array([[0, 1], [1, 2], [3, -1]])  # faiss marks a missing hit with -1
    assert reciprocal_ranks(ranked, QUERIES, CORPUS, RELEVANT).tolist() == [1.0, 0.5, 1.0]
    assert reciprocal_ranks([[1, 0], [2], [0]], QUERIES, CORPUS, RELEVANT).tolist() == [0.5, 1.0, 0.0]


def test_its_mean_is_the_evaluators_mrr(st_model):
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    from stutor import data

    search = data.load_search_set("dev")
    query_ids = list(search.queries)[:24]  # a slice is enough to compare two computations of one number
    answers = {c for q in query_ids for c in search.relevant[q]}
    corpus_ids = [c for i, c in enumerate(search.corpus) if c in answers or i < 40]
    queries_text = {q: search.queries[q] for q in query_ids}
    corpus_text = {c: search.corpus[c] for c in corpus_ids}
    relevant = {q: search.relevant[q] for q in query_ids}
    corpus = st_model.encode(list(corpus_text.values()), convert_to_tensor=True)
    queries = st_model.encode(list(queries_text.values()), convert_to_tensor=True)
    rr = reciprocal_ranks(util.semantic_search(queries, corpus, top_k=10), query_ids, corpus_ids, relevant)
    assert 0 < (rr == 1).mean() < 1  # some queries find their answer first, some do not: the check has teeth
    evaluator = InformationRetrievalEvaluator(queries_text, corpus_text, relevant, name="dev")
    results = evaluator(st_model, corpus_embeddings=corpus)
    assert rr.mean() == pytest.approx(results["dev_cosine_mrr@10"], abs=1e-9)
    assert (rr == 1).mean() == pytest.approx(results["dev_cosine_accuracy@1"], abs=1e-9)


def test_overlap_at_k():
    exact = np.array([[0, 1, 2], [3, 2, 1]])
    assert overlap_at_k(np.array([[2, 1, 0], [0, 1, 2]]), exact, k=3).tolist() == pytest.approx([1.0, 2 / 3])
    assert overlap_at_k([[0], [3]], exact, k=1).tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    ("hits", "error", "match"),
    [
        ("0 1 2", TypeError, "list of hit lists"),
        ([["p0"]], TypeError, "corpus_id"),
        ([[True]], TypeError, "corpus_id"),
        (np.zeros((3, 2)), ValueError, "integers"),
        ([[0], [1]], ValueError, "2 rankings but there are 3"),
        ([[0], [9], [0]], ValueError, "corpus position 9"),
    ],
)
def test_bad_hits_say_what_a_ranking_is(hits, error, match):
    with pytest.raises(error, match=match):
        reciprocal_ranks(hits, QUERIES, CORPUS, RELEVANT)


def test_bad_queries_and_k():
    with pytest.raises(ValueError, match="no relevant passage"):
        reciprocal_ranks([[0], [0], [0]], QUERIES, CORPUS, {"q0": {"p0"}})
    with pytest.raises(ValueError, match="k"):
        reciprocal_ranks([[0], [0], [0]], QUERIES, CORPUS, RELEVANT, k=0)
    with pytest.raises(TypeError, match="relevant must be a dict"):
        reciprocal_ranks([[0], [0], [0]], QUERIES, CORPUS, [("q0", {"p0"})])
    with pytest.raises(ValueError, match="not among corpus_ids"):
        reciprocal_ranks([[0], [0], [0]], QUERIES, CORPUS, RELEVANT | {"q2": {"p9"}})
    with pytest.raises(TypeError, match="single string"):
        reciprocal_ranks([[0], [0], [0]], "q0q1q2", CORPUS, RELEVANT)
    with pytest.raises(ValueError, match="fewer than k=3"):
        overlap_at_k([[0, 1, 2]], [[0, 1]], k=3)
    with pytest.raises(ValueError, match="same queries"):
        overlap_at_k([[0]], [[0], [1]], k=1)
