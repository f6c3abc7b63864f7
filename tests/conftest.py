"""Shared fixtures: the embedded model is loaded once per test session; a tiny model for process-level tests."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("STUTOR_QUIET", "1")

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


@pytest.fixture(scope="session")
def choice():
    from stutor import models

    return models.resolve_model("embedded", verbose=False)


@pytest.fixture(scope="session")
def st_model(choice):
    from stutor import models

    return models.build_sentence_transformer(choice)


@pytest.fixture(scope="session")
def raw_and_tokenizer(choice):
    from stutor import models

    return models.load_hf_model(choice)


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory):
    """A folder with a tiny, seeded, randomly initialised BERT (2 layers, 32 dimensions) and the embedded tokenizer.

    For tests of commands and launchers, where the embedded model is not the point: ``--model <folder>``
    loads it like any local Hugging Face model (Transformer + mean Pooling), in a fraction of the time.
    """
    import torch
    from transformers import BertConfig, BertModel

    from stutor import models

    folder = tmp_path_factory.mktemp("tiny-bert")
    config = BertConfig(
        vocab_size=30522,  # the embedded tokenizer's vocabulary
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(str(folder))
    source = models.embedded_model_path()
    for name in TOKENIZER_FILES:
        shutil.copy(source / name, folder / name)
    return folder
