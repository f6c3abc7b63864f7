"""stutor.evaluation: input checks, the STS-benchmark reader, the four methods and the Spearman score."""

from __future__ import annotations

import math

import pytest
import torch

from stutor import data, evaluation, sources

S1 = ["A man plays a guitar.", "A dog runs in a park.", "The sky is blue."]
S2 = ["A man is playing guitar.", "A cat sleeps on a sofa.", "Stocks fell on Monday."]


@pytest.mark.parametrize(
    ("first", "second", "scores", "error", "match"),
    [
        ([], [], [], ValueError, "sentences1 is empty"),
        (S1, S2[:2], [5, 1, 0], ValueError, "sentences2 2"),
        (S1, S2, [5, 1], ValueError, "scores 2"),
        (S1, S2, [5, float("nan"), 0], ValueError, r"scores\[1\] is NaN"),
        (S1, S2, [5, 6, 0], ValueError, "outside the declared range 0-5"),
        (S1, S2, [5, -0.5, 0], ValueError, "outside the declared range"),
        (S1, S2, [5, "4.0", 0], TypeError, r"scores\[1\] is '4.0' \(str\), not a number"),
        (S1, S2, [5, None, 0], TypeError, "not a number"),
        (S1, S2, [True, 1, 0], TypeError, "not a number"),
        (S1, S2, [2, 2, 2], ValueError, "All gold scores are equal"),
        (S1, S2, "501", TypeError, "list of numbers"),
        (S1, [*S2[:2], ""], [5, 1, 0], ValueError, r"sentences2\[2\] is an empty string"),
        (S1, [*S2[:2], 3], [5, 1, 0], TypeError, r"sentences2\[2\] is int"),
    ],
)
def test_check_scored_pairs_errors(first, second, scores, error, match):
    with pytest.raises(error, match=match):
        evaluation.check_scored_pairs(first, second, scores)


def test_check_scored_pairs_range_and_hint():
    with pytest.raises(ValueError, match=r"score_range=\(0, 1\)"):
        evaluation.check_scored_pairs(S1, S2, [0.9, 0.2, 0.1], score_range=(0, 0.5))
    assert evaluation.check_scored_pairs(S1, S2, [1, 0.2, 0], score_range=(0, 1))[2] == [1.0, 0.2, 0.0]
    for bad in [(5, 0), (0,), "05", (0, "5")]:
        with pytest.raises(ValueError, match="score_range must be"):
            evaluation.check_scored_pairs(S1, S2, [5, 1, 0], score_range=bad)


def _write(tmp_path, text: str):
    path = tmp_path / "sts.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_stsb_tsv_handles_extra_columns_and_quotes(tmp_path):
    path = _write(
        tmp_path,
        'main-captions\tMSRvid\t2012test\t0001\t5.000\tA "quoted" man.\tA man.\n'
        "\n"
        "main-news\theadlines\t2015\t0002\t0.400\tIt's raining.\tMarkets rose.\tsrc1\tsrc2\n",
    )
    pairs = sources.read_stsb_tsv(path)
    assert pairs == {
        "sentence1": ['A "quoted" man.', "It's raining."],
        "sentence2": ["A man.", "Markets rose."],
        "score": [5.0, 0.4],
    }


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a\tb\tc\td\t5.0\tonly one sentence\n", "line 1: 6 tab-separated columns"),
        ("a\tb\tc\td\tfive\tx\ty\n", r"line 1: the score \(column 5\) is 'five'"),
        ("a\tb\tc\td\t1\tx\ty\na\tb\tc\td\t7.5\tx\ty\n", "line 2: score '7.5' is outside 0-5"),
        ("a\tb\tc\td\tnan\tx\ty\n", "outside 0-5"),
        ("\n\n", "holds no rows"),
    ],
)
def test_read_stsb_tsv_errors(tmp_path, text, match):
    with pytest.raises(ValueError, match=match):
        sources.read_stsb_tsv(_write(tmp_path, text))


def test_read_stsb_tsv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sources.read_stsb_tsv(tmp_path / "nope.tsv")


@pytest.mark.parametrize("methods", [["glove"], "bert", ["cls", "max"]])
def test_unknown_method_lists_the_valid_ones(st_model, methods):
    with pytest.raises(ValueError, match=r"Unknown method .* Valid methods are: \['avg_word_embeddings'"):
        evaluation.embed(st_model, S1, methods)


def test_empty_methods(st_model):
    with pytest.raises(ValueError, match="methods is empty"):
        evaluation.evaluate_sts(st_model, {"sentence1": S1, "sentence2": S2, "score": [5, 1, 0]}, methods=[])


def test_evaluate_sts_checks_before_model_work():
    with pytest.raises(TypeError, match="need a SentenceTransformer whose first module is a Transformer"):
        evaluation.evaluate_sts(object(), {"sentence1": S1, "sentence2": S2, "score": [5, 1, 0]})
    with pytest.raises(ValueError, match="needs sentence1, sentence2 and score"):
        evaluation.evaluate_sts(object(), {"sentence1": S1, "sentence2": S2})
    with pytest.raises(TypeError, match="datasets.Dataset or a dict"):
        evaluation.evaluate_sts(object(), [("a", "b", 1.0)])


