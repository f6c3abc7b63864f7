"""Checks on the texts a learner passes in, done before any model work starts.

Taught in: notebook 01 (what ``encode`` accepts).
"""

from __future__ import annotations

from collections.abc import Sequence


def check_texts(texts: Sequence[str] | str, *, name: str = "texts", allow_empty_strings: bool = False) -> list[str]:
    """Validate a list of texts and return it as a plain list.

    Args:
        texts: a non-empty list (or tuple) of strings. A single string is refused, because
            iterating it would yield characters.
        name: how the argument is called in error messages.
        allow_empty_strings: accept ``""`` items.

    Returns:
        The texts as a ``list[str]``.

    Raises:
        TypeError: not a list of strings (the message names the first bad item).
        ValueError: an empty list or an empty string.
    """
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of strings, not a single string: wrap it as [{texts[:40]!r}].")
    if texts is None or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a list of strings, not {type(texts).__name__}.")
    items = list(texts)
    if not items:
        raise ValueError(f"{name} is empty: pass at least one string.")
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise TypeError(
                f"{name}[{index}] is {type(item).__name__} ({item!r:.40}), not str: convert it with str() or remove it."
            )
        if not allow_empty_strings and not item.strip():
            raise ValueError(f"{name}[{index}] is an empty string: remove it or write some text.")
    return items
