"""stutor.costs: counts, rate fits and extrapolation (synthetic timings), then tiny real measurements."""

from __future__ import annotations

import pytest
import torch

from stutor import costs, data
from stutor.costs import Timing


def _cross(rate: float, sizes=(4, 8, 16)) -> list[Timing]:
    return [Timing("cross-encoder", n, costs.pair_count(n), costs.pair_count(n) / rate) for n in sizes]


def _bi(rate: float, per_cell: float, sizes=(16, 64, 256)) -> list[Timing]:
    return [Timing("bi-encoder", n, n, n / rate + per_cell * n * n, per_cell * n * n) for n in sizes]


def test_pair_count():
    assert [costs.pair_count(n) for n in (0, 1, 2, 3, 10)] == [0, 0, 1, 3, 45]
    assert costs.pair_count(10_000) == 49_995_000  # "about 50 million"


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_pair_count_rejects_bad_n(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        costs.pair_count(bad)


@pytest.mark.parametrize(
    ("sizes", "error", "match"),
    [
        ([8], ValueError, "at least two different"),
        ([8, 8], ValueError, "at least two different"),
        ([], ValueError, "at least two different"),
        ([1, 8], ValueError, ">= 2"),
        ([0, 4], ValueError, ">= 2"),
        ([2.0, 4], TypeError, "must be an int"),
        ("48", TypeError, "list of integers"),
        (8, TypeError, "list of integers"),
    ],
)
def test_check_n_values_errors(sizes, error, match):
    with pytest.raises(error, match=match):
        costs.check_n_values(sizes)


def test_check_n_values_sorts_and_dedupes():
    assert costs.check_n_values([16, 4, 8, 4]) == [4, 8, 16]


def test_fit_rate_recovers_a_known_rate():
    assert costs.fit_rate(_cross(250.0)) == pytest.approx(250.0)
    assert costs.fit_rate(_bi(400.0, 1e-8)) == pytest.approx(400.0)


def test_fit_rate_errors():
    with pytest.raises(ValueError, match="empty"):
        costs.fit_rate([])
    with pytest.raises(ValueError, match="at least two different"):
        costs.fit_rate(_cross(100.0, sizes=(8,)))
    with pytest.raises(ValueError, match=">= 2"):
        costs.fit_rate([Timing("cross-encoder", 1, 0, 0.1), *_cross(100.0)])
    with pytest.raises(ValueError, match="not 'cross-encoder'"):
        costs.fit_rate(_cross(100.0) + _bi(100.0, 0.0))
    with pytest.raises(TypeError, match="list of Timing"):
        costs.fit_rate([1.0, 2.0])
    with pytest.raises(ValueError, match="non-positive duration"):
        costs.fit_rate([Timing("cross-encoder", 4, 6, 0.0), *_cross(100.0, sizes=(8,))])


def test_extrapolation_uses_the_known_counts():
    cross = costs.estimate_cross_encoder(_cross(250.0), n=10_000)
    assert cross.forward_passes == 49_995_000
    assert cross.seconds == pytest.approx(49_995_000 / 250.0)
    assert cross.hours == pytest.approx(cross.seconds / 3600)
    bi = costs.estimate_bi_encoder(_bi(500.0, 2e-9), n=10_000)
    assert bi.forward_passes == 10_000
    assert bi.forward_seconds == pytest.approx(20.0)
    assert bi.search_seconds == pytest.approx(2e-9 * 10_000**2)


def test_estimates_refuse_the_wrong_architecture_and_bad_n():
    with pytest.raises(ValueError, match="not 'bi-encoder'"):
        costs.estimate_bi_encoder(_cross(100.0))
    with pytest.raises(ValueError, match="integer >= 2"):
        costs.estimate_cross_encoder(_cross(100.0), n=1)


def test_compare_costs_ratio_and_table():
    comparison = costs.compare_costs(_cross(200.0), _bi(400.0, 0.0))
    assert comparison.ratio == pytest.approx((49_995_000 / 200.0) / (10_000 / 400.0))
    text = str(comparison)
    assert "49,995,000" in text and "ratio" in text and "Measured on this machine" in text
    assert "V100" not in text and "quoted" not in text.lower()  # the quoted figures are printed on their own


def test_the_ratio_is_the_count_factor_times_the_pass_factor():
    comparison = costs.compare_costs(_cross(200.0), _bi(500.0, 1e-7), n=1_000)
    assert comparison.pairs_per_sentence == pytest.approx(999 / 2)
    assert comparison.pass_factor == pytest.approx(500.0 / 200.0)  # s per pair / s per sentence
    assert 0 < comparison.forward_share < 1
    expected = comparison.pairs_per_sentence * comparison.pass_factor * comparison.forward_share
    assert comparison.ratio == pytest.approx(expected)


def test_reference_claim_is_labelled_as_quoted_and_implies_a_pass_factor():
    ref = costs.REFERENCE_CLAIM
    assert ref.ratio == pytest.approx(65 * 3600 / 5)
    assert ref.pass_factor == pytest.approx(ref.ratio / (9_999 / 2))
    text = str(ref)
    assert text.startswith("Quoted, not measured here") and "V100" in text and ref.source in text
    size = costs.BERT_BASE_SIZE
    assert (size.layers, size.hidden_size) == (12, 768)
    assert "quoted" in str(size) and "Devlin" in str(size)


def _rated(rates: dict[int, float]) -> list[Timing]:
    return [Timing("cross-encoder", n, costs.pair_count(n), costs.pair_count(n) / rate) for n, rate in rates.items()]


def test_rate_per_size_and_settled():
    rising = _rated({4: 50.0, 8: 150.0, 16: 280.0, 24: 300.0, 32: 310.0})
    assert [n for n, _ in costs.rate_per_size(rising)] == [4, 8, 16, 24, 32]
    assert costs.rate_per_size(rising)[0][1] == pytest.approx(50.0)
    assert [t.n for t in costs.settled(rising)] == [16, 24, 32]
    assert [t.n for t in costs.settled(rising, tolerance=0.05)] == [24, 32]
    # a run ends at the first size outside, even if a smaller one happens to lie inside again
    assert [t.n for t in costs.settled(_rated({4: 300.0, 8: 100.0, 16: 300.0, 32: 310.0}))] == [16, 32]
    # never fewer than two: a fit needs two sizes, even when they disagree
    assert [t.n for t in costs.settled(_rated({8: 100.0, 16: 300.0}))] == [8, 16]
    assert costs.fit_rate(costs.settled(rising)) > 290


def test_settled_errors():
    for bad in (0, 1, 1.5, -0.1, True, "0.2"):
        with pytest.raises(ValueError, match="tolerance must be a fraction"):
            costs.settled(_cross(100.0), tolerance=bad)
    with pytest.raises(ValueError, match="at least two different"):
        costs.settled(_cross(100.0, sizes=(8,)))
    with pytest.raises(ValueError, match="no forward passes"):
        costs.rate_per_size([Timing("similarity-search", n, 0, 0.1, 0.1) for n in (10, 20)])


def test_sample_pairs_are_distinct_valid_and_seeded():
    pairs = costs._sample_pairs(50, 300, seed=1)
    assert len(pairs) == len(set(pairs)) == 300
    assert all(0 <= i < j < 50 for i, j in pairs)
    assert pairs == costs._sample_pairs(50, 300, seed=1) != costs._sample_pairs(50, 300, seed=2)
    assert sorted(costs._sample_pairs(5, 10, seed=0)) == [(i, j) for i in range(5) for j in range(i + 1, 5)]


def test_best_pair_finds_the_closest_vectors():
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [-1.0, 0.0]])
    i, j, cosine = costs.best_pair(vectors)
    assert (i, j) == (0, 2) and cosine == pytest.approx(0.9 / (0.81 + 0.01) ** 0.5)
    with pytest.raises(ValueError, match="n >= 2"):
        costs.best_pair(torch.ones(1, 3))