def test_methods_compute_what_they_say(st_model, raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    texts = ["I am a student", "The library on the corner opens at nine on weekdays."]
    vectors = evaluation.embed(st_model, texts)
    assert list(vectors) == list(evaluation.METHODS)
    assert all(v.shape == (2, 384) for v in vectors.values())

    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = raw(**encoded).last_hidden_state
    torch.testing.assert_close(vectors["cls"], hidden[:, 0], atol=1e-5, rtol=0)
    torch.testing.assert_close(vectors["sentence_transformer"], vectors["mean"], atol=1e-5, rtol=0)

    # Static average: the input embedding rows of the words only ([CLS], [SEP] and padding left out).
    ids = tokenizer(texts[0])["input_ids"][1:-1]
    by_hand = raw.get_input_embeddings().weight[ids].mean(dim=0)
    torch.testing.assert_close(vectors["avg_word_embeddings"][0], by_hand.detach(), atol=1e-6, rtol=0)


def test_sentence_transformer_method_is_what_encode_returns():
    from stutor import models

    trained = models.load_pretrained_sentence_transformer()  # Transformer, Pooling, Normalize
    texts = ["I am a student", "short", "The library on the corner opens at nine on weekdays."]
    ours = evaluation.embed(trained, texts, "sentence_transformer")["sentence_transformer"]
    torch.testing.assert_close(ours, trained.encode(texts, convert_to_tensor=True), atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.norm(dim=1), torch.ones(3), atol=1e-5, rtol=0)
    with pytest.raises(TypeError, match="complete SentenceTransformer"):
        evaluation.embed(trained[0], texts, "sentence_transformer")


def test_embed_keeps_the_input_order(st_model):
    texts = ["a much longer sentence than the others in this small list", "short", "medium length one"]
    together = evaluation.embed(st_model, texts, ["cls", "avg_word_embeddings"])
    alone = evaluation.embed(st_model, texts[1:2], ["cls", "avg_word_embeddings"])
    for method in together:
        torch.testing.assert_close(together[method][1], alone[method][0], atol=1e-5, rtol=0)


def test_spearman_cosine():
    a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    b = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    assert evaluation.spearman_cosine(a, b, [5.0, 3.0, 0.0]) == pytest.approx(100.0)
    assert evaluation.spearman_cosine(a, b, [0.0, 3.0, 5.0]) == pytest.approx(-100.0)
    with pytest.raises(ValueError, match="Shapes disagree"):
        evaluation.spearman_cosine(a, b[:2], [5.0, 3.0, 0.0])


def test_evaluate_sts_on_bundled_pairs(st_model):
    result = evaluation.evaluate_sts(st_model, data.load_sts_pairs(), data_name="bundled")
    assert result.n_pairs == len(data.load_sts_pairs())
    assert [row.method for row in result.rows] == list(evaluation.METHODS)
    assert {row.model for row in result.rows} == {"all-MiniLM-L6-v2"}
    assert all(-100 <= row.spearman <= 100 and not math.isnan(row.spearman) for row in result.rows)
    # A trained Sentence Transformer: context (mean of the output) beats static word vectors.
    assert result.score("mean") > result.score("avg_word_embeddings") + 10
    assert result.score("sentence_transformer") == pytest.approx(result.score("mean"), abs=1e-3)
    measured = result.table(published=False)
    assert measured.startswith("Measured here on bundled") and "58.02" not in measured
    # published: the quoted figures follow as their own table, never in a measured row
    measured_part, quoted_part = result.table().split("\n\n")
    assert measured_part == measured
    assert quoted_part == evaluation.quoted_table()


def test_quoted_table_is_labelled_with_its_source():
    table = evaluation.quoted_table()
    lines = table.splitlines()
    assert lines[0] == f"Quoted, not measured here: {evaluation.SBERT_PAPER_SOURCE}"
    assert "Table 1" in lines[0] and "Reimers & Gurevych (2019)" in lines[0]
    assert [line.split()[-1] for line in lines[2:]] == ["58.02", "16.50", "46.35", "77.03"]
    assert evaluation.quoted_table("cls").splitlines()[2:] == [f"{'BERT CLS-vector':<24} {16.50:>8.2f}"]
    with pytest.raises(ValueError, match="Unknown method"):
        evaluation.quoted_table(["glove"])


def test_evaluate_sts_with_zero_to_one_scores(st_model):
    stsb_like = data.load_stsb(verbose=False)  # offline: the bundled pairs scaled to 0-1
    with pytest.raises(ValueError, match="outside the declared range 0-0.5"):
        evaluation.evaluate_sts(st_model, stsb_like, score_range=(0, 0.5))
    result = evaluation.evaluate_sts(st_model, stsb_like, methods=["cls"], score_range=(0, 1))
    assert [row.method for row in result.rows] == ["cls"]


def test_result_score_and_combine(st_model):
    pairs = {"sentence1": S1, "sentence2": S2, "score": [5, 1, 0]}
    a = evaluation.evaluate_sts(st_model, pairs, methods="cls", model_name="a")
    b = evaluation.evaluate_sts(st_model, pairs, methods=["mean"], model_name="b")
    both = a + b
    assert [row.model for row in both.rows] == ["a", "b"]
    assert both.score("mean", model="b") == b.score("mean")
    with pytest.raises(KeyError, match="No row for method 'mean' of 'a'"):
        both.score("mean", model="a")
    with pytest.raises(ValueError, match="Unknown method"):
        both.score("glove")
    other = evaluation.evaluate_sts(st_model, {**pairs, "score": [0, 1, 5]}, methods="cls", data_name="other")
    with pytest.raises(ValueError, match="same scored pairs"):
        a + other
