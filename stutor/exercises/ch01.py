"""Exercises of notebook 01: how a Sentence Transformer is built (pooling, similarity, tokens)."""

from __future__ import annotations

from typing import Any

from stutor.exercises.answers import as_int, as_sentence_transformer, texts_or_hint
from stutor.exercises.registry import exercise, hint

_PROBE = "I am a student"
_TOKEN_TEXT = "Tokenization splits uncommon words into pieces"
_NEGATIVE = " (neg)"  # how notebook 01 labels a group's hard negative


@exercise("01.1", "Build a Sentence Transformer whose Pooling layer keeps only the first token ([CLS]).")
def first_token_model(answer: Any) -> str:
    import torch
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    model = as_sentence_transformer(answer, "the model you built")
    if not isinstance(model[0], Transformer) or not any(isinstance(module, Pooling) for module in model):
        hint("a Sentence Transformer here is a Transformer module followed by a Pooling module; yours is not.")
    model.eval()
    with torch.no_grad():
        features = model[0].preprocess([_PROBE])
        first_token = model[0](features)["token_embeddings"][0, 0]
        sentence = model.encode([_PROBE], convert_to_tensor=True)[0]
    cosine = torch.nn.functional.cosine_similarity(first_token, sentence, dim=0).item()
    if cosine < 0.9999:
        hint("your sentence vector is not the first token's output vector: look at the Pooling layer's pooling_mode.")
    return "the sentence vector is the output vector of the first token."


def _heatmap_groups(sentences: Any, labels: Any) -> tuple[list[str], list[str], str, str]:
    """The heatmap's sentences and labels, the first group's label and the other group's label."""
    texts = texts_or_hint(sentences, "sentences")
    names = texts_or_hint(labels, "labels")
    if len(names) != len(texts):
        hint(f"pass the heatmap's labels with its sentences: {len(names)} labels for {len(texts)} sentences.")
    group = names[0]
    others = [name for name in names if name != group and not name.endswith(_NEGATIVE)]
    if group + _NEGATIVE not in names or not others:
        hint("pass sentences= and labels=, the heatmap's sentences and their labels from the notebook.")
    return texts, names, group, others[0]


@exercise(
    "01.2",
    "Write your own paraphrase of the first group's question (sentences 0-2 of the heatmap) as a string.",
)
def own_paraphrase(answer: Any, model: Any, sentences: Any, labels: Any) -> str:
    import numpy as np

    if not isinstance(answer, str) or not answer.strip():
        hint("the answer is one sentence of your own, a non-empty string.")
    sentences, labels, group, other_group = _heatmap_groups(sentences, labels)
    if answer.strip().lower() in {s.lower() for s in sentences}:
        hint("that sentence is already in the heatmap: write the question in your own words.")
    model = as_sentence_transformer(model, "model=, the notebook's model")
    vectors = model.encode([answer, *sentences], convert_to_tensor=True)
    similarity = model.similarity(vectors[:1], vectors[1:])[0].numpy()

    def mean_to(label: str) -> float:
        return float(np.mean([s for s, name in zip(similarity, labels, strict=True) if name == label]))

    own, negative, other = mean_to(group), mean_to(group + _NEGATIVE), mean_to(other_group)
    if own <= max(negative, other):
        closer = "the group's hard negative" if negative >= other else "the other group"
        hint(
            f"your sentence is as close or closer to {closer} ({max(negative, other):.2f}) than to group {group} "
            f"({own:.2f}): ask the same thing as {group} in other words."
        )
    return (
        f"mean cosine similarity {own:.2f} to group {group}, {negative:.2f} to its hard negative, "
        f"{other:.2f} to group {other_group}."
    )


@exercise("01.3", f"How many tokens does {_TOKEN_TEXT!r} give (the length of its input_ids)?")
def token_count(answer: Any, model: Any) -> str:
    count = as_int(answer, "a number of tokens")
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is None:
        hint("pass model=, the notebook's model (or its Transformer module), which holds the tokenizer.")
    expected = len(tokenizer(_TOKEN_TEXT)["input_ids"])
    pieces = len(tokenizer(_TOKEN_TEXT, add_special_tokens=False)["input_ids"])
    if count == expected:
        return f"{pieces} word pieces plus {expected - pieces} special tokens the tokenizer adds."
    if count == pieces:
        hint("you counted the word pieces but not the markers the tokenizer adds at the start and the end.")
    if count == len(_TOKEN_TEXT.split()):
        hint("that is the number of words; the tokenizer splits uncommon words into several pieces.")
    hint("count the entries of input_ids that transformer.preprocess([text]) returns for this text.")
