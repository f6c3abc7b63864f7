"""Scoring a search per query: the evaluator's metrics, reciprocal ranks, overlap with exact search.

``InformationRetrievalEvaluator`` reports one mean per metric; a paired comparison
(:func:`stutor.stats.compare`) needs one score per query. :func:`ranking_metrics` gives every
metric the evaluator averages (MRR@k, NDCG@k, accuracy@k, recall@k) per query from a similarity
matrix. :func:`reciprocal_ranks` turns the hits
of any search (``util.semantic_search``'s list of hit lists, or a ``(queries, k)`` array of corpus
positions from a faiss index) into each query's reciprocal rank at ``k`` (1 for a relevant passage
first, 1/2 second, ... 0 when none is in the top ``k``); its mean is MRR@k, and ``== 1`` is hit@1.
:func:`overlap_at_k` measures an approximate or quantized search against exact search: the share
of each query's exact top ``k`` that it also found (recall@k against exact).

Taught in: notebooks 08 (ranking_metrics) and 09.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from stutor.checks import as_tensor, check_positive, check_texts


def _positions(hits: Any, name: str) -> list[list[int]]:
    """Corpus positions per query from semantic_search hits or a 2-d integer array."""
    if isinstance(hits, np.ndarray) or type(hits).__module__.startswith("torch"):
        array = np.asarray(hits)
        if array.ndim != 2 or array.dtype.kind not in "iu":
            raise ValueError(
                f"{name} must be a (queries, k) array of corpus positions (integers), not {array.dtype} of shape "
                f"{array.shape}."
            )
        return [[int(p) for p in row if p >= 0] for row in array]  # faiss marks missing hits with -1
    if isinstance(hits, str) or not isinstance(hits, Sequence):
        raise TypeError(
            f"{name} must be util.semantic_search's list of hit lists or a (queries, k) array, "
            f"not {type(hits).__name__}."
        )
    rows = []
    for i, row in enumerate(hits):
        if isinstance(row, str) or not isinstance(row, Sequence):
            raise TypeError(f"{name}[{i}] must be a list of hits, not {type(row).__name__}.")
        positions = []
        for hit in row:
            if isinstance(hit, Mapping) and "corpus_id" in hit:
                positions.append(int(hit["corpus_id"]))
            elif isinstance(hit, int | np.integer) and not isinstance(hit, bool):
                positions.append(int(hit))
            else:
                raise TypeError(
                    f"{name}[{i}] holds {hit!r:.60}: a hit is a dict with 'corpus_id' (util.semantic_search) or an int."
                )
        rows.append(positions)
    return rows


def _check_ids(query_ids: Any, corpus_ids: Any) -> tuple[list[str], list[str]]:
    """The query and corpus ids as lists of unique strings."""
    query_ids, corpus_ids = check_texts(query_ids, name="query_ids"), check_texts(corpus_ids, name="corpus_ids")
    if len(set(corpus_ids)) != len(corpus_ids) or len(set(query_ids)) != len(query_ids):
        raise ValueError("query_ids and corpus_ids must each be unique: one id per query and per document.")
    return query_ids, corpus_ids


def _relevant_sets(relevant: Any, query_ids: list[str], corpus_ids: list[str], name: str) -> list[set[str]]:
    """Each query's set of relevant corpus ids, in the order of ``query_ids``; all of them in the corpus."""
    if not isinstance(relevant, Mapping):
        raise TypeError(f"{name} must be a dict {{query id: {{document id, ...}}}}, not {type(relevant).__name__}.")
    known = set(corpus_ids)
    sets = []
    for query_id in query_ids:
        found = relevant.get(query_id)
        if isinstance(found, str) or not found:
            raise ValueError(
                f"query {query_id!r} has no set of relevant documents in {name} (no relevant passage to find): give "
                "it one, or score only the queries that have one (InformationRetrievalEvaluator skips the others)."
            )
        missing = sorted(set(found) - known)
        if missing:
            raise ValueError(f"relevant documents {missing[:3]} of query {query_id!r} are not among corpus_ids.")
        sets.append(set(found))
    return sets


