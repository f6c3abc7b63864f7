"""Check, with numbers, what the first two layers of a Sentence Transformer compute.

The Transformer module's ``token_embeddings`` should equal the raw Hugging Face model's
``last_hidden_state``, and the Pooling layer's output should equal a mean over the tokens that
the attention mask keeps, computed by hand.

Taught in: notebook 02.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stutor.checks import as_tensor, check_non_negative, check_texts


@dataclass(frozen=True)
class LayerComparison:
    """What :func:`compare_layers` found.

    Attributes:
        n_texts: how many texts were compared.
        token_shape: shape of ``token_embeddings`` (batch, tokens, hidden size).
        token_max_abs_diff: largest |module - raw ``last_hidden_state``| over all real tokens.
        pooled_shape: shape of the Pooling output, or None when no Pooling layer was given.
        pooled_max_abs_diff: largest |Pooling output - masked mean by hand|.
        unmasked_max_abs_diff: largest |Pooling output - plain mean over all positions|;
            non-zero as soon as a batch holds padding.
        tolerance: the largest difference still counted as equal.
    """

    n_texts: int
    token_shape: tuple[int, ...]
    token_max_abs_diff: float
    pooled_shape: tuple[int, ...] | None
    pooled_max_abs_diff: float | None
    unmasked_max_abs_diff: float | None
    tolerance: float

    @property
    def tokens_match(self) -> bool:
        """True when the module's token embeddings equal the raw last hidden state."""
        return self.token_max_abs_diff <= self.tolerance

    @property
    def pooling_matches(self) -> bool | None:
        """True when Pooling equals the masked mean by hand (None without a Pooling layer)."""
        if self.pooled_max_abs_diff is None:
            return None
        return self.pooled_max_abs_diff <= self.tolerance

    @property
    def verdict(self) -> str:
        """One line: do the layers compute what the course says they do?"""
        parts = [f"token_embeddings {'==' if self.tokens_match else '!='} last_hidden_state"]
        if self.pooling_matches is not None:
            parts.append(f"Pooling {'==' if self.pooling_matches else '!='} masked mean")
        return "; ".join(parts) + f" (tolerance {self.tolerance:g})"

    def __str__(self) -> str:
        lines = [
            f"texts compared:         {self.n_texts}",
            f"token_embeddings shape: {self.token_shape}",
            f"max |module - raw|:     {self.token_max_abs_diff:.2e}",
        ]
        if self.pooled_shape is not None:
            lines += [
                f"sentence embedding:     {self.pooled_shape}",
                f"max |pool - masked|:    {self.pooled_max_abs_diff:.2e}",
                f"max |pool - unmasked|:  {self.unmasked_max_abs_diff:.2e}",
            ]
        lines.append(f"verdict: {self.verdict}")
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython display
        printer.text(str(self))


def masked_mean_pooling(token_embeddings: Any, attention_mask: Any) -> torch.Tensor:
    """Average token embeddings over the positions the attention mask keeps.

    Args:
        token_embeddings: (batch, tokens, hidden): a torch tensor, a numpy array or nested lists.
        attention_mask: (batch, tokens) of 0/1 (or booleans), of the same kinds.

    Returns:
        (batch, hidden) tensor: one embedding per text; padding does not count.

    Raises:
        TypeError: not numbers (a string, None, a dict, ...).
        ValueError: other shapes (both are named), a mask with values other than 0 and 1, or NaN/inf.
    """
    tokens = as_tensor("token_embeddings", token_embeddings, ("batch", "tokens", "hidden"))
    mask = as_tensor("attention_mask", attention_mask, ("batch", "tokens"))
    if tokens.shape[:2] != mask.shape:
        raise ValueError(
            f"token_embeddings {tuple(tokens.shape)} and attention_mask "
            f"{tuple(mask.shape)} disagree on (batch, tokens): pass the mask of the same batch."
        )
    if bool(((mask != 0) & (mask != 1)).any()):
        odd = mask[(mask != 0) & (mask != 1)][0].item()
        raise ValueError(f"attention_mask holds {odd:g}; it must be 1 for a real token and 0 for padding.")
    weights = mask.to(device=tokens.device, dtype=tokens.dtype).unsqueeze(-1)
    return (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)


