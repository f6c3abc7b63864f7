from __future__ import annotations

import pytest
import torch

from stutor import layers


def test_masked_mean_by_hand():
    tokens = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [100.0, 100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(layers.masked_mean_pooling(tokens, mask), torch.tensor([[2.0, 3.0]]))


def test_masked_mean_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match="disagree"):
        layers.masked_mean_pooling(torch.zeros(2, 3, 4), torch.ones(2, 4))
    with pytest.raises(ValueError, match=r"token_embeddings must have shape \(batch, tokens, hidden\)"):
        layers.masked_mean_pooling(torch.zeros(2, 3), torch.ones(2, 3))


def test_module_equals_raw_model_and_mask_matters(st_model, raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    result = layers.compare_layers(st_model, raw, tokenizer, ["I am a student", "A much longer sentence with padding."])
    assert result.tokens_match and result.pooling_matches
    assert result.token_max_abs_diff <= 1e-5
    assert result.unmasked_max_abs_diff > 0.1  # the short sentence is padded
    assert result.token_shape[0] == 2 and result.pooled_shape == (2, 384)
    assert "verdict" in str(result) and "==" in result.verdict


def test_transformer_module_alone(st_model, raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    result = layers.compare_layers(st_model[0], raw, tokenizer, ["one sentence"])
    assert result.tokens_match and result.pooling_matches is None and result.pooled_shape is None


def test_a_single_unpadded_sentence_has_equal_means(st_model, raw_and_tokenizer):
    raw, tokenizer = raw_and_tokenizer
    result = layers.compare_layers(st_model, raw, tokenizer, ["no padding here"])
    assert result.unmasked_max_abs_diff <= 1e-5


def test_strict_tolerance_can_fail():
    result = layers.LayerComparison(1, (1, 3, 4), 1e-3, None, None, None, tolerance=1e-5)
    assert not result.tokens_match and "!=" in result.verdict


def test_wrong_tokenizer_is_refused(st_model, raw_and_tokenizer, tmp_path):
    from transformers import BertTokenizerFast

    raw, _ = raw_and_tokenizer
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "i", "am", "a"]))
    other = BertTokenizerFast(vocab_file=str(vocab))
    with pytest.raises(ValueError, match="tokenizer does not split the texts the way the module does"):
        layers.compare_layers(st_model, raw, other, ["I am a student"])


def test_wrong_raw_model_is_refused(st_model, raw_and_tokenizer):
    from transformers import BertConfig, BertModel

    _, tokenizer = raw_and_tokenizer
    tiny = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    with pytest.raises(ValueError, match="hidden size 32"):
        layers.compare_layers(st_model, tiny, tokenizer, ["text"])
    with pytest.raises(TypeError, match="raw_model must be a Hugging Face model"):
        layers.compare_layers(st_model, object(), tokenizer, ["text"])


@pytest.mark.parametrize(
    ("texts", "error", "message"),
    [
        ([], ValueError, "empty"),
        ("a single string", TypeError, "single string"),
        (["fine", 3], TypeError, r"texts\[1\] is int"),
        (["fine", "  "], ValueError, "empty string"),
    ],
)
def test_bad_texts(st_model, raw_and_tokenizer, texts, error, message):
    raw, tokenizer = raw_and_tokenizer
    with pytest.raises(error, match=message):
        layers.compare_layers(st_model, raw, tokenizer, texts)


def test_wrong_model_type_and_pooling(choice, raw_and_tokenizer):
    from stutor import models

    raw, tokenizer = raw_and_tokenizer
    with pytest.raises(TypeError, match="SentenceTransformer or its Transformer module"):
        layers.compare_layers("model", raw, tokenizer, ["x"])
    cls_model = models.build_sentence_transformer(choice, pooling="cls")
    with pytest.raises(ValueError, match="pooling='mean'"):
        layers.compare_layers(cls_model, raw, tokenizer, ["x"])
