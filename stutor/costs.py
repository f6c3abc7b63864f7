"""What it costs to find the most similar pair of sentences: a cross-encoder against a bi-encoder.

A cross-encoder reads both sentences of a pair together, so finding the best pair among ``n``
sentences needs one forward pass per pair: ``n(n-1)/2`` of them. A bi-encoder (a Sentence
Transformer) encodes each sentence once (``n`` forward passes) and then compares the vectors with
one matrix product. This module times both on the machine at hand for a few small ``n``, keeps the
sizes on which the rate has levelled off (:func:`settled`), extrapolates to large ``n`` from those
rates and the known counts, and checks the extrapolation against an independent measurement on
random pairs of a much larger collection (:func:`time_pair_sample`). :func:`time_passes` measures
what one forward pass of a sentence and of a pair cost at a given batch size: their ratio,
times ``(n-1)/2``, makes the cost ratio.

Taught in: notebook 03.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from stutor import runtime
from stutor.checks import (
    as_tensor,
    check_fraction,
    check_non_negative_int,
    check_positive,
    check_seed,
    check_texts,
)

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import CrossEncoder
    from sentence_transformers.sentence_transformer import SentenceTransformer

    from stutor.models import ModelChoice

REFERENCE_N = 10_000
"""The collection size of the reference claim: 10,000 sentences, about 50 million pairs."""


@dataclass(frozen=True)
class ReferenceClaim:
    """A published cost figure, quoted (not measured here).

    Attributes:
        n: number of sentences searched for the most similar pair.
        cross_encoder_seconds: time quoted for the cross-encoder (BERT on every pair).
        bi_encoder_seconds: time quoted for the bi-encoder (a Sentence Transformer).
        setting: hardware and model of the published figure.
        source: where the figure was published.
    """

    n: int
    cross_encoder_seconds: float
    bi_encoder_seconds: float
    setting: str
    source: str

    @property
    def ratio(self) -> float:
        """How many times slower the cross-encoder was, by the quoted figures."""
        return self.cross_encoder_seconds / self.bi_encoder_seconds

    @property
    def pass_factor(self) -> float:
        """What one pair pass cost in sentence passes, implied by the quoted figures: ratio / ((n-1)/2).

        The quoted ratio is ``n(n-1)/2`` pair passes against ``n`` sentence passes, so dividing it by the
        count factor ``(n-1)/2`` leaves the cost of a pair pass over that of a sentence pass in that setting.
        """
        return self.ratio / ((self.n - 1) / 2)

    def __str__(self) -> str:
        return "\n".join(
            [
                f"Quoted, not measured here ({self.setting}), n = {self.n:,} sentences:",
                f"  cross-encoder {_duration(self.cross_encoder_seconds)}, bi-encoder "
                f"{_duration(self.bi_encoder_seconds)}, ratio {self.ratio:,.0f}x",
                f"  source: {self.source}",
            ]
        )

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


REFERENCE_CLAIM = ReferenceClaim(
    n=REFERENCE_N,
    cross_encoder_seconds=65 * 3600.0,
    bi_encoder_seconds=5.0,
    setting="one V100 GPU, BERT-base",
    source="Reimers & Gurevych (2019), Sentence-BERT, abstract (quoted by the reference tutorial)",
)
"""The reference tutorial's figures: ~65 hours against ~5 seconds for 10,000 sentences."""


@dataclass(frozen=True)
class QuotedModelSize:
    """A model's published size, quoted (not read from a config here); notebook 03 prints it beside the configs.

    Attributes:
        name: the model.
        layers: number of transformer layers.
        hidden_size: width of each token vector.
        source: where the figures were published.
    """

    name: str
    layers: int
    hidden_size: int
    source: str

    def __str__(self) -> str:
        return f"{self.name} (quoted): {self.layers} layers, hidden size {self.hidden_size}; source: {self.source}"


BERT_BASE_SIZE = QuotedModelSize(
    name="BERT-base",
    layers=12,
    hidden_size=768,
    source="Devlin et al. (2019), BERT, Section 3 (BERT-base: L=12, H=768, A=12, 110M parameters)",
)
"""The model of the reference's cost figures (notebook 03 compares it with the configs it reads)."""


