"""Checks on what a learner passes in, done once, where it enters, before any model work starts.

Every public function of the course checks its arguments with these helpers, so that a bad value
gets one clear ``ValueError``/``TypeError`` naming the argument and the fix, never a traceback from
torch, transformers or datasets. The commands in :mod:`stutor.cli` call the same helpers on their
parsed options.

Taught in: notebook 01 (what ``encode`` accepts) and every notebook that trains or encodes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from datasets import Dataset


def _is_number(value: Any, kind: type) -> bool:
    return not isinstance(value, bool) and isinstance(value, kind) and math.isfinite(value)


def check_positive(name: str, value: Any, kind: type = int, *, optional: bool = False) -> None:
    """Refuse anything but a positive, finite number of the right kind.

    Args:
        name: how the argument is called in the error message.
        value: the value to check; ``bool`` is refused even though it is an ``int``.
        kind: ``int`` for counts (batch size, steps), ``numbers.Real`` for rates.
        optional: also accept None.

    Raises:
        ValueError: not a positive finite number of that kind (the message names the argument).
    """
    if optional and value is None:
        return
    if not _is_number(value, kind) or value <= 0:
        noun = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name} must be {noun}{' or None' if optional else ''}, not {value!r}.")


def check_non_negative_int(name: str, value: Any, *, what: str = "") -> None:
    """Refuse anything but an integer >= 0 (a seed, a count that may be zero).

    Args:
        name: the argument's name in the message.
        value: the value to check (``bool`` is refused).
        what: what the number counts, added to the message.

    Raises:
        ValueError: not an integer >= 0.
    """
    if not _is_number(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer{f' ({what})' if what else ''}, not {value!r}.")


def check_fraction(name: str, value: Any, *, hint: str = "") -> None:
    """Refuse anything but a number from 0 up to, but not including, 1.

    Args:
        name: the argument's name in the message.
        value: the value to check.
        hint: one sentence added to the message (what a usual value is).

    Raises:
        ValueError: not a number in [0, 1).
    """
    if not _is_number(value, Real) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number from 0 up to but not including 1, not {value!r}.{hint}")


def check_choice(name: str, value: Any, choices: Sequence[Any], *, allow_none: bool = False) -> None:
    """Refuse a value that is not one of ``choices``; the message lists them.

    Raises:
        ValueError: an unknown value.
    """
    if (allow_none and value is None) or value in choices:
        return
    extra = " (or None for all)" if allow_none else ""
    raise ValueError(f"Unknown {name} {value!r}. Choose one of {tuple(choices)}{extra}.")


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


def _kind(value: Any) -> str:
    """The kind of a cell, as a learner would name it (int and float count as one: numbers)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "dict"
    return type(value).__name__


def check_rows(rows: Sequence[Mapping[str, Any]], what: str = "data", *, first_row: int = 0) -> None:
    """Refuse rows that a ``Dataset`` cannot hold faithfully: differing keys, empty cells, mixed types.

    Args:
        rows: a list of dicts (one per row).
        what: how to call the data in messages (a file name, "training data").
        first_row: the number the first row gets in messages (1 for a file's first data line).

    Raises:
        ValueError: a row whose keys differ from the first row's, a ``None``/NaN cell, or a column
            whose cells are of different kinds (text in one row, a number in another); the message
            names the column and the row.
    """
    if not rows:
        raise ValueError(f"The {what} is empty: it has no rows. Pass at least one example.")
    keys = list(rows[0])
    kinds: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(rows, start=first_row):
        if list(row) != keys and set(row) != set(keys):
            missing, extra = sorted(set(keys) - set(row)), sorted(set(row) - set(keys))
            raise ValueError(
                f"{what}: row {number} has the keys {list(row)}, but row {first_row} has {keys} "
                f"(missing {missing}, extra {extra}); every row needs the same columns."
            )
        for key in keys:
            value = row[key]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                raise ValueError(
                    f"{what}: column {key!r} is empty in row {number}; fill it in or remove the row "
                    "(empty cells are never dropped silently)."
                )
            kind = _kind(value)
            seen = kinds.setdefault(key, (kind, number))
            if seen[0] != kind:
                raise ValueError(
                    f"{what}: column {key!r} holds a {seen[0]} in row {seen[1]} but a {kind} in row {number} "
                    f"({value!r:.40}); a column holds one kind of value: convert them all (e.g. str(...))."
                )


def as_dataset(rows: Any, what: str = "data") -> Dataset:
    """Accept a ``Dataset``, a non-empty list of dicts or a pandas ``DataFrame``; refuse anything else.

    Lists and data frames are checked with :func:`check_rows` first, so that a row with other keys,
    an empty cell or a column of mixed types is named, never passed on to pyarrow.

    Args:
        rows: the data.
        what: how to call it in error messages.

    Returns:
        A ``datasets.Dataset``.

    Raises:
        TypeError: a ``DatasetDict`` (pick a split), a single dict, or another type.
        ValueError: no rows, or rows that :func:`check_rows` refuses.
    """
    from datasets import Dataset, DatasetDict

    if isinstance(rows, DatasetDict):
        raise TypeError(
            f"The {what} is a DatasetDict with splits {list(rows)}; pick one split, e.g. dataset[{next(iter(rows))!r}]."
        )
    if isinstance(rows, Dataset):
        return rows
    if type(rows).__name__ == "DataFrame" and hasattr(rows, "to_dict"):
        rows = rows.to_dict(orient="records")
    if isinstance(rows, Mapping):
        raise TypeError(
            f"The {what} is a single dict; pass a list of row dicts, or Dataset.from_dict(...) for a dict of columns."
        )
    if isinstance(rows, Sequence) and not isinstance(rows, str | bytes):
        bad = next((i for i, r in enumerate(rows) if not isinstance(r, Mapping)), None)
        if bad is not None:
            raise TypeError(
                f"The {what}: row {bad} is {type(rows[bad]).__name__} ({rows[bad]!r:.40}), not a dict; "
                "pass a list of dicts like [{'anchor': ..., 'positive': ...}, ...]."
            )
        items = [dict(r) for r in rows]
        check_rows(items, what)
        return Dataset.from_list(items)
    raise TypeError(
        f"The {what} must be a datasets.Dataset, a list of dicts or a pandas DataFrame, not {type(rows).__name__}."
    )


def check_output_dir(output_dir: Any, *, name: str = "output_dir", optional: bool = True) -> Path | None:
    """Check a folder that will be written to: a path, not a file, not under a file.

    Args:
        output_dir: the folder (created later if missing), or None when ``optional``.
        name: the argument's name in messages (``--output-dir`` for the command).
        optional: accept None (nothing is written).

    Returns:
        The folder as a ``Path`` (``~`` expanded), or None.

    Raises:
        TypeError: not a path.
        ValueError: a file, or a folder under a file.
    """
    if output_dir is None and optional:
        return None
    if not isinstance(output_dir, str | Path) or not str(output_dir).strip():
        raise TypeError(
            f"{name} must be a folder path (str or Path){' or None' if optional else ''}, not {output_dir!r}."
        )
    path = Path(output_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} {str(path)!r} is a file; pass a folder (it is created if missing).")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise ValueError(f"{name} {str(path)!r} lies under {str(parent)!r}, which is a file.")
    return path
