"""Exercises of notebook 02: the first layer is the last hidden state (padding, pooler_output, masked mean)."""

from __future__ import annotations

from typing import Any

from stutor.exercises.answers import as_float, as_float_tensor, as_int, as_sentence_transformer, texts_or_hint
from stutor.exercises.registry import exercise, hint


@exercise("02.1", "Which sentence of the batch (its index) has the unmasked mean furthest from its masked mean?")
def furthest_unmasked(answer: Any, sentences: Any, model: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling

    index = as_int(answer, "the index of a sentence in the batch")
    texts = texts_or_hint(sentences, "sentences")
    if not 0 <= index < len(texts):
        hint(f"the batch has {len(texts)} sentences: the index is between 0 and {len(texts) - 1}.")
    transformer = as_sentence_transformer(model, "model=, the notebook's st_model")[0]
    with torch.no_grad():
        output = transformer(transformer.preprocess(texts))
    tokens, mask = output["token_embeddings"], output["attention_mask"]
    gap = (masked_mean_pooling(tokens, mask) - tokens.mean(dim=1)).norm(dim=1)
    padding = (mask.shape[1] - mask.sum(dim=1)).tolist()
    if len(set(padding)) < len(padding):
        hint("two of your sentences have the same number of tokens: choose lengths that clearly differ.")
    if index != int(gap.argmax()):
        hint("compare, for each sentence, how many padding positions the batch gives it.")
    return f"sentence {index} gets {padding[index]} padding positions, and the plain mean averages all of them in."


@exercise("02.2", "Max |pooler_output - Pooling layer's output| for `text` (a number): are they the same vector?")
def pooler_difference(answer: Any, text: Any, raw_model: Any, tokenizer: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling

    value = as_float(answer, "a maximum absolute difference")
    encoded = tokenizer([text], return_tensors="pt")
    with torch.no_grad():
        output = raw_model(**encoded)
    if getattr(output, "pooler_output", None) is None:
        hint("this raw model returns no pooler_output; load it with models.load_hf_model(choice).")
    pooled = masked_mean_pooling(output.last_hidden_state, encoded["attention_mask"])
    expected = (output.pooler_output - pooled).abs().max().item()
    if abs(value - expected) <= max(1e-3, 0.01 * expected):
        return (
            "pooler_output is not the sentence embedding: it is a separate dense layer with tanh on the first "
            "token, which the Sentence Transformer does not use."
        )
    if value < 1e-3:
        hint("the two are not equal: compare raw_out.pooler_output with the Pooling layer's sentence_embedding.")
    first = (output.pooler_output - output.last_hidden_state[:, 0]).abs().max().item()
    if abs(value - first) <= max(1e-3, 0.01 * first):
        hint("you compared with the first token's vector; compare with the Pooling layer's output (the mean).")
    hint("compute (a - b).abs().max() between pooler_output and the Pooling output of the same text.")


@exercise(
    "02.3",
    "Compute the masked mean of `hidden` by hand (one vector per sentence), without layers.masked_mean_pooling.",
)
def masked_mean(answer: Any, hidden: Any, attention_mask: Any) -> str:
    import torch

    from stutor.layers import masked_mean_pooling

    vectors = as_float_tensor(answer, "the pooled vectors, shape (sentences, hidden size)")
    expected = masked_mean_pooling(hidden, attention_mask)
    if tuple(vectors.shape) != tuple(expected.shape):
        hint(f"your tensor has shape {tuple(vectors.shape)}: mean pooling gives one vector per sentence.")
    if torch.allclose(vectors, expected, atol=1e-5):
        return "it equals the Pooling layer's output: padding positions are left out of every mean."
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    if torch.allclose(vectors, hidden.mean(dim=1), atol=1e-5):
        hint("you averaged over every position, padding included: the attention mask says which positions count.")
    if torch.allclose(vectors, (hidden * mask).sum(dim=1) / hidden.shape[1], atol=1e-5):
        hint("you left the padding out of the sum but divided by the padded length.")
    hint("sum the token vectors where the mask is 1 and divide by each sentence's own number of real tokens.")