def pair_count(n: int) -> int:
    """Number of unordered pairs among ``n`` sentences: ``n(n-1)/2``.

    Args:
        n: number of sentences (a non-negative integer).

    Returns:
        The number of pairs a cross-encoder must score to find the most similar one.

    Example:
        >>> pair_count(10_000)
        49995000
    """
    check_non_negative_int("n", n, what="a number of sentences")
    return n * (n - 1) // 2


@dataclass(frozen=True)
class Timing:
    """One measured search for the most similar pair among ``n`` sentences.

    Attributes:
        architecture: ``"cross-encoder"``, ``"bi-encoder"`` or ``"similarity-search"`` (the
            bi-encoder's search step alone, on random vectors).
        n: number of sentences.
        forward_passes: pairs scored (cross-encoder) or sentences encoded (bi-encoder).
        seconds: wall time of the whole search.
        search_seconds: the part spent on the similarity matrix and finding the best pair
            (bi-encoder only; 0 for the cross-encoder, whose forward passes are the search).
    """

    architecture: str
    n: int
    forward_passes: int
    seconds: float
    search_seconds: float = 0.0

    @property
    def forward_seconds(self) -> float:
        """Seconds spent in forward passes of the transformer."""
        return self.seconds - self.search_seconds


def check_n_values(n_values: Sequence[int], *, name: str = "n_values") -> list[int]:
    """Validate the collection sizes to measure: at least two different integers, each >= 2.

    Args:
        n_values: the sizes, e.g. ``[4, 8, 16]``.
        name: how the argument is called in error messages.

    Returns:
        The sizes as a sorted list without duplicates.

    Raises:
        TypeError: not a list of integers.
        ValueError: fewer than two different sizes, or a size below 2.
    """
    if isinstance(n_values, str | bytes) or not isinstance(n_values, Sequence):
        raise TypeError(f"{name} must be a list of integers such as [4, 8, 16], not {type(n_values).__name__}.")
    for value in n_values:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} holds {value!r} ({type(value).__name__}); every size must be an int.")
        if value < 2:
            raise ValueError(
                f"{name} holds {value}: a pair needs at least 2 sentences, so every size must be >= 2 "
                "(use sizes such as [4, 8, 16])."
            )
    sizes = sorted(set(n_values))
    if len(sizes) < 2:
        raise ValueError(
            f"{name} is {list(n_values)}: fitting a rate and seeing growth needs at least two different "
            "sizes, e.g. [4, 8, 16]."
        )
    return sizes


def _check_pool(sentences: Sequence[str], sizes: list[int]) -> list[str]:
    pool = check_texts(sentences, name="sentences")
    if len(pool) < sizes[-1]:
        raise ValueError(
            f"Measuring n={sizes[-1]} needs {sizes[-1]} sentences, but only {len(pool)} were given: "
            "pass more sentences (stutor.data.all_sentences() has over 1,000) or smaller sizes."
        )
    return pool


def build_cross_encoder(model: ModelChoice | str, *, max_length: int | None = None) -> CrossEncoder:
    """Build a cross-encoder on the same transformer as the bi-encoder, for timing only.

    Its regression head (one output) is newly initialised, so its scores mean nothing; the
    cost of a forward pass does not depend on that.

    Args:
        model: a :class:`~stutor.models.ModelChoice`, a Hub name or a local model folder.
        max_length: optional cap on tokens per pair.

    Returns:
        ``sentence_transformers.CrossEncoder`` on the CPU with ``num_labels=1``.
    """
    from sentence_transformers import CrossEncoder

    from stutor.models import ModelChoice

    name_or_path = model.name_or_path if isinstance(model, ModelChoice) else model
    if not isinstance(name_or_path, str) or not name_or_path.strip():
        raise TypeError(f"model must be a ModelChoice, a Hub name or a model folder, not {model!r}.")
    runtime.configure()
    return CrossEncoder(name_or_path, num_labels=1, max_length=max_length, device="cpu")


