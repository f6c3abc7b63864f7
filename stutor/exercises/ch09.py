"""Exercises of notebook 09: semantic search, measured (MRR@5, an HNSW index, how far to truncate)."""

from __future__ import annotations

from typing import Any

from stutor.exercises.answers import as_float, as_int
from stutor.exercises.registry import exercise, hint

WIDTHS = (32, 64, 128, 192, 256)
"""The truncation widths exercise 09.3 chooses from."""


def _embeddings(query_embeddings: Any, corpus_embeddings: Any, search_set: Any = None):
    """The two embedding matrices as float tensors, checked against each other and the search set."""
    from stutor.checks import as_tensor

    try:
        queries = as_tensor("queries", query_embeddings, ("queries", "dim"))
        corpus = as_tensor("corpus", corpus_embeddings, ("passages", "dim"))
    except (TypeError, ValueError) as error:
        hint(str(error))
    if queries.shape[1] != corpus.shape[1]:
        hint(f"the queries have {queries.shape[1]} dimensions and the corpus {corpus.shape[1]}: use one model.")
    if search_set is not None:
        from stutor.data import SearchSet

        if not isinstance(search_set, SearchSet):
            hint(f"pass search_set=data.load_search_set('test') (a SearchSet), not {type(search_set).__name__}.")
        for name, tensor, ids in (("query", queries, search_set.queries), ("corpus", corpus, search_set.corpus)):
            if tensor.shape[0] != len(ids):
                hint(
                    f"the {name} embeddings have {tensor.shape[0]} rows but search_set has {len(ids)}: "
                    "encode them all, in order."
                )
    return queries, corpus


def _reciprocal_ranks(queries: Any, corpus: Any, search_set: Any, *ks: int) -> list:
    """One exact search (top 10) of the queries; its reciprocal ranks at each cut-off in ``ks``."""
    from sentence_transformers import util

    from stutor.retrieval import reciprocal_ranks

    hits = util.semantic_search(queries, corpus, top_k=10)
    ids = list(search_set.queries), list(search_set.corpus)
    return [reciprocal_ranks(hits, *ids, search_set.relevant, k=k) for k in ks]


@exercise("09.1", "Compute MRR@5 of the bi-encoder on the test questions (a float).")
def mrr_at_5(answer: Any, queries: Any, corpus: Any, search_set: Any) -> str:
    value = as_float(answer, "MRR@5")
    queries, corpus = _embeddings(queries, corpus, search_set)
    at_5, at_10 = _reciprocal_ranks(queries, corpus, search_set, 5, 10)
    candidates = {
        "right": at_5.mean(),
        "MRR@10": at_10.mean(),
        "Recall@5": (at_5 > 0).mean(),
        "hit@1": (at_5 == 1).mean(),
    }
    nearest = min(candidates, key=lambda name: abs(value - float(candidates[name])))
    if abs(value - float(candidates[nearest])) <= 1e-3:
        if nearest == "right":
            return (
                f"MRR@5 {at_5.mean():.3f} against MRR@10 {at_10.mean():.3f}: a cut-off can only lower MRR, "
                "since an answer ranked below 5 then scores 0 instead of 1/rank."
            )
        hint(
            {
                "MRR@10": "that is MRR@10: only the first 5 hits may count.",
                "Recall@5": "that counts an answer anywhere in the top 5 as 1 (Recall@5); MRR gives it 1/rank.",
                "hit@1": "that counts only answers ranked first (hit@1); MRR gives an answer at rank r the score 1/r.",
            }[nearest]
        )
    hint("per question, 1/rank of its relevant passage within the top 5 (0 if it is not there), then the mean.")


@exercise("09.2", "Build a faiss HNSW index over the corpus embeddings that finds 95% of the exact top 10.")
def hnsw_index(answer: Any, queries: Any, corpus: Any) -> str:
    import faiss
    import numpy as np
    import torch

    from stutor.retrieval import overlap_at_k

    if not isinstance(answer, faiss.Index):
        hint(f"the answer is a faiss index (faiss.IndexHNSWFlat(...)), not {type(answer).__name__}.")
    if not isinstance(answer, faiss.IndexHNSW):
        hint(f"{type(answer).__name__} is not an HNSW graph index: build a faiss.IndexHNSWFlat.")
    queries, corpus = _embeddings(queries, corpus)
    if answer.d != corpus.shape[1]:
        hint(f"the index holds {answer.d}-dimensional vectors, the embeddings have {corpus.shape[1]}.")
    if answer.ntotal != corpus.shape[0]:
        hint(f"the index holds {answer.ntotal} vectors but the corpus has {corpus.shape[0]}: add every passage once.")
    exact = torch.topk(
        torch.nn.functional.normalize(queries) @ torch.nn.functional.normalize(corpus).T, 10
    ).indices.numpy()
    found = answer.search(np.ascontiguousarray(queries.numpy(), dtype=np.float32), 10)[1]
    recall = float(overlap_at_k(found, exact).mean())
    if recall < 0.95:
        hint(
            f"it finds {recall:.1%} of the exact top 10: keep more candidates during the walk "
            "(index.hnsw.efSearch) or link more neighbours (M)."
        )
    metric = "inner product" if answer.metric_type == faiss.METRIC_INNER_PRODUCT else "L2"
    return (
        f"recall@10 against exact search {recall:.3f} with {metric} at efSearch={answer.hnsw.efSearch}. On unit "
        "vectors L2 and inner product rank alike (|a - b|^2 = 2 - 2 a.b); on unnormalised ones they do not."
    )


@exercise("09.3", "Find the smallest truncation width with no measurable MRR@10 difference from all dimensions.")
def smallest_width(answer: Any, queries: Any, corpus: Any, search_set: Any) -> str:
    from stutor.stats import compare

    width = as_int(answer, "a number of dimensions")
    if width not in WIDTHS:
        hint(f"choose one of {WIDTHS}.")
    queries, corpus = _embeddings(queries, corpus, search_set)
    (full,) = _reciprocal_ranks(queries, corpus, search_set, 10)
    results = {w: compare(full, *_reciprocal_ranks(queries[:, :w], corpus[:, :w], search_set, 10)) for w in WIDTHS}
    alike = [w for w in WIDTHS if not results[w].measurable]
    if not alike:  # pragma: no cover - depends on the model; the course's model has one
        return "every width loses measurably against all dimensions: this model keeps no short prefix."
    if width == alike[0]:
        result = results[width]
        return (
            f"{width} dimensions: MRR@10 {result.mean_b:.3f} against {result.mean_a:.3f}, interval "
            f"[{result.low:+.3f}, {result.high:+.3f}] includes zero; that is not proof of no loss, "
            "only of none measured."
        )
    if width in alike:
        hint("that width shows no measurable difference, but a smaller one does too.")
    hint(
        f"at {width} dimensions the interval of the MRR@10 difference excludes zero: compare each width with "
        "stats.compare(full, truncated) and keep the smallest whose verdict says no measurable difference."
    )