def test_bundled_sentences_are_distinct_and_many():
    pool = data.all_sentences()
    assert len(pool) == len(set(pool)) > 1000
    assert pool == sorted(pool)


@pytest.fixture(scope="module")
def cross_encoder(choice):
    return costs.build_cross_encoder(choice)


def test_real_timings_have_the_right_counts_and_shape(cross_encoder, st_model):
    pool = data.all_sentences()
    cross = costs.time_cross_encoder(cross_encoder, pool, [3, 6])
    bi = costs.time_bi_encoder(st_model, pool, [6, 12])
    assert [(t.n, t.forward_passes) for t in cross] == [(3, 3), (6, 15)]
    assert [(t.n, t.forward_passes) for t in bi] == [(6, 6), (12, 12)]
    assert all(t.seconds > 0 for t in cross + bi)
    assert all(0 < t.search_seconds < t.seconds for t in bi)
    # The structure of the claim (not a speed target): n(n-1)/2 passes against n passes.
    comparison = costs.compare_costs(cross, bi)
    assert comparison.cross.seconds > comparison.bi.seconds
    assert comparison.ratio > 100


def test_timing_input_errors(cross_encoder, st_model):
    with pytest.raises(ValueError, match="only 3 were given"):
        costs.time_cross_encoder(cross_encoder, ["a b", "c d", "e f"], [2, 4])
    with pytest.raises(TypeError, match="single string"):
        costs.time_bi_encoder(st_model, "one two three", [2, 3])
    with pytest.raises(TypeError, match="CrossEncoder"):
        costs.time_cross_encoder(object(), ["a", "b", "c"], [2, 3])
    with pytest.raises(TypeError, match="SentenceTransformer"):
        costs.time_bi_encoder(object(), ["a", "b", "c"], [2, 3])
    with pytest.raises(ValueError, match=">= 2"):
        costs.time_bi_encoder(st_model, ["a", "b", "c"], [1, 3])