def reciprocal_ranks(
    hits: Any,
    query_ids: Sequence[str],
    corpus_ids: Sequence[str],
    relevant: Mapping[str, set[str]],
    k: int = 10,
) -> np.ndarray:
    """Each query's reciprocal rank at ``k``: 1/rank of its first relevant passage, 0 if none is in the top ``k``.

    Args:
        hits: per query, the ranked corpus positions: ``util.semantic_search``'s output (dicts with
            ``corpus_id``) or a ``(queries, k)`` integer array (a faiss index's ``search``).
        query_ids: the query ids, in the order of ``hits``.
        corpus_ids: the corpus ids, in the order of the corpus embeddings (position -> id).
        relevant: query id -> set of relevant corpus ids (``SearchSet.relevant``).
        k: only the first ``k`` hits count.

    Returns:
        A float array, one value per query: its mean is MRR@k, ``(rr == 1).mean()`` hit@1 and
        ``(rr > 0).mean()`` recall@k for one relevant passage per query.

    Raises:
        TypeError / ValueError: hits that are not a ranking, ids that are not unique strings, lengths that
            differ, a position outside the corpus, a query without relevant passages or with relevant ids
            outside the corpus, a non-positive ``k``.
    """
    check_positive("k", k)
    rows = _positions(hits, "hits")
    query_ids, corpus_ids = _check_ids(query_ids, corpus_ids)
    if len(rows) != len(query_ids):
        raise ValueError(f"hits has {len(rows)} rankings but there are {len(query_ids)} query_ids: pass them in order.")
    wanted_sets = _relevant_sets(relevant, query_ids, corpus_ids, "relevant")
    for i, row in enumerate(rows):
        outside = next((position for position in row[:k] if not 0 <= position < len(corpus_ids)), None)
        if outside is not None:
            raise ValueError(f"hits[{i}] names corpus position {outside}, but the corpus has {len(corpus_ids)}.")
    return _first_relevant(rows, corpus_ids, wanted_sets, k)


def _first_relevant(rows: Any, corpus_ids: list[str], wanted_sets: list[set[str]], k: int) -> np.ndarray:
    """1/rank of each row's first relevant id in its top ``k`` (0 if none), on checked inputs."""
    scores = np.zeros(len(rows))
    for i, (wanted, row) in enumerate(zip(wanted_sets, rows, strict=True)):
        for rank, position in enumerate(row[:k], start=1):
            if corpus_ids[position] in wanted:
                scores[i] = 1.0 / rank
                break
    return scores


def overlap_at_k(found: Any, exact: Any, k: int = 10) -> np.ndarray:
    """The share of each query's exact top ``k`` that another search also returned in its top ``k``.

    Args:
        found: the approximate (or quantized) search's rankings, as for :func:`reciprocal_ranks`.
        exact: exact search's rankings of the same queries (at least ``k`` hits each).
        k: how many hits count on each side.

    Returns:
        A float array in [0, 1], one value per query; its mean is recall@k against exact search.

    Raises:
        ValueError: different numbers of queries, or an exact ranking shorter than ``k``.
    """
    check_positive("k", k)
    approximate, truth = _positions(found, "found"), _positions(exact, "exact")
    if len(approximate) != len(truth):
        raise ValueError(f"found has {len(approximate)} queries and exact {len(truth)}: rank the same queries.")
    short = [i for i, row in enumerate(truth) if len(row) < k]
    if short:
        raise ValueError(f"exact ranking {short[0]} has fewer than k={k} hits: search exactly with top_k >= {k}.")
    return np.array([len(set(a[:k]) & set(t[:k])) / k for a, t in zip(approximate, truth, strict=True)])


RANKING_CUTOFFS = (1, 3, 5, 10)
"""The ``k`` of ``accuracy@k`` and ``recall@k``, as ``InformationRetrievalEvaluator``'s defaults."""


