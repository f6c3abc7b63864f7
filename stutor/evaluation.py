"""How good is a sentence embedding? Spearman correlation on scored sentence pairs (STS).

Each pair of sentences has a gold similarity score given by people. A sentence-embedding method
is good when the cosine similarity of its two vectors ranks the pairs the way the gold scores
do: the Spearman rank correlation (reported ×100, as in the literature).

Four methods are compared, all on the same transformer:

- ``avg_word_embeddings``: average of the model's *input* word embeddings (a lookup table, no
  context at all), the analogue of averaged GloVe vectors;
- ``cls``: the transformer output at the first token (``[CLS]`` / ``<s>``);
- ``mean``: the transformer output averaged over the real tokens;
- ``sentence_transformer``: the complete model's output, what ``encode`` returns (its own pooling
  and normalisation).

Scores of a search, per query, are :mod:`stutor.retrieval`'s.

Taught in: notebook 03.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import torch

from stutor.checks import as_dataset, as_tensor, check_non_negative_int, check_positive, check_texts, to_list
from stutor.layers import masked_mean_pooling

METHODS: dict[str, str] = {
    "avg_word_embeddings": "avg. input word embeddings (no context)",
    "cls": "CLS token of the output",
    "mean": "mean of the output tokens",
    "sentence_transformer": "the complete Sentence Transformer",
}
"""Method name -> what it computes."""

SBERT_PAPER_SOURCE = "Reimers & Gurevych (2019), Sentence-BERT, Table 1: STS benchmark (test), Spearman x 100"
SBERT_PAPER_STSB: dict[str, tuple[str, float]] = {
    "avg_word_embeddings": ("Avg. GloVe embeddings", 58.02),
    "cls": ("BERT CLS-vector", 16.50),
    "mean": ("Avg. BERT embeddings", 46.35),
    "sentence_transformer": ("SBERT-NLI-base", 77.03),
}
"""Published figures quoted from the SBERT paper (BERT-base), keyed by the method they correspond to.