def best_pair(embeddings: Any) -> tuple[int, int, float]:
    """Find the most similar pair by cosine similarity: one matrix product and one argmax.

    Args:
        embeddings: (n, dim), n >= 2: a torch tensor, a numpy array or nested lists of numbers.

    Returns:
        ``(i, j, cosine)`` with ``i < j``.

    Raises:
        TypeError: not numbers.
        ValueError: another shape (it is named), fewer than 2 rows, NaN or inf.
    """
    vectors = as_tensor("embeddings", embeddings, ("n", "dim"))
    if vectors.shape[0] < 2:
        raise ValueError(f"embeddings must have shape (n >= 2, dim), not {tuple(vectors.shape)}: a pair needs 2 rows.")
    unit = torch.nn.functional.normalize(vectors, dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(float("-inf"))  # a sentence does not pair with itself
    i, j = sorted(divmod(similarity.argmax().item(), similarity.shape[0]))
    return i, j, similarity[i, j].item()


def _memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def _check_fits_in_memory(n: int, dim: int) -> None:
    """Refuse a similarity search whose float32 matrices (n x n and n x dim) exceed this machine's memory."""
    memory = _memory_bytes()
    needed = 4 * (n * n + 2 * n * dim)
    if memory is not None and needed > memory:
        largest = int((memory / 4) ** 0.5)
        raise ValueError(
            f"n={n} with dim={dim} needs {needed / 1e9:,.1f} GB of float32 matrices (an n x n similarity matrix), "
            f"more than this machine's {memory / 1e9:,.1f} GB: use sizes up to about {largest:,}."
        )


def time_cross_encoder(
    cross_encoder: CrossEncoder,
    sentences: Sequence[str],
    n_values: Sequence[int],
    *,
    batch_size: int = 32,
) -> list[Timing]:
    """Time a cross-encoder finding the best pair among the first ``n`` sentences, for each ``n``.

    Args:
        cross_encoder: a ``sentence_transformers.CrossEncoder`` (see :func:`build_cross_encoder`).
        sentences: at least ``max(n_values)`` sentences.
        n_values: two or more sizes, each >= 2. Keep them small: the work grows as n².
        batch_size: pairs per forward pass.

    Returns:
        One :class:`Timing` per size, smallest first.
    """
    sizes = check_n_values(n_values)
    pool = _check_pool(sentences, sizes)
    predict = _predict_of(cross_encoder)
    predict([(pool[0], pool[1])], batch_size=batch_size, show_progress_bar=False)  # warm-up, not timed
    timings = []
    for n in sizes:
        pairs = [(pool[i], pool[j]) for i in range(n) for j in range(i + 1, n)]
        start = time.perf_counter()
        scores = predict(pairs, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
        int(scores.argmax())  # the best pair: part of the search, negligible next to the passes
        timings.append(Timing("cross-encoder", n, len(pairs), time.perf_counter() - start))
    return timings


def time_bi_encoder(
    model: SentenceTransformer,
    sentences: Sequence[str],
    n_values: Sequence[int],
    *,
    batch_size: int = 32,
) -> list[Timing]:
    """Time a bi-encoder finding the best pair among the first ``n`` sentences, for each ``n``.

    Each search encodes the ``n`` sentences, then runs :func:`best_pair`; that last part is also
    reported on its own (``search_seconds``).

    Args:
        model: a ``SentenceTransformer``.
        sentences: at least ``max(n_values)`` sentences.
        n_values: two or more sizes, each >= 2.
        batch_size: sentences per forward pass.

    Returns:
        One :class:`Timing` per size, smallest first.
    """
    sizes = check_n_values(n_values)
    pool = _check_pool(sentences, sizes)
    encode = _encode_of(model)
    encode(pool[:2], batch_size=batch_size, show_progress_bar=False)  # warm-up, not timed
    timings = []
    for n in sizes:
        start = time.perf_counter()
        embeddings = encode(pool[:n], batch_size=batch_size, show_progress_bar=False, convert_to_tensor=True)
        middle = time.perf_counter()
        best_pair(embeddings)
        end = time.perf_counter()
        timings.append(Timing("bi-encoder", n, n, end - start, end - middle))
    return timings


def time_similarity_search(n_values: Sequence[int], dim: int, *, seed: int = 0) -> list[Timing]:
    """Time :func:`best_pair` alone on random vectors, at sizes too large to encode quickly.

    The matrix product does not care what the vectors mean, so random ones of the model's
    dimension give the cost of the bi-encoder's search step. Tiny matrices are dominated by fixed
    overhead; sizes of a few thousand show the real ``n²`` cost.

    Args:
        n_values: two or more sizes, each >= 2 (e.g. ``[1000, 2000]``).
        dim: embedding dimension (``model.get_embedding_dimension()``).
        seed: seed of the random vectors.

    Returns:
        One :class:`Timing` per size with architecture ``"similarity-search"`` and no forward passes.
    """
    sizes = check_n_values(n_values)
    check_positive("dim", dim)
    check_seed("seed", seed)
    _check_fits_in_memory(sizes[-1], dim)
    generator = torch.Generator().manual_seed(seed)
    best_pair(torch.randn(2, dim, generator=generator))  # warm-up, not timed
    timings = []
    for n in sizes:
        vectors = torch.randn(n, dim, generator=generator)
        start = time.perf_counter()
        best_pair(vectors)
        seconds = time.perf_counter() - start
        timings.append(Timing("similarity-search", n, 0, seconds, seconds))
    return timings


@dataclass(frozen=True)
class PassCost:
    """What one forward pass costs at one batch size: of a sentence (bi-encoder) and of a pair (cross-encoder).

    Both are measured on the same texts: the pairs are made of the sentences, two by two, so a pair
    holds about twice the tokens of a sentence.

    Attributes:
        batch_size: texts (sentences or pairs) per forward pass.
        sentences: sentences encoded.
        pairs: pairs scored.
        sentence_seconds: wall time of encoding all the sentences.
        pair_seconds: wall time of scoring all the pairs.
        sentence_tokens: mean tokens of a sentence, special tokens included, no padding.
        pair_tokens: mean tokens of a pair, special tokens included, no padding.
    """

    batch_size: int
    sentences: int
    pairs: int
    sentence_seconds: float
    pair_seconds: float
    sentence_tokens: float
    pair_tokens: float

    @property
    def per_sentence(self) -> float:
        """Seconds per sentence pass."""
        return self.sentence_seconds / self.sentences

    @property
    def per_pair(self) -> float:
        """Seconds per pair pass."""
        return self.pair_seconds / self.pairs


def _sample_pairs(n: int, count: int, seed: int) -> list[tuple[int, int]]:
    """``count`` distinct unordered index pairs ``(i, j)``, ``i < j < n``, drawn uniformly with ``seed``."""
    chosen = random.Random(seed).sample(range(pair_count(n)), count)
    pairs = []
    for index in sorted(chosen):  # index -> (i, j) in the order (0,1), (0,2), ..., (1,2), ...
        i = 0
        while index >= n - 1 - i:
            index -= n - 1 - i
            i += 1
        pairs.append((i, i + 1 + index))
    return pairs


def _predict_of(cross_encoder: CrossEncoder):
    predict = getattr(cross_encoder, "predict", None)
    if not callable(predict):
        raise TypeError(
            f"cross_encoder must be a sentence_transformers.CrossEncoder, not {type(cross_encoder).__name__}."
        )
    return predict


def _encode_of(model: SentenceTransformer):
    encode = getattr(model, "encode", None)
    if not callable(encode):
        raise TypeError(f"model must be a SentenceTransformer, not {type(model).__name__}.")
    return encode


def time_passes(
    cross_encoder: CrossEncoder,
    model: SentenceTransformer,
    sentences: Sequence[str],
    *,
    batch_sizes: Sequence[int] = (1, 32),
    pairs: int = 32,
    seed: int = 0,
) -> list[PassCost]:
    """Time one forward pass of a sentence and of a pair, at each batch size, on the same random texts.

    ``2 * pairs`` sentences are drawn from ``sentences`` (seeded); the bi-encoder encodes all of
    them and the cross-encoder scores them two by two as ``pairs`` pairs. The ratio
    ``per_pair / per_sentence`` of the two per-pass times, times ``(n-1)/2``, is the cost ratio of
    the two searches (notebook 03).

    Args:
        cross_encoder: a ``sentence_transformers.CrossEncoder`` (see :func:`build_cross_encoder`).
        model: a ``SentenceTransformer`` on the same transformer.
        sentences: at least ``2 * pairs`` sentences to draw from.
        batch_sizes: one or more batch sizes, e.g. ``(1, 32)``.
        pairs: pairs to score (and half the sentences to encode) at each batch size.
        seed: seed of the draw.

    Returns:
        One :class:`PassCost` per batch size, in the order given.

    Raises:
        ValueError: a batch size or ``pairs`` that is not a positive integer, or too few sentences.
        TypeError: not a CrossEncoder and a SentenceTransformer.
    """
    if isinstance(batch_sizes, int) or not isinstance(batch_sizes, Sequence) or not batch_sizes:
        raise TypeError(f"batch_sizes must be a non-empty list of integers such as (1, 32), not {batch_sizes!r}.")
    for size in batch_sizes:
        check_positive("each batch size", size)
    check_positive("pairs", pairs)
    check_seed("seed", seed)
    pool = check_texts(sentences, name="sentences")
    if len(pool) < 2 * pairs:
        raise ValueError(
            f"{pairs} pairs are made of {2 * pairs} sentences, but only {len(pool)} were given: pass more "
            "sentences (stutor.data.all_sentences()) or fewer pairs."
        )
    predict, encode = _predict_of(cross_encoder), _encode_of(model)
    texts = random.Random(seed).sample(pool, 2 * pairs)
    pair_texts = list(zip(texts[0::2], texts[1::2], strict=True))
    tokenizer = model.tokenizer
    sentence_tokens = sum(len(ids) for ids in tokenizer(texts)["input_ids"]) / len(texts)
    pair_ids = tokenizer([a for a, _ in pair_texts], [b for _, b in pair_texts])["input_ids"]
    pair_tokens = sum(len(ids) for ids in pair_ids) / len(pair_texts)
    encode(texts[:2], show_progress_bar=False)  # warm-up, not timed
    predict(pair_texts[:1], show_progress_bar=False)
    measured = []
    for size in batch_sizes:
        start = time.perf_counter()
        encode(texts, batch_size=size, show_progress_bar=False)
        middle = time.perf_counter()
        predict(pair_texts, batch_size=size, show_progress_bar=False)
        end = time.perf_counter()
        measured.append(
            PassCost(size, len(texts), len(pair_texts), middle - start, end - middle, sentence_tokens, pair_tokens)
        )
    return measured


@dataclass(frozen=True)
class PairSample:
    """The cross-encoder timed on a random sample of the pairs of a large collection.

    Attributes:
        n: sentences in the collection.
        pairs: pairs sampled (out of ``n(n-1)/2``) and scored.
        seconds: wall time of scoring the sample.
    """

    n: int
    pairs: int
    seconds: float

    @property
    def rate(self) -> float:
        """Pairs per second on the sample."""
        return self.pairs / self.seconds

    @property
    def search_seconds(self) -> float:
        """The full search over all ``n(n-1)/2`` pairs at the sample's rate."""
        return pair_count(self.n) / self.rate


def time_pair_sample(
    cross_encoder: CrossEncoder,
    sentences: Sequence[str],
    *,
    pairs: int = 256,
    seed: int = 0,
    batch_size: int = 32,
) -> PairSample:
    """Time the cross-encoder on a random sample of the pairs of all ``sentences``: an independent check.

    Scoring all ``n(n-1)/2`` pairs of a large collection takes hours; a uniform random sample of them
    costs seconds and gives the time per pair at that ``n`` directly, so it tests an extrapolation
    fitted on small sizes (notebook 03) without reusing its measurements.

    Args:
        cross_encoder: a ``sentence_transformers.CrossEncoder``.
        sentences: the whole collection (``n = len(sentences)``, at least 2).
        pairs: how many distinct pairs to sample, at most ``n(n-1)/2``.
        seed: seed of the sample.
        batch_size: pairs per forward pass (use the one of the timings you check).

    Returns:
        A :class:`PairSample`; its ``search_seconds`` is the measured estimate of the full search.

    Raises:
        ValueError: ``pairs`` or ``batch_size`` not a positive integer, more pairs than exist, too few sentences.
        TypeError: not a CrossEncoder.
    """
    check_positive("pairs", pairs)
    check_positive("batch_size", batch_size)
    check_seed("seed", seed)
    pool = check_texts(sentences, name="sentences")
    if len(pool) < 2 or pairs > pair_count(len(pool)):
        raise ValueError(
            f"{len(pool)} sentences have {pair_count(len(pool)):,} pairs, fewer than the {pairs:,} asked for: "
            "sample fewer pairs or pass more sentences."
        )
    predict = _predict_of(cross_encoder)
    sample = [(pool[i], pool[j]) for i, j in _sample_pairs(len(pool), pairs, seed)]
    predict(sample[:1], batch_size=batch_size, show_progress_bar=False)  # warm-up, not timed
    start = time.perf_counter()
    scores = predict(sample, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
    int(scores.argmax())  # as in time_cross_encoder: the best pair of the sample
    return PairSample(len(pool), pairs, time.perf_counter() - start)


def _slope_through_origin(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of y = slope * x (dominated by the largest x, where overhead matters least)."""
    return sum(x * y for x, y in zip(xs, ys, strict=True)) / sum(x * x for x in xs)


def _check_timings(timings: Sequence[Timing], architecture: str) -> list[Timing]:
    if isinstance(timings, Timing | str) or not isinstance(timings, Sequence):
        raise TypeError(f"timings must be a list of Timing from time_{architecture.replace('-', '_')}().")
    items = list(timings)
    if not items:
        raise ValueError(f"timings is empty: measure first with time_{architecture.replace('-', '_')}().")
    if any(not isinstance(t, Timing) for t in items):
        raise TypeError(f"timings must hold only Timing objects from time_{architecture.replace('-', '_')}().")
    wrong = {t.architecture for t in items} - {architecture}
    if wrong:
        raise ValueError(
            f"These timings are for {sorted(wrong)}, not {architecture!r}: pass the output of "
            f"time_{architecture.replace('-', '_')}()."
        )
    check_n_values([t.n for t in items], name="the measured sizes")
    if any(t.seconds <= 0 or t.search_seconds < 0 or (t.forward_passes and t.forward_seconds <= 0) for t in items):
        raise ValueError("A timing has a non-positive duration; measure again (the clock cannot run backwards).")
    return sorted(items, key=lambda t: t.n)


def _architecture_of(timings: Sequence[Timing]) -> str:
    if isinstance(timings, Sequence) and len(timings) == 0:
        raise ValueError("timings is empty: measure first with time_cross_encoder() or time_bi_encoder().")
    first = timings[0] if isinstance(timings, Sequence) and not isinstance(timings, str) else None
    if not isinstance(first, Timing):
        raise TypeError("timings must be a list of Timing from time_cross_encoder() or time_bi_encoder().")
    return first.architecture


def fit_rate(timings: Sequence[Timing]) -> float:
    """Forward passes per second, fitted to the measurements (least squares through the origin).

    Args:
        timings: measurements of one architecture, at two or more sizes >= 2.

    Returns:
        Pairs per second (cross-encoder) or sentences per second (bi-encoder), forward passes only.

    Raises:
        ValueError: fewer than two sizes, a size below 2, or mixed architectures.
    """
    architecture = _architecture_of(timings)
    if architecture == "similarity-search":
        raise ValueError(
            "Similarity-search timings have no forward passes, so no rate: pass them to estimate_bi_encoder."
        )
    items = _check_timings(timings, architecture)
    return 1.0 / _slope_through_origin([t.forward_passes for t in items], [t.forward_seconds for t in items])


def rate_per_size(timings: Sequence[Timing]) -> list[tuple[int, float]]:
    """The rate measured at each size on its own: forward passes / forward seconds.

    At small sizes fixed costs (the call, a part-filled batch) weigh on few passes, so the rate
    rises with ``n`` and then levels off; only the level part says what a pass costs. Notebook 03
    prints it per size so that the levelling off can be seen.

    Args:
        timings: measurements of one architecture (cross-encoder or bi-encoder).

    Returns:
        ``[(n, passes per second), ...]``, smallest ``n`` first.
    """
    architecture = _architecture_of(timings)
    if architecture == "similarity-search":
        raise ValueError("Similarity-search timings have no forward passes, so no rate per size.")
    return [(t.n, t.forward_passes / t.forward_seconds) for t in _check_timings(timings, architecture)]


def settled(timings: Sequence[Timing], *, tolerance: float = 0.2) -> list[Timing]:
    """The largest sizes on which the rate has levelled off: the ones to fit a rate on (notebook 03).

    Going down from the largest size, a size is kept while its own rate lies within ``tolerance``
    (a fraction) of the largest size's rate; the first size outside ends the run. The two largest
    sizes are always kept, since a fit needs two: compare their rates (:func:`rate_per_size`) to see
    whether even they agree (on a busy machine they may not; measure again or add a larger size).

    Args:
        timings: measurements of one architecture, at two or more sizes.
        tolerance: how far (as a fraction, e.g. 0.2 for 20 %) a rate may lie from the largest size's.

    Returns:
        The kept timings, smallest ``n`` first (at least two).

    Raises:
        ValueError: a tolerance outside (0, 1), or timings that :func:`fit_rate` refuses.
    """
    check_fraction("tolerance", tolerance, hint=" Use e.g. 0.2 for 20 %.", zero=False)
    items = _check_timings(timings, _architecture_of(timings))
    rates = [rate for _, rate in rate_per_size(items)]
    first = len(items) - 2
    while first > 0 and abs(rates[first - 1] / rates[-1] - 1) <= tolerance:
        first -= 1
    return items[first:]


@dataclass(frozen=True)
class CostEstimate:
    """Extrapolated time to find the most similar pair among ``n`` sentences.

    Attributes:
        architecture: ``"cross-encoder"`` or ``"bi-encoder"``.
        n: number of sentences.
        forward_passes: ``n(n-1)/2`` pairs or ``n`` sentences.
        rate: fitted forward passes per second.
        forward_seconds: ``forward_passes / rate``.
        search_seconds: similarity matrix and argmax (bi-encoder), scaled as n² from the
            measurement; 0 for the cross-encoder.
    """

    architecture: str
    n: int
    forward_passes: int
    rate: float
    forward_seconds: float
    search_seconds: float

    @property
    def seconds(self) -> float:
        """Total extrapolated seconds."""
        return self.forward_seconds + self.search_seconds

    @property
    def hours(self) -> float:
        """Total extrapolated hours."""
        return self.seconds / 3600.0


def _check_n(n: int) -> int:
    check_positive("n", n)
    if n < 2:
        raise ValueError(f"n must be an integer >= 2 (a number of sentences: a pair needs two), not {n!r}.")
    return n


def estimate_cross_encoder(timings: Sequence[Timing], n: int = REFERENCE_N) -> CostEstimate:
    """Extrapolate cross-encoder timings to ``n`` sentences: ``n(n-1)/2`` pairs at the fitted rate.

    Args:
        timings: output of :func:`time_cross_encoder`.
        n: collection size to extrapolate to.

    Returns:
        A :class:`CostEstimate`.
    """
    n = _check_n(n)
    items = _check_timings(timings, "cross-encoder")
    rate = fit_rate(items)
    passes = pair_count(n)
    return CostEstimate("cross-encoder", n, passes, rate, passes / rate, 0.0)


def estimate_bi_encoder(
    timings: Sequence[Timing], n: int = REFERENCE_N, *, search_timings: Sequence[Timing] | None = None
) -> CostEstimate:
    """Extrapolate bi-encoder timings to ``n`` sentences: ``n`` encodes plus one n×n similarity matrix.

    Args:
        timings: output of :func:`time_bi_encoder`.
        n: collection size to extrapolate to.
        search_timings: optional output of :func:`time_similarity_search`; when given, the search
            step is scaled from those larger matrices instead of the small ones in ``timings``.

    Returns:
        A :class:`CostEstimate`; the search part is scaled as n² from the measurements.
    """
    n = _check_n(n)
    items = _check_timings(timings, "bi-encoder")
    rate = fit_rate(items)
    searches = items if search_timings is None else _check_timings(search_timings, "similarity-search")
    per_cell = _slope_through_origin([t.n**2 for t in searches], [t.search_seconds for t in searches])
    return CostEstimate("bi-encoder", n, n, rate, n / rate, per_cell * n**2)


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:,.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:,.1f} min"
    return f"{seconds:,.2f} s"


@dataclass(frozen=True)
class CostComparison:
    """Cross-encoder against bi-encoder at the same ``n``, both extrapolated from this machine's timings.

    The quoted figures are not part of it: print :data:`REFERENCE_CLAIM` on its own for those.

    Attributes:
        cross: the cross-encoder estimate.
        bi: the bi-encoder estimate.
    """

    cross: CostEstimate
    bi: CostEstimate

    @property
    def ratio(self) -> float:
        """How many times longer the cross-encoder takes."""
        return self.cross.seconds / self.bi.seconds

    @property
    def pairs_per_sentence(self) -> float:
        """The count factor ``(n-1)/2``: pair passes of the cross-encoder per sentence pass of the bi-encoder."""
        return (self.cross.n - 1) / 2

    @property
    def pass_factor(self) -> float:
        """Seconds per pair pass over seconds per sentence pass, from the fitted rates."""
        return self.bi.rate / self.cross.rate

    @property
    def forward_share(self) -> float:
        """The part of the bi-encoder's time spent in forward passes (the rest is the similarity search)."""
        return self.bi.forward_seconds / self.bi.seconds

    def __str__(self) -> str:
        width = 16
        lines = [
            f"Measured on this machine, extrapolated to n = {self.cross.n:,} sentences:",
            f"{'':<{width}} {'forward passes':>15} {'rate (/s)':>10} {'ms per pass':>12} {'time':>10}",
        ]
        for name, estimate in [("cross-encoder", self.cross), ("bi-encoder", self.bi)]:
            lines.append(
                f"{name:<{width}} {estimate.forward_passes:>15,} {estimate.rate:>10,.0f} "
                f"{1000 / estimate.rate:>12.2f} {_duration(estimate.seconds):>10}"
            )
        lines[-1] += f"  (of which similarity matrix + best pair: {_duration(self.bi.search_seconds)})"
        lines.append(f"ratio (cross / bi): {self.ratio:,.0f}x")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def compare_costs(
    cross_timings: Sequence[Timing],
    bi_timings: Sequence[Timing],
    n: int = REFERENCE_N,
    *,
    search_timings: Sequence[Timing] | None = None,
) -> CostComparison:
    """Extrapolate both architectures to ``n`` sentences and compare them.

    Args:
        cross_timings: output of :func:`time_cross_encoder`.
        bi_timings: output of :func:`time_bi_encoder`.
        n: collection size (default 10,000, the reference's example).
        search_timings: optional output of :func:`time_similarity_search` (see
            :func:`estimate_bi_encoder`).

    Returns:
        A :class:`CostComparison` that prints as a small table (measured figures only).

    Example:
        >>> comparison = compare_costs(cross_timings, bi_timings)  # doctest: +SKIP
        >>> comparison.ratio > 1000  # doctest: +SKIP
        True
    """
    return CostComparison(
        estimate_cross_encoder(cross_timings, n), estimate_bi_encoder(bi_timings, n, search_timings=search_timings)
    )
