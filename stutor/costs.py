"""What it costs to find the most similar pair of sentences: a cross-encoder against a bi-encoder.

A cross-encoder reads both sentences of a pair together, so finding the best pair among ``n``
sentences needs one forward pass per pair: ``n(n-1)/2`` of them. A bi-encoder (a Sentence
Transformer) encodes each sentence once (``n`` forward passes) and then compares the vectors with
one matrix product. This module times both on the machine at hand for a few small ``n`` and
extrapolates to large ``n`` from the measured rates and those known counts.

Taught in: notebook 03.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from stutor import runtime
from stutor.checks import check_texts

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


REFERENCE_CLAIM = ReferenceClaim(
    n=REFERENCE_N,
    cross_encoder_seconds=65 * 3600.0,
    bi_encoder_seconds=5.0,
    setting="one V100 GPU, BERT-base",
    source="Reimers & Gurevych (2019), Sentence-BERT, abstract (quoted by the reference tutorial)",
)
"""The reference tutorial's figures: ~65 hours against ~5 seconds for 10,000 sentences."""


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
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer (a number of sentences), not {n!r}.")
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


def best_pair(embeddings: torch.Tensor) -> tuple[int, int, float]:
    """Find the most similar pair by cosine similarity: one matrix product and one argmax.

    Args:
        embeddings: (n, dim) tensor, n >= 2.

    Returns:
        ``(i, j, cosine)`` with ``i < j``.
    """
    if embeddings.dim() != 2 or embeddings.shape[0] < 2:
        raise ValueError(f"embeddings must have shape (n >= 2, dim), not {tuple(embeddings.shape)}.")
    unit = torch.nn.functional.normalize(embeddings, dim=1)
    similarity = unit @ unit.T
    similarity.fill_diagonal_(float("-inf"))  # a sentence does not pair with itself
    i, j = sorted(divmod(similarity.argmax().item(), similarity.shape[0]))
    return i, j, similarity[i, j].item()


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
    predict = getattr(cross_encoder, "predict", None)
    if not callable(predict):
        raise TypeError(
            f"cross_encoder must be a sentence_transformers.CrossEncoder, not {type(cross_encoder).__name__}."
        )
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
    encode = getattr(model, "encode", None)
    if not callable(encode):
        raise TypeError(f"model must be a SentenceTransformer, not {type(model).__name__}.")
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
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive integer (the embedding dimension), not {dim!r}.")
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
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2 (a number of sentences), not {n!r}.")
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
    """Cross-encoder against bi-encoder at the same ``n``, next to the reference's figures.

    Attributes:
        cross: the cross-encoder estimate.
        bi: the bi-encoder estimate.
        reference: the quoted figures, or None.
    """

    cross: CostEstimate
    bi: CostEstimate
    reference: ReferenceClaim | None = REFERENCE_CLAIM

    @property
    def ratio(self) -> float:
        """How many times longer the cross-encoder takes."""
        return self.cross.seconds / self.bi.seconds

    def __str__(self) -> str:
        lines = [
            f"{'n = ' + format(self.cross.n, ','):<16} {'forward passes':>15} {'rate (/s)':>10} {'time':>10}",
            f"{'cross-encoder':<16} {self.cross.forward_passes:>15,} {self.cross.rate:>10,.0f} "
            f"{_duration(self.cross.seconds):>10}",
            f"{'bi-encoder':<16} {self.bi.forward_passes:>15,} {self.bi.rate:>10,.0f} {_duration(self.bi.seconds):>10}"
            f"  (of which similarity matrix + best pair: {_duration(self.bi.search_seconds)})",
            f"ratio (cross / bi): {self.ratio:,.0f}x",
        ]
        if self.reference is not None and self.reference.n == self.cross.n:
            ref = self.reference
            lines += [
                f"quoted ({ref.setting}): cross-encoder {_duration(ref.cross_encoder_seconds)}, "
                f"bi-encoder {_duration(ref.bi_encoder_seconds)}, ratio {ref.ratio:,.0f}x",
                f"  source: {ref.source}",
            ]
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
        A :class:`CostComparison` that prints as a small table.

    Example:
        >>> comparison = compare_costs(cross_timings, bi_timings)  # doctest: +SKIP
        >>> comparison.ratio > 1000  # doctest: +SKIP
        True
    """
    return CostComparison(
        estimate_cross_encoder(cross_timings, n), estimate_bi_encoder(bi_timings, n, search_timings=search_timings)
    )