def ranking_metrics(
    similarity: Any,
    query_ids: Sequence[str],
    corpus_ids: Sequence[str],
    relevant_docs: Mapping[str, Any],
    *,
    k: int = 10,
    cutoffs: Sequence[int] = RANKING_CUTOFFS,
) -> dict[str, Any]:
    """Per-query retrieval scores, the ones ``InformationRetrievalEvaluator`` averages.

    The evaluator reports only means; a paired comparison of two models (:func:`stutor.stats.compare`)
    needs one score per query. Each query ranks the corpus by similarity (ties broken by document
    id, as the evaluator does) and gets: ``mrr@k`` (1 / rank of the first relevant document in the
    top k, else 0), ``ndcg@k``, and for each cutoff c ``accuracy@c`` (1 if a relevant document is in
    the top c) and ``recall@c`` (the share of its relevant documents in the top c). The means equal
    the evaluator's ``cosine_mrr@10``, ``cosine_ndcg@10``, ``cosine_accuracy@1``, ... on the same
    similarities.

    Taught in: notebook 08 (and 09 through the evaluator it mirrors).

    Args:
        similarity: a (queries, corpus) matrix, e.g. ``model.similarity(query_vectors, corpus_vectors)``.
        query_ids: the id of each row.
        corpus_ids: the id of each column.
        relevant_docs: ``{query id: {document id, ...}}``, a non-empty set for every query.
        k: the cutoff of ``mrr@k`` and ``ndcg@k``.
        cutoffs: the cutoffs of ``accuracy@c`` and ``recall@c``.

    Returns:
        ``{metric name: numpy array with one score per query}``, in the order of ``query_ids``.

    Raises:
        TypeError / ValueError: a similarity that is no 2-d matrix of numbers, ids that do not match its
            shape or repeat, a query without relevant documents, a relevant id not in the corpus, or
            cutoffs that are not positive integers.
    """
    scores = as_tensor("similarity", similarity, ("queries", "corpus")).detach().cpu().double().numpy()
    query_ids, corpus_ids = _check_ids(query_ids, corpus_ids)
    if scores.shape != (len(query_ids), len(corpus_ids)):
        raise ValueError(
            f"similarity has shape {scores.shape} but there are {len(query_ids)} query ids and {len(corpus_ids)} "
            "corpus ids: one row per query and one column per document."
        )
    check_positive("k", k)
    cutoffs = list(cutoffs) if isinstance(cutoffs, Sequence) and not isinstance(cutoffs, str) else cutoffs
    if not isinstance(cutoffs, list) or not cutoffs:
        raise TypeError(
            f"cutoffs must be a non-empty list of positive integers such as (1, 3, 5, 10), not {cutoffs!r}."
        )
    for cutoff in cutoffs:
        check_positive("cutoffs", cutoff)
    relevant = _relevant_sets(relevant_docs, query_ids, corpus_ids, "relevant_docs")
    order_by_id = np.argsort(np.argsort(np.array(corpus_ids, dtype=object)))  # rank of each id, for ties
    deepest = max(k, *cutoffs)
    results: dict[str, list[float]] = {f"accuracy@{c}": [] for c in cutoffs}
    results |= {f"recall@{c}": [] for c in cutoffs}
    results |= {f"ndcg@{k}": []}
    rankings = np.stack([np.lexsort((order_by_id, -row))[:deepest] for row in scores])  # by score, then by id
    for ranking, wanted in zip(rankings, relevant, strict=True):
        hits = [corpus_ids[j] in wanted for j in ranking]
        for c in cutoffs:
            results[f"accuracy@{c}"].append(float(any(hits[:c])))
            results[f"recall@{c}"].append(sum(hits[:c]) / len(wanted))
        dcg = sum(1.0 / math.log2(rank + 2) for rank, hit in enumerate(hits[:k]) if hit)
        ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(wanted), k)))
        results[f"ndcg@{k}"].append(dcg / ideal)
    metrics = {name: np.array(values) for name, values in results.items()}
    return metrics | {f"mrr@{k}": _first_relevant(rankings, corpus_ids, relevant, k)}  # as reciprocal_ranks
