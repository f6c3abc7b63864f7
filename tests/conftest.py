"""Shared fixtures: the embedded model is loaded once per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("STUTOR_QUIET", "1")


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
