"""Where sentence embeddings stop: topic classification and duplicate detection, measured.

Three ways to use the same pretrained transformer on labelled data:

- *frozen embeddings + a linear classifier*: encode once, fit scikit-learn's logistic regression;
- *fine-tuned embeddings + the same linear classifier* (the SetFit recipe): the bi-encoder is first
  trained with a contrastive loss on the labels (same class close, other classes apart);
- *a fine-tuned classifier*: ``AutoModelForSequenceClassification``, trained on the labels;
- for pairs, a *cross-encoder* (one transformer reads both texts, one output) against a
  *bi-encoder* (each text embedded alone, cosine similarity, a threshold).

This module holds a small, seeded PyTorch fine-tuning loop for the sequence-classification models,
partial freezing (of those models and of a Sentence Transformer or Cross Encoder alike) and the
threshold search of the bi-encoder; the data (bundled topics and duplicate pairs, split by
paraphrase group) comes from :func:`stutor.data.topic_sentences` and :func:`stutor.data.duplicate_pairs`.

Taught in: notebook 06.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real
from typing import Any

import numpy as np

from stutor import memory
from stutor.checks import as_tensor, check_fraction, check_non_negative_int, check_positive, check_seed, to_list


def _check_model(model: Any, tokenizer: Any) -> None:
    """Refuse what is not a sequence-classification model and its tokenizer, before any work."""
    from torch import nn

    if not isinstance(model, nn.Module) or not isinstance(
        getattr(getattr(model, "config", None), "num_labels", None), int
    ):
        raise TypeError(
            f"model must be a transformers AutoModelForSequenceClassification, not {type(model).__name__}: "
            "load one with AutoModelForSequenceClassification.from_pretrained(name, num_labels=...)."
        )
    if not callable(tokenizer):
        raise TypeError(f"tokenizer must be the model's Hugging Face tokenizer, not {type(tokenizer).__name__}.")


def _check_inputs(inputs: Any, labels: Any = None) -> list[Any]:
    inputs = to_list(inputs)
    if isinstance(inputs, str) or not isinstance(inputs, Sequence) or not inputs:
        raise TypeError("inputs must be a non-empty list of texts, or of (text, text) pairs.")
    items = list(inputs)
    pairs = isinstance(items[0], list | tuple)
    for index, item in enumerate(items):
        ok = (
            isinstance(item, list | tuple) and len(item) == 2 and all(isinstance(t, str) and t.strip() for t in item)
            if pairs
            else isinstance(item, str) and bool(item.strip())
        )
        if not ok:
            want = "a (text, text) pair of non-empty strings" if pairs else "a non-empty string"
            raise TypeError(f"inputs[{index}] is {item!r:.60}; every item must be {want} (like inputs[0]).")
    if labels is not None and (isinstance(labels, str) or not isinstance(labels, Sequence)):
        raise TypeError(f"labels must be a list of integers (one per input), not {type(labels).__name__}.")
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"There are {len(items)} inputs but {len(labels)} labels; give one label per input.")
    return items


def _batches(items: list[Any], tokenizer: Any, batch_size: int, max_length: int):
    for start in range(0, len(items), batch_size):
        chunk = items[start : start + batch_size]
        if isinstance(chunk[0], list | tuple):
            first, second = [list(t) for t in zip(*chunk, strict=True)]
            yield (
                start,
                tokenizer(first, second, padding=True, truncation=True, max_length=max_length, return_tensors="pt"),
            )
        else:
            yield start, tokenizer(chunk, padding=True, truncation=True, max_length=max_length, return_tensors="pt")


def _hugging_face_model(model: Any) -> Any:
    """The Hugging Face model inside a Sentence Transformer or Cross Encoder (its first module); else ``model``."""
    from torch import nn

    if isinstance(model, nn.Sequential) and len(model) and hasattr(model[0], "auto_model"):
        return model[0].auto_model
    return model


def freeze_lower_layers(model: Any, trainable_layers: int = 2) -> int:
    """Freeze the embeddings and all but the top ``trainable_layers`` transformer layers.

    Partial fine-tuning: the head and the top layers learn, the rest keeps its pretrained weights.
    It costs less time and memory per step than training every weight (no gradients below).
    Taught in: notebook 06, where the fine-tuned classifier and the SetFit-style bi-encoder train
    the same top layers.

    Args:
        model: an ``AutoModelForSequenceClassification`` or ``AutoModel`` of a BERT-like model
            (BERT, RoBERTa, DistilBERT, ...), or a ``SentenceTransformer`` / ``CrossEncoder``
            whose first module holds one (its ``auto_model``).
        trainable_layers: how many of the top transformer layers stay trainable (0 = head only).

    Returns:
        The number of parameters that remain trainable (in the whole ``model``).

    Raises:
        TypeError: something that holds no Hugging Face model.
        ValueError: a negative or too large ``trainable_layers``, or a model without the usual
            ``embeddings`` and layer list.
    """
    whole, model = model, _hugging_face_model(model)
    base = getattr(model, "base_model", None)
    if base is None:
        raise TypeError(
            f"model must be a transformers AutoModelForSequenceClassification, or a SentenceTransformer or "
            f"CrossEncoder, not {type(model).__name__}."
        )
    container = getattr(base, "encoder", None) or getattr(base, "transformer", None)
    layers = getattr(container, "layer", None)
    if layers is None or not hasattr(base, "embeddings"):
        raise ValueError(f"{type(model).__name__} has no embeddings + encoder.layer list; freeze its layers by hand.")
    check_non_negative_int("trainable_layers", trainable_layers, what="the top layers left trainable")
    if trainable_layers > len(layers):
        raise ValueError(
            f"trainable_layers must be between 0 and {len(layers)} (the model's layers), not {trainable_layers}."
        )
    frozen = [base.embeddings, *layers[: len(layers) - trainable_layers]]
    for module in frozen:
        for parameter in module.parameters():
            parameter.requires_grad = False
    return sum(p.numel() for p in whole.parameters() if p.requires_grad)


def fine_tune(
    model: Any,
    tokenizer: Any,
    inputs: Sequence[Any],
    labels: Sequence[int],
    *,
    epochs: int = 2,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    warmup_ratio: float = 0.1,
    seed: int = 12,
    max_length: int = 64,
) -> list[float]:
    """Fine-tune a sequence-classification model on labelled texts or text pairs (plain PyTorch).

    AdamW, a linear warmup over ``warmup_ratio`` of the steps then linear decay, shuffled batches.
    With ``num_labels == 1`` (a cross-encoder) the loss is binary cross-entropy on the logit and
    the labels are 0/1; otherwise it is cross-entropy over the classes.

    Args:
        model: an ``AutoModelForSequenceClassification`` (trained in place).
        tokenizer: its tokenizer.
        inputs: texts, or (text, text) pairs for a cross-encoder.
        labels: one integer label per input.
        epochs: passes over the data.
        batch_size: inputs per step.
        learning_rate: peak learning rate.
        warmup_ratio: fraction of the steps with a rising learning rate, in [0, 1).
        seed: seeds the shuffling and dropout: the same seed gives the same model.
        max_length: longest input in tokens (pairs count together).

    Returns:
        The training loss of every step.

    Raises:
        TypeError / ValueError: bad inputs, labels outside ``0..num_labels-1`` (0/1 for one
            output), or non-positive numbers. All before training starts.
    """
    import torch
    from transformers import get_linear_schedule_with_warmup

    labels = to_list(labels)
    items = _check_inputs(inputs, labels)
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("max_length", max_length)):
        check_positive(name, value)
    check_positive("learning_rate", learning_rate, Real)
    check_fraction("warmup_ratio", warmup_ratio)
    check_seed("seed", seed)
    _check_model(model, tokenizer)
    num_labels = int(model.config.num_labels)
    allowed = 2 if num_labels == 1 else num_labels
    bad = next((y for y in labels if isinstance(y, bool) or not isinstance(y, int) or not 0 <= y < allowed), None)
    if bad is not None:
        raise ValueError(f"Label {bad!r} is not an integer in 0..{allowed - 1} (the model has {num_labels} output(s)).")

    torch.manual_seed(seed)
    order = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(len(items) / batch_size)
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("Every parameter of the model is frozen: nothing to train.")
    optimizer = torch.optim.AdamW(trainable, lr=float(learning_rate), weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(
        optimizer, math.ceil(warmup_ratio * steps_per_epoch * epochs), steps_per_epoch * epochs
    )
    targets = torch.tensor(list(labels))
    losses: list[float] = []
    model.train()
    for _ in range(epochs):
        permutation = order.permutation(len(items))
        shuffled = [items[i] for i in permutation]
        shuffled_targets = targets[torch.from_numpy(permutation)]
        for start, batch in _batches(shuffled, tokenizer, batch_size, max_length):
            logits = model(**batch).logits
            y = shuffled_targets[start : start + batch_size]
            if num_labels == 1:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(logits.squeeze(-1), y.float())
            else:
                loss = torch.nn.functional.cross_entropy(logits, y)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    model.eval()
    del optimizer, schedule
    memory.return_freed_memory()
    return losses


def predict_logits(
    model: Any, tokenizer: Any, inputs: Sequence[Any], *, batch_size: int = 64, max_length: int = 64
) -> np.ndarray:
    """The model's logits for texts or text pairs, in eval mode without gradients.

    Args:
        model: an ``AutoModelForSequenceClassification``.
        tokenizer: its tokenizer.
        inputs: texts, or (text, text) pairs.
        batch_size: inputs per forward pass.
        max_length: longest input in tokens.

    Returns:
        An array of shape (inputs, num_labels).
    """
    import torch

    items = _check_inputs(inputs)
    check_positive("batch_size", batch_size)
    check_positive("max_length", max_length)
    _check_model(model, tokenizer)
    model.eval()
    outputs = []
    with torch.inference_mode():
        for _, batch in _batches(items, tokenizer, batch_size, max_length):
            outputs.append(model(**batch).logits.float().numpy())
    return np.concatenate(outputs)


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> tuple[float, float]:
    """The score threshold that best separates label 1 (score above) from label 0, on data you train on.

    Args:
        scores: one score per pair (a cosine similarity or a logit).
        labels: 0 or 1 per pair.

    Returns:
        ``(threshold, accuracy on these pairs)``; predict 1 when ``score > threshold``.

    Raises:
        TypeError: scores or labels that are not numbers (lists, numpy arrays and tensors are taken).
        ValueError: different lengths, no pairs, NaN or inf scores, or labels other than 0 and 1.
    """
    s = as_tensor("scores", scores, ("pairs",)).double().cpu().numpy()
    y = as_tensor("labels", labels, ("pairs",)).cpu().numpy()
    if s.shape != y.shape or s.size == 0:
        raise ValueError(f"scores and labels must be two non-empty lists of equal length, not {s.shape} and {y.shape}.")
    if not set(np.unique(y).tolist()) <= {0, 1}:
        raise ValueError(f"labels must be 0 or 1, not {sorted(set(np.unique(y).tolist()))}.")
    candidates = np.concatenate([[s.min() - 1.0], np.sort(s)])
    accuracies = [float(np.mean((s > t) == (y == 1))) for t in candidates]
    best = int(np.argmax(accuracies))
    return float(candidates[best]), accuracies[best]
