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


# `make test` shares the test files and notebooks between pytest-xdist workers (--dist loadfile
# --no-loadscope-reorder), in collection order. Starting the longest first keeps a long one from
# starting last and leaving the other cores idle; everything else keeps its order.
LONGEST_FIRST = (  # worker-seconds of one `make test` on the course machine, longest first
    "notebooks/08_in_batch_negatives.ipynb",  # 47
    "notebooks/07_training_with_triplet_loss.ipynb",  # 29
    "notebooks/09_semantic_search.ipynb",  # 28
    "notebooks/06_limits_classification.ipynb",  # 27
    "notebooks/03_why_not_plain_bert.ipynb",  # 15
    "tests/test_bench_sts.py",  # 14
    "tests/test_browser.py",  # 13
    "tests/test_streaming.py",  # 12
    "notebooks/05_choosing_a_loss.ipynb",  # 11
    "notebooks/solutions/09_semantic_search_solutions.ipynb",  # 9
    "tests/test_exercises.py",  # 6
    "tests/test_train_ddp.py",  # 5
    "notebooks/solutions/08_in_batch_negatives_solutions.ipynb",  # 5
    "tests/test_train_cli.py",  # 4
    "tests/test_evaluation.py",  # 4
    "notebooks/solutions/06_limits_classification_solutions.ipynb",  # 3
)


def pytest_collection_modifyitems(items):
    rank = {path: position for position, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))  # stable: cells stay in order