``avg_word_embeddings`` is only an analogue of averaged GloVe vectors: both are static word vectors
without context, but they are not the same vectors."""

MINILM_STSB_PUBLISHED = 82.03
"""Published STS-benchmark test Spearman (x100) of all-MiniLM-L6-v2 (MTEB STSBenchmark)."""

STSB_SCORE_RANGE = (0.0, 5.0)
"""Gold scores of the STS benchmark TSV files and of the bundled pairs. ``sentence-transformers/stsb`` uses 0-1."""


def _check_range(score_range: Sequence[float]) -> tuple[float, float]:
    if (
        not isinstance(score_range, Sequence)
        or len(score_range) != 2
        or not all(isinstance(v, Real) and not isinstance(v, bool) for v in score_range)
        or not score_range[0] < score_range[1]
    ):
        raise ValueError(f"score_range must be (low, high) with low < high, e.g. (0, 5); got {score_range!r}.")
    return float(score_range[0]), float(score_range[1])


def check_scored_pairs(
    sentences1: Sequence[str],
    sentences2: Sequence[str],
    scores: Sequence[float],
    *,
    score_range: Sequence[float] = STSB_SCORE_RANGE,
) -> tuple[list[str], list[str], list[float]]:
    """Validate scored sentence pairs before any model work.

    Args:
        sentences1: first sentence of each pair.
        sentences2: second sentence of each pair.
        scores: gold similarity of each pair.
        score_range: the declared (low, high) range of the gold scores.

    Returns:
        The three columns as plain lists, scores as floats.

    Raises:
        TypeError: a sentence that is not a string, or a score that is not a number.
        ValueError: empty inputs, columns of different lengths, a NaN or out-of-range score,
            or gold scores that are all equal (a rank correlation is then undefined).
    """
    low, high = _check_range(score_range)
    first = check_texts(sentences1, name="sentences1")
    second = check_texts(sentences2, name="sentences2")
    scores = to_list(scores)
    if isinstance(scores, str) or not isinstance(scores, Sequence):
        raise TypeError(f"scores must be a list of numbers, not {type(scores).__name__}.")
    gold = list(scores)
    if not len(first) == len(second) == len(gold):
        raise ValueError(
            f"sentences1 has {len(first)} items, sentences2 {len(second)} and scores {len(gold)}: "
            "each pair needs exactly one first sentence, one second sentence and one score."
        )
    values = []
    for index, score in enumerate(gold):
        if isinstance(score, bool) or not isinstance(score, Real):
            raise TypeError(
                f"scores[{index}] is {score!r} ({type(score).__name__}), not a number: convert it with float()."
            )
        value = float(score)
        if math.isnan(value):
            raise ValueError(f"scores[{index}] is NaN: remove that pair or give it a score.")
        if not low <= value <= high:
            hint = " (sentence-transformers/stsb scores are 0-1: pass score_range=(0, 1))" if value <= 1 else ""
            raise ValueError(
                f"scores[{index}] is {value}, outside the declared range {low:g}-{high:g}{hint}. "
                "Fix the score or declare the right score_range."
            )
        values.append(value)
    if len(set(values)) < 2:
        raise ValueError(
            "All gold scores are equal, so no ranking exists and the Spearman correlation is undefined: "
            "use pairs with different scores."
        )
    return first, second, values


def _check_methods(methods: Sequence[str] | None) -> list[str]:
    if methods is None:
        return list(METHODS)
    if isinstance(methods, str):
        methods = [methods]
    if not isinstance(methods, Sequence):
        raise TypeError(
            f"methods must be a method name or a list of them, not {type(methods).__name__}: {list(METHODS)}."
        )
    chosen = list(methods)
    if not chosen:
        raise ValueError(f"methods is empty: choose one or more of {list(METHODS)}.")
    for method in chosen:
        if method not in METHODS:
            raise ValueError(f"Unknown method {method!r}. Valid methods are: {list(METHODS)}.")
    return list(dict.fromkeys(chosen))


def _transformer_of(model):
    from sentence_transformers.base.modules.transformer import Transformer

    if isinstance(model, Transformer):
        return model
    try:
        first = model[0]
    except (TypeError, IndexError, KeyError):
        first = None
    if not isinstance(first, Transformer):
        raise TypeError(
            "The STS methods need a SentenceTransformer whose first module is a Transformer; "
            f"got {type(model).__name__}. Build one with stutor.models.build_sentence_transformer(...)."
        )
    return first


def _forward_methods(model, texts: list[str], methods: list[str], batch_size: int) -> dict[str, torch.Tensor]:
    """Embeddings of ``texts`` for ``methods``, with at most one transformer pass per batch.

    The complete model's forward pass returns the Transformer's ``token_embeddings`` next to the
    final ``sentence_embedding``, so CLS, mean and the Sentence Transformer share one pass.
    """
    transformer = _transformer_of(model)
    full = "sentence_transformer" in methods
    if full and transformer is model:
        raise TypeError(
            "'sentence_transformer' needs the complete SentenceTransformer, not only its Transformer module."
        )
    network = model if full else transformer
    special = torch.tensor(sorted(set(transformer.tokenizer.all_special_ids)))
    lookup = transformer.auto_model.get_input_embeddings()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths batch with little padding
    out: dict[str, list[torch.Tensor]] = {m: [] for m in methods}
    was_training = network.training
    network.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                features = transformer.preprocess([texts[i] for i in order[start : start + batch_size]])
                mask = features["attention_mask"]
                if "avg_word_embeddings" in methods:
                    words = mask.bool() & ~torch.isin(features["input_ids"], special)
                    out["avg_word_embeddings"].append(masked_mean_pooling(lookup(features["input_ids"]), words.long()))
                if {"cls", "mean", "sentence_transformer"} & set(methods):
                    output = network(dict(features))
                    tokens = output["token_embeddings"]
                    if "cls" in methods:
                        out["cls"].append(tokens[:, 0])
                    if "mean" in methods:
                        out["mean"].append(masked_mean_pooling(tokens, mask))
                    if full:
                        out["sentence_transformer"].append(output["sentence_embedding"])
    finally:
        network.train(was_training)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.tensor(order)] = torch.arange(len(order))
    return {m: torch.cat(chunks)[inverse] for m, chunks in out.items()}


def embed(model, texts: Sequence[str], methods: Sequence[str] | str | None = None, *, batch_size: int = 32):
    """Sentence embeddings of ``texts`` by one or more methods.

    Args:
        model: a ``SentenceTransformer`` whose first module is a ``Transformer``.
        texts: non-empty list of strings.
        methods: names from :data:`METHODS`; None for all.
        batch_size: texts per forward pass.

    Returns:
        ``{method: (len(texts), dim) tensor}``. ``"sentence_transformer"`` is the model's own
        output (what ``encode`` returns); the other methods read inside the same forward pass.

    Raises:
        ValueError: an unknown method (the message lists the valid ones) or empty texts.
        TypeError: a model that lacks what the method needs.
    """
    chosen = _check_methods(methods)
    texts = check_texts(texts)
    check_positive("batch_size", batch_size)
    return _forward_methods(model, texts, chosen, batch_size)


def spearman_cosine(embeddings1: Any, embeddings2: Any, scores: Sequence[float] | Any) -> float:
    """Spearman correlation (×100) between the pairs' cosine similarities and their gold scores.

    Args:
        embeddings1: (pairs, dim) first sentences: a torch tensor, a numpy array or nested lists.
        embeddings2: (pairs, dim) second sentences, of the same shape.
        scores: gold score of each pair (a list, numpy array or tensor).

    Returns:
        The rank correlation times 100, between -100 and 100.

    Raises:
        TypeError: not numbers.
        ValueError: shapes that disagree (all three are named), fewer than two pairs, NaN/inf,
            or gold scores that are all equal (the correlation is then undefined).
    """
    from scipy.stats import spearmanr

    first = as_tensor("embeddings1", embeddings1, ("pairs", "dim"))
    second = as_tensor("embeddings2", embeddings2, ("pairs", "dim"))
    gold = as_tensor("scores", scores, ("pairs",))
    if first.shape != second.shape or first.shape[0] != len(gold):
        raise ValueError(
            f"Shapes disagree: {tuple(first.shape)}, {tuple(second.shape)} and {len(gold)} scores; "
            "pass one embedding per sentence and one score per pair."
        )
    if len(gold) < 2 or bool((gold == gold[0]).all()):
        raise ValueError(
            f"{len(gold)} pair(s) with {'equal ' if len(gold) > 1 else ''}gold scores: a rank correlation needs at "
            "least two pairs with different scores."
        )
    cosine = torch.nn.functional.cosine_similarity(first.double().cpu(), second.double().cpu(), dim=1)
    return 100.0 * float(spearmanr(cosine.numpy(), gold.double().cpu().numpy()).statistic)


@dataclass(frozen=True)
class MethodScore:
    """One row of an STS evaluation.

    Attributes:
        model: the model's short name.
        method: a key of :data:`METHODS`.
        spearman: Spearman correlation ×100.
    """

    model: str
    method: str
    spearman: float


@dataclass(frozen=True)
class STSResult:
    """The scores of several methods on one set of scored pairs.

    Attributes:
        data: what was evaluated (for the table title).
        n_pairs: number of pairs.
        rows: one :class:`MethodScore` per (model, method).
    """

    data: str
    n_pairs: int
    rows: tuple[MethodScore, ...]

    def score(self, method: str, model: str | None = None) -> float:
        """The Spearman ×100 of ``method`` (of ``model`` when several models were evaluated)."""
        _check_methods([method])
        for row in self.rows:
            if row.method == method and (model is None or row.model == model):
                return row.spearman
        raise KeyError(f"No row for method {method!r}{'' if model is None else f' of {model!r}'} in this result.")

    def __add__(self, other: STSResult) -> STSResult:
        if not isinstance(other, STSResult) or (other.data, other.n_pairs) != (self.data, self.n_pairs):
            raise ValueError("Only results on the same scored pairs can be combined into one table.")
        return STSResult(self.data, self.n_pairs, self.rows + other.rows)

    def table(self, *, published: bool = True, digits: int = 1) -> str:
        """The measured rows as a text table; with ``published``, the SBERT paper's figures follow as a separate table.

        The two are never mixed row by row: the quoted figures come from other models (raw BERT-base,
        GloVe) and are labelled as quoted (see :func:`quoted_table`).
        """
        check_non_negative_int("digits", digits)
        width = max(len(row.model) for row in self.rows)
        lines = [
            f"Measured here on {self.data}: {self.n_pairs} pairs, Spearman x 100 of cosine vs gold score",
            f"{'model':<{width}}  {'method':<40} {'Spearman':>8}",
        ]
        lines += [f"{row.model:<{width}}  {METHODS[row.method]:<40} {row.spearman:>8.{digits}f}" for row in self.rows]
        text = "\n".join(lines)
        return text + "\n\n" + quoted_table() if published else text

    def __str__(self) -> str:
        return self.table()

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def quoted_table(methods: Sequence[str] | str | None = None) -> str:
    """The SBERT paper's STS-benchmark figures as their own table, labelled as quoted.

    Notebook 03 prints it apart from what it measures: the paper's rows are raw BERT-base (CLS,
    averaged outputs), averaged GloVe vectors and SBERT-NLI-base, not the models evaluated here.

    Args:
        methods: names from :data:`METHODS` whose corresponding paper rows to list; None for all four.

    Returns:
        The table as text, its first line naming the source (:data:`SBERT_PAPER_SOURCE`).

    Raises:
        ValueError: an unknown method (the message lists the valid ones).
    """
    chosen = _check_methods(methods)
    lines = [f"Quoted, not measured here: {SBERT_PAPER_SOURCE}", f"{'method in the paper':<24} {'Spearman':>8}"]
    lines += [f"{SBERT_PAPER_STSB[m][0]:<24} {SBERT_PAPER_STSB[m][1]:>8.2f}" for m in chosen]
    return "\n".join(lines)


def _columns(pairs: Mapping[str, Sequence[Any]] | Any) -> tuple[Sequence[str], Sequence[str], Sequence[Any]]:
    rows = isinstance(pairs, Sequence) and not isinstance(pairs, str | bytes) and bool(pairs)
    if type(pairs).__name__ == "DataFrame" or (rows and isinstance(pairs[0], Mapping)):
        pairs = as_dataset(pairs, "pairs")  # a list of row dicts or a pandas DataFrame
    names = getattr(pairs, "column_names", None) or (list(pairs) if isinstance(pairs, Mapping) else None)
    if names is None:
        raise TypeError(
            f"pairs must be a datasets.Dataset or a dict of columns (or a list of row dicts, or a pandas DataFrame), "
            f"not {type(pairs).__name__}: "
            "use stutor.data.load_sts_pairs(), stutor.data.load_stsb() or stutor.sources.read_stsb_tsv()."
        )
    missing = {"sentence1", "sentence2", "score"} - set(names)
    if missing:
        raise ValueError(f"pairs has columns {list(names)}; it needs sentence1, sentence2 and score.")
    return list(pairs["sentence1"]), list(pairs["sentence2"]), list(pairs["score"])


def evaluate_sts(
    model,
    pairs: Mapping[str, Sequence[Any]] | Any,
    *,
    methods: Sequence[str] | str | None = None,
    score_range: Sequence[float] = STSB_SCORE_RANGE,
    model_name: str | None = None,
    data_name: str = "scored pairs",
    batch_size: int = 32,
) -> STSResult:
    """Score sentence-embedding methods of one model on scored pairs.

    Args:
        model: a ``SentenceTransformer`` whose first module is a ``Transformer``.
        pairs: a ``Dataset`` or dict with ``sentence1``, ``sentence2``, ``score`` columns.
        methods: names from :data:`METHODS`; None for all four.
        score_range: the declared range of the gold scores: (0, 5) for STS-benchmark files and
            the bundled pairs, (0, 1) for ``sentence-transformers/stsb``.
        model_name: label for the table (defaults to the model folder's name).
        data_name: label of the data for the table title.
        batch_size: texts per forward pass.

    Returns:
        An :class:`STSResult` (print it for the table).

    Raises:
        ValueError / TypeError: bad pairs, scores, range or method, before any model work.

    Example:
        >>> result = evaluate_sts(model, stutor.data.load_sts_pairs())  # doctest: +SKIP
        >>> result.score("sentence_transformer")  # doctest: +SKIP
    """
    chosen = _check_methods(methods)
    first, second, gold = check_scored_pairs(*_columns(pairs), score_range=score_range)
    _transformer_of(model)
    if model_name is not None and (not isinstance(model_name, str) or not model_name.strip()):
        raise TypeError(f"model_name must be a non-empty string (the table's label) or None, not {model_name!r}.")
    if not isinstance(data_name, str):
        raise TypeError(f"data_name must be a string (the table's title), not {type(data_name).__name__}.")
    check_positive("batch_size", batch_size)
    unique = list(dict.fromkeys(first + second))
    position = {text: i for i, text in enumerate(unique)}
    index1 = torch.tensor([position[t] for t in first])
    index2 = torch.tensor([position[t] for t in second])
    vectors = embed(model, unique, chosen, batch_size=batch_size)
    name = model_name or _model_name(model)
    rows = tuple(MethodScore(name, m, spearman_cosine(v[index1], v[index2], gold)) for m, v in vectors.items())
    return STSResult(data_name, len(gold), rows)


def _model_name(model) -> str:
    try:
        path = _transformer_of(model).auto_model.config.name_or_path
    except TypeError:
        return type(model).__name__
    from stutor.models import EMBEDDED_NAME, embedded_model_path

    try:
        if Path(path).resolve() == embedded_model_path().resolve():
            return EMBEDDED_NAME
    except (ImportError, OSError):  # pragma: no cover - the embedded package is a hard dependency
        pass
    return Path(path).name or str(path)
