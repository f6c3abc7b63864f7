"""stutor.exercises.ch09: each checker passes the right answer and hints at typical wrong ones without the solution."""

from __future__ import annotations

import faiss
import numpy as np
import pytest
import torch
from feedback import hints, passes
from sentence_transformers import util

from stutor import retrieval, stats
from stutor.data import SearchSet
from stutor.exercises.ch09 import WIDTHS


def _search_setup(noise: float, seed: int = 3, n_queries: int = 80):
    """A small search set with seeded embeddings: each question is a noisy copy of its passage's vector."""
    rng = np.random.default_rng(seed)
    corpus = rng.standard_normal((60, 384)).astype(np.float32)
    answers = rng.integers(0, 60, size=n_queries)
    queries = corpus[answers] + noise * rng.standard_normal((n_queries, 384)).astype(np.float32)
    search_set = SearchSet(
        corpus={f"p{i}": f"passage {i}" for i in range(60)},
        queries={f"q{i}": f"question {i}" for i in range(n_queries)},
        relevant={f"q{i}": {f"p{a}"} for i, a in enumerate(answers)},
        topics={f"p{i}": "topic" for i in range(60)},
    )
    given = {"queries": torch.from_numpy(queries), "corpus": torch.from_numpy(corpus)}
    return search_set, given


@pytest.fixture(scope="module")
def setup():
    return _search_setup(noise=5.0)  # some answers at ranks 6-10: MRR@5 < MRR@10


@pytest.fixture(scope="module")
def easier():
    return _search_setup(noise=4.5)  # the widest truncation shows no measurable loss, the narrower ones do


def _rr(given, search_set, k=10, width=None):
    queries, corpus = given["queries"], given["corpus"]
    if width is not None:
        queries, corpus = queries[:, :width], corpus[:, :width]
    hits = util.semantic_search(queries, corpus, top_k=10)
    return retrieval.reciprocal_ranks(hits, list(search_set.queries), list(search_set.corpus), search_set.relevant, k=k)


def test_09_1_mrr_at_5(setup):
    search_set, given = setup
    at_5, at_10 = _rr(given, search_set, k=5), _rr(given, search_set, k=10)
    assert at_5.mean() < at_10.mean()  # the data tells the two apart
    right = float(at_5.mean())
    assert "cut-off can only lower MRR" in passes("09.1", right, search_set=search_set, **given).message
    passes("09.1", round(right, 3), search_set=search_set, **given)
    solution = f"{right:.3f}"
    assert "MRR@10" in hints("09.1", float(at_10.mean()), solution, search_set=search_set, **given).message
    assert "Recall@5" in hints("09.1", float((at_5 > 0).mean()), solution, search_set=search_set, **given).message
    assert "hit@1" in hints("09.1", float((at_5 == 1).mean()), solution, search_set=search_set, **given).message
    assert "1/rank" in hints("09.1", 0.123, solution, search_set=search_set, **given).message
    assert "finite number" in hints("09.1", "0.5", solution, search_set=search_set, **given).message
    short = {**given, "queries": given["queries"][:5]}
    assert "encode them all" in hints("09.1", right, solution, search_set=search_set, **short).message


def _hnsw(corpus, m=16, ef=64, metric=faiss.METRIC_INNER_PRODUCT, rows=None):
    faiss.omp_set_num_threads(1)
    index = faiss.IndexHNSWFlat(corpus.shape[1], m, metric)
    index.add(np.ascontiguousarray(corpus[:rows].numpy()))
    index.hnsw.efSearch = ef
    return index


def test_09_2_hnsw_index(setup):
    _, raw = setup
    given = {name: torch.nn.functional.normalize(value) for name, value in raw.items()}  # unit vectors, as in 09
    corpus = given["corpus"]
    feedback = passes("09.2", _hnsw(corpus), **given)
    assert "inner product" in feedback.message
    assert "L2" in passes("09.2", _hnsw(corpus, metric=faiss.METRIC_L2), **given).message
    assert "add every passage" in hints("09.2", _hnsw(corpus, rows=30), [], **given).message
    assert "efSearch" in hints("09.2", _hnsw(corpus, m=2, ef=1), [], **given).message
    flat = faiss.IndexFlatIP(corpus.shape[1])
    flat.add(corpus.numpy())
    assert "not an HNSW" in hints("09.2", flat, [], **given).message
    assert "faiss index" in hints("09.2", [1, 2], [], **given).message


def test_09_3_smallest_width(easier):
    search_set, given = easier
    full = _rr(given, search_set)
    alike = [w for w in WIDTHS if not stats.compare(full, _rr(given, search_set, width=w)).measurable]
    assert alike and alike[0] > WIDTHS[0], "the test data must have a width that loses measurably"
    right = alike[0]
    assert "includes zero" in passes("09.3", right, search_set=search_set, **given).message
    assert "excludes zero" in hints("09.3", WIDTHS[0], right, search_set=search_set, **given).message
    bigger = [w for w in alike if w > right]
    if bigger:
        assert "smaller one" in hints("09.3", bigger[0], right, search_set=search_set, **given).message
    assert "choose one of" in hints("09.3", 100, [], search_set=search_set, **given).message
    assert "whole number" in hints("09.3", 128.0, right, search_set=search_set, **given).message


def test_a_search_set_of_another_kind_gets_a_hint(setup):
    search_set, given = setup
    feedback = hints("09.1", 0.5, [], search_set=(search_set.queries, search_set.corpus, search_set.relevant), **given)
    assert "data.load_search_set('test')" in feedback.message
