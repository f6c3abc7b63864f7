"""stutor.classification: topic and pair data, the seeded training loop, partial freezing, thresholds (notebook 06)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from stutor import classification, data


@pytest.fixture(scope="module")
def tokenizer(choice):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(choice.name_or_path)


@pytest.fixture
def tiny_classifier(tokenizer):
    """A 2-layer, 16-wide BERT classifier from a config (random weights): steps take milliseconds."""
    from transformers import BertConfig, BertForSequenceClassification

    def make(num_labels: int, seed: int = 0):
        torch.manual_seed(seed)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            num_labels=num_labels,
        )
        return BertForSequenceClassification(config)

    return make


def test_topics_and_sentences_follow_the_groups_and_splits():
    names = data.topics()
    assert len(names) == 12 and names == sorted(names)
    train = data.topic_sentences("train")
    test = data.topic_sentences("test")
    assert not set(train["sentence"]) & set(test["sentence"])
    assert all(names[label] == topic for label, topic in zip(test["label"], test["topic"], strict=True))
    assert len(data.topic_sentences("train", per_group=2)) == 2 * len(data.load_paraphrase_groups("train"))
    with pytest.raises(ValueError, match="per_group"):
        data.topic_sentences("train", per_group=0)


def test_duplicate_pairs_are_balanced_and_come_from_the_triplets():
    pairs = data.duplicate_pairs("dev", per_group=1)
    rows = data.group_triplets("dev", per_group=1)
    assert len(pairs) == 2 * len(rows) and sum(pairs["label"]) == len(rows)
    assert pairs[0] == {"sentence1": rows[0]["anchor"], "sentence2": rows[0]["positive"], "label": 1}
    assert pairs[1] == {"sentence1": rows[0]["anchor"], "sentence2": rows[0]["negative"], "label": 0}


def test_fine_tune_is_seeded_and_learns_texts_and_pairs(tiny_classifier, tokenizer):
    texts = ["cook pasta", "boil rice", "fix a bug", "write code"] * 2
    labels = [0, 0, 1, 1] * 2
    first = classification.fine_tune(
        tiny_classifier(2), tokenizer, texts, labels, epochs=2, batch_size=3, learning_rate=1e-2
    )
    again = classification.fine_tune(
        tiny_classifier(2), tokenizer, texts, labels, epochs=2, batch_size=3, learning_rate=1e-2
    )
    assert len(first) == 2 * math.ceil(len(texts) / 3) and first == again
    cross = tiny_classifier(1)
    pairs = [("cook pasta", "boil rice"), ("cook pasta", "fix a bug")] * 2
    losses = classification.fine_tune(cross, tokenizer, pairs, [1, 0, 1, 0], epochs=1, batch_size=4)
    assert len(losses) == 1 and math.isfinite(losses[0])
    assert classification.predict_logits(cross, tokenizer, pairs).shape == (4, 1)
    assert not cross.training


@pytest.mark.parametrize(
    ("inputs", "labels", "options", "error", "message"),
    [
        (["a", "b"], [0], {}, ValueError, "2 inputs but 1 labels"),
        (["a", "b"], [0, 5], {}, ValueError, "Label 5 is not an integer in 0..2"),
        (["a", ""], [0, 1], {}, TypeError, r"inputs\[1\]"),
        ([("a", "b"), "c"], [0, 1], {}, TypeError, r"inputs\[1\] is 'c'"),
        ("ab", [0, 1], {}, TypeError, "non-empty list"),
        (["a"], [0], {"epochs": 0}, ValueError, "epochs must be a positive integer"),
        (["a"], [0], {"learning_rate": -1.0}, ValueError, "learning_rate"),
        (["a"], [0], {"warmup_ratio": 1.0}, ValueError, "warmup_ratio"),
    ],
)
def test_fine_tune_refuses_bad_input(tiny_classifier, tokenizer, inputs, labels, options, error, message):
    with pytest.raises(error, match=message):
        classification.fine_tune(tiny_classifier(3), tokenizer, inputs, labels, **options)


def test_freeze_lower_layers(tiny_classifier, tokenizer):
    model = tiny_classifier(2)
    total = sum(p.numel() for p in model.parameters())
    trainable = classification.freeze_lower_layers(model, trainable_layers=1)
    assert 0 < trainable < total
    assert not any(p.requires_grad for p in model.bert.embeddings.parameters())
    assert all(p.requires_grad for p in model.bert.encoder.layer[1].parameters())
    with pytest.raises(ValueError, match="between 0 and 2"):
        classification.freeze_lower_layers(tiny_classifier(2), trainable_layers=3)
    head_only = tiny_classifier(2)
    classification.freeze_lower_layers(head_only, trainable_layers=0)
    for parameter in head_only.parameters():
        parameter.requires_grad = False
    with pytest.raises(ValueError, match="frozen"):
        classification.fine_tune(head_only, tokenizer, ["a"], [0])


def test_freeze_lower_layers_reaches_into_sentence_transformers_and_cross_encoders(tiny_bert):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    transformer = Transformer(str(tiny_bert))  # conftest's tiny BERT folder
    bi_encoder = SentenceTransformer(modules=[transformer, Pooling(32, "mean")], device="cpu")
    trainable = classification.freeze_lower_layers(bi_encoder, trainable_layers=1)
    bert = bi_encoder[0].auto_model
    assert trainable == sum(p.numel() for p in bert.encoder.layer[1].parameters()) + sum(
        p.numel() for p in bert.pooler.parameters()
    )
    assert not any(p.requires_grad for p in bert.encoder.layer[0].parameters())
    cross = CrossEncoder(str(tiny_bert), num_labels=1, device="cpu")
    head = sum(p.numel() for p in cross[0].auto_model.classifier.parameters())
    assert classification.freeze_lower_layers(cross, trainable_layers=0) == head + sum(
        p.numel() for p in cross[0].auto_model.bert.pooler.parameters()
    )
    with pytest.raises(TypeError, match="SentenceTransformer or CrossEncoder"):
        classification.freeze_lower_layers("my model")


def test_best_threshold():
    threshold, accuracy = classification.best_threshold([0.1, 0.4, 0.6, 0.9], [0, 0, 1, 1])
    assert 0.4 <= threshold < 0.6 and accuracy == 1.0
    threshold, accuracy = classification.best_threshold([0.9, 0.8], [1, 1])
    assert threshold < 0.8 and accuracy == 1.0
    with pytest.raises(ValueError, match="equal length"):
        classification.best_threshold([0.1, 0.2], [1])
    with pytest.raises(ValueError, match="0 or 1"):
        classification.best_threshold([0.1, 0.2], [1, 2])
    assert np.isfinite(threshold)