def test_similarity_search_timings_feed_the_bi_encoder_estimate():
    search = costs.time_similarity_search([50, 100], dim=8)
    assert [(t.architecture, t.n, t.forward_passes) for t in search] == [
        ("similarity-search", 50, 0),
        ("similarity-search", 100, 0),
    ]
    assert all(t.seconds == t.search_seconds > 0 for t in search)
    synthetic = [Timing("similarity-search", n, 0, 1e-8 * n * n, 1e-8 * n * n) for n in (1000, 2000)]
    bi = costs.estimate_bi_encoder(_bi(500.0, 1e-6), n=10_000, search_timings=synthetic)
    assert bi.search_seconds == pytest.approx(1.0)  # from the large matrices, not the small ones
    assert costs.compare_costs(_cross(200.0), _bi(500.0, 1e-6), search_timings=synthetic).bi == bi


def test_similarity_search_errors():
    with pytest.raises(ValueError, match="dim must be a positive integer"):
        costs.time_similarity_search([10, 20], dim=0)
    with pytest.raises(ValueError, match="at least two different"):
        costs.time_similarity_search([10], dim=4)
    with pytest.raises(ValueError, match="no forward passes"):
        costs.fit_rate([Timing("similarity-search", n, 0, 0.1, 0.1) for n in (10, 20)])
    with pytest.raises(ValueError, match="not 'similarity-search'"):
        costs.estimate_bi_encoder(_bi(500.0, 0.0), search_timings=_bi(500.0, 0.0))


def test_build_cross_encoder_rejects_a_bad_model():
    with pytest.raises(TypeError, match="ModelChoice, a Hub name or a model folder"):
        costs.build_cross_encoder(123)


def test_time_pair_sample_measures_the_full_search_from_a_sample(cross_encoder):
    pool = data.all_sentences()[:40]
    sample = costs.time_pair_sample(cross_encoder, pool, pairs=8, seed=3)
    assert (sample.n, sample.pairs) == (40, 8) and sample.seconds > 0
    assert sample.rate == pytest.approx(8 / sample.seconds)
    assert sample.search_seconds == pytest.approx(costs.pair_count(40) * sample.seconds / 8)


def test_time_pair_sample_errors(cross_encoder):
    with pytest.raises(ValueError, match="fewer than the 4 asked for"):
        costs.time_pair_sample(cross_encoder, ["a b", "c d", "e f"], pairs=4)
    with pytest.raises(ValueError, match="pairs must be a positive integer"):
        costs.time_pair_sample(cross_encoder, ["a b", "c d", "e f"], pairs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        costs.time_pair_sample(cross_encoder, ["a b", "c d", "e f"], pairs=2, batch_size=0)
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer below 2\*\*32"):
        costs.time_pair_sample(cross_encoder, ["a b", "c d", "e f"], pairs=2, seed=1.5)
    with pytest.raises(TypeError, match="CrossEncoder"):
        costs.time_pair_sample(object(), ["a b", "c d", "e f"], pairs=2)


def test_time_passes_times_sentences_and_pairs_on_the_same_texts(cross_encoder, st_model):
    measured = costs.time_passes(cross_encoder, st_model, data.all_sentences(), batch_sizes=(1, 4), pairs=4)
    assert [(c.batch_size, c.sentences, c.pairs) for c in measured] == [(1, 8, 4), (4, 8, 4)]
    for cost in measured:
        assert cost.per_sentence == pytest.approx(cost.sentence_seconds / 8)
        assert cost.per_pair == pytest.approx(cost.pair_seconds / 4)
        # a pair is its two sentences in one input: one [CLS] and one [SEP] fewer than two sentences
        assert cost.pair_tokens == pytest.approx(2 * cost.sentence_tokens - 1)


def test_time_passes_errors(cross_encoder, st_model):
    pool = data.all_sentences()
    with pytest.raises(ValueError, match="only 3 were given"):
        costs.time_passes(cross_encoder, st_model, ["a b", "c d", "e f"], pairs=2)
    with pytest.raises(TypeError, match="batch_sizes must be a non-empty list"):
        costs.time_passes(cross_encoder, st_model, pool, batch_sizes=32)
    with pytest.raises(TypeError, match="batch_sizes must be a non-empty list"):
        costs.time_passes(cross_encoder, st_model, pool, batch_sizes=())
    with pytest.raises(ValueError, match="each batch size must be a positive integer"):
        costs.time_passes(cross_encoder, st_model, pool, batch_sizes=(1, 0))
    with pytest.raises(ValueError, match="pairs must be a positive integer"):
        costs.time_passes(cross_encoder, st_model, pool, pairs=-1)
    with pytest.raises(ValueError, match=r"seed must be a non-negative integer below 2\*\*32"):
        costs.time_passes(cross_encoder, st_model, pool, seed="0")
    with pytest.raises(TypeError, match="SentenceTransformer"):
        costs.time_passes(cross_encoder, object(), pool, pairs=2)
    with pytest.raises(TypeError, match="CrossEncoder"):
        costs.time_passes(object(), st_model, pool, pairs=2)