def _split_model(model):
    from sentence_transformers.sentence_transformer import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    if isinstance(model, Transformer):
        return model, None
    if isinstance(model, SentenceTransformer):
        transformer = model[0]
        if not isinstance(transformer, Transformer):
            raise TypeError(
                f"The first module of this SentenceTransformer is {type(transformer).__name__}, not "
                "Transformer; compare_layers needs a model built on a Hugging Face transformer."
            )
        pooling = next((module for module in model if isinstance(module, Pooling)), None)
        if pooling is not None and pooling.pooling_mode != "mean":
            raise ValueError(
                f"The Pooling layer uses mode {pooling.pooling_mode!r}; the hand computation here is the "
                "masked mean. Build the model with pooling='mean' to compare."
            )
        return transformer, pooling
    raise TypeError(
        f"model must be a SentenceTransformer or its Transformer module, not {type(model).__name__}. "
        "Pass the model from stutor.models.build_sentence_transformer(...) or model[0]."
    )


def compare_layers(
    model,
    raw_model,
    tokenizer,
    texts: Sequence[str],
    *,
    tolerance: float = 1e-5,
) -> LayerComparison:
    """Compare a Sentence Transformer's first layers with the raw Hugging Face model.

    Args:
        model: a ``SentenceTransformer`` (Transformer + Pooling) or just its ``Transformer`` module.
        raw_model: the matching ``transformers.AutoModel``.
        tokenizer: the matching ``transformers.AutoTokenizer``.
        texts: one or more strings; several of different lengths exercise padding.
        tolerance: largest absolute difference still counted as equal.

    Returns:
        A :class:`LayerComparison` that prints readably.

    Raises:
        TypeError: wrong object types, or texts that are not strings.
        ValueError: empty texts, or a raw model/tokenizer that does not match the module.

    Example:
        >>> result = compare_layers(st_model, raw, tokenizer, ["I am a student"])  # doctest: +SKIP
        >>> result.tokens_match  # doctest: +SKIP
        True
    """
    texts = check_texts(texts)
    check_non_negative("tolerance", tolerance, hint=" A usual tolerance is 1e-5.")
    transformer, pooling = _split_model(model)
    hidden = getattr(getattr(raw_model, "config", None), "hidden_size", None)
    if hidden is None or not callable(raw_model):
        raise TypeError(
            f"raw_model must be a Hugging Face model (transformers.AutoModel), not {type(raw_model).__name__}."
        )
    if hidden != transformer.get_embedding_dimension():
        raise ValueError(
            f"The raw model has hidden size {hidden}, the module {transformer.get_embedding_dimension()}: "
            "they are different models. Load both from the same name or folder."
        )
    if not callable(tokenizer):
        raise TypeError(f"tokenizer must be a Hugging Face tokenizer, not {type(tokenizer).__name__}.")

    features = transformer.preprocess(texts)
    encoded = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    if features["input_ids"].shape != encoded["input_ids"].shape or not torch.equal(
        features["input_ids"], encoded["input_ids"]
    ):
        raise ValueError(
            "The tokenizer does not split the texts the way the module does, so it belongs to another "
            "model. Load the tokenizer from the same name or folder as the model."
        )

    was_training = (transformer.training, raw_model.training)
    transformer.eval()
    raw_model.eval()
    try:
        with torch.no_grad():
            module_out = transformer(dict(features))
            raw_out = raw_model(**encoded)
            pooled = pooling(dict(module_out))["sentence_embedding"] if pooling is not None else None
    finally:
        transformer.train(was_training[0])
        raw_model.train(was_training[1])

    mask = encoded["attention_mask"].bool()
    token_diff = (module_out["token_embeddings"] - raw_out.last_hidden_state).abs()[mask].max().item()
    pooled_diff = unmasked_diff = None
    if pooled is not None:
        by_hand = masked_mean_pooling(raw_out.last_hidden_state, encoded["attention_mask"])
        pooled_diff = (pooled - by_hand).abs().max().item()
        unmasked_diff = (pooled - raw_out.last_hidden_state.mean(dim=1)).abs().max().item()
    return LayerComparison(
        n_texts=len(texts),
        token_shape=tuple(module_out["token_embeddings"].shape),
        token_max_abs_diff=token_diff,
        pooled_shape=tuple(pooled.shape) if pooled is not None else None,
        pooled_max_abs_diff=pooled_diff,
        unmasked_max_abs_diff=unmasked_diff,
        tolerance=tolerance,
    )
