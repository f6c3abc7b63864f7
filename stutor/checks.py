"""Checks on what a learner passes in, done once, where it enters, before any model work starts.

Every public function of the course checks its arguments with these helpers, so that a bad value
gets one clear ``ValueError``/``TypeError`` naming the argument and the fix, never a traceback from
torch, transformers or datasets. The commands in :mod:`stutor.cli` call the same helpers on their
parsed options. Numbers (counts of at most 2**63 - 1, 32-bit seeds, no NaN or inf), texts, data sets
(:func:`as_dataset`), numbers in any array form (:func:`as_tensor`), devices and output folders each
have one helper here.

Taught in: no notebook calls it directly; the ``stutor`` functions every notebook (01-09) calls check
their arguments with it.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from numbers import Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from datasets import Dataset

MAX_INT = 2**63 - 1
"""The largest integer a count may be: torch, numpy and Arrow store counts as 64-bit integers."""
MAX_SEED = 2**32 - 1
"""The largest seed: numpy (seeded by every training run) takes 32-bit seeds."""


def _is_number(value: Any, kind: type) -> bool:
    """A number of that kind, not a bool, and finite (an int is always finite, however large)."""
    return not isinstance(value, bool) and isinstance(value, kind) and (isinstance(value, int) or math.isfinite(value))


def _show(value: Any) -> str:
    """``repr(value)``, with an integer too long to print as ``about 10**N``."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**24:
        return f"about 10**{int(math.log10(abs(value)))}"
    return repr(value)


def _too_large(name: str, value: Any) -> None:
    """Refuse an integer that does not fit in 64 bits (it would overflow inside torch or numpy)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise ValueError(
            f"{name} is {_show(value)}, too large: it must be at most 2**63 - 1 ({MAX_INT}), the largest 64-bit "
            "integer."
        )


def _numpy_hint(value: Any) -> str:
    """A hint for numpy scalars, which are not Python numbers."""
    return " (a numpy number: convert it with int(...) or float(...))" if type(value).__module__ == "numpy" else ""


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
    _too_large(name, value)
    if not _is_number(value, kind) or value <= 0:
        noun = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name} must be {noun}{' or None' if optional else ''}, not {value!r}{_numpy_hint(value)}.")


def check_non_negative_int(name: str, value: Any, *, what: str = "") -> None:
    """Refuse anything but an integer >= 0 (a seed, a count that may be zero).

    Args:
        name: the argument's name in the message.
        value: the value to check (``bool`` is refused).
        what: what the number counts, added to the message.

    Raises:
        ValueError: not an integer >= 0, or one above 2**63 - 1.
    """
    _too_large(name, value)
    if not _is_number(value, int) or value < 0:
        raise ValueError(
            f"{name} must be a non-negative integer{f' ({what})' if what else ''}, not {value!r}{_numpy_hint(value)}."
        )


def check_seed(name: str, value: Any) -> None:
    """Refuse a seed that is not an integer from 0 to 2**32 - 1 (numpy's range, which every run seeds).

    Raises:
        ValueError: not an integer, negative, or too large for 32 bits.
    """
    if not _is_number(value, int) or not 0 <= value <= MAX_SEED:
        raise ValueError(
            f"{name} must be a non-negative integer below 2**32 (at most {MAX_SEED}), not {_show(value)}"
            f"{_numpy_hint(value)}: numpy takes 32-bit seeds, e.g. 12."
        )


def check_non_negative(name: str, value: Any, *, hint: str = "") -> None:
    """Refuse anything but a finite real number >= 0 (a weight decay, a tolerance).

    Raises:
        ValueError: NaN, inf, a negative number, a bool or not a number.
    """
    if not _is_number(value, Real) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, not {value!r}.{hint}")


def check_fraction(name: str, value: Any, *, hint: str = "", zero: bool = True) -> None:
    """Refuse anything but a number from 0 (or, with ``zero=False``, above 0) up to, but not including, 1.

    Args:
        name: the argument's name in the message.
        value: the value to check.
        hint: one sentence added to the message (what a usual value is).
        zero: whether 0 itself is allowed (a warmup ratio: yes; a confidence level or tolerance: no).

    Raises:
        ValueError: not a number in [0, 1), or (0, 1) with ``zero=False``.
    """
    if not _is_number(value, Real) or not (0.0 <= value < 1.0 if zero else 0.0 < value < 1.0):
        span = "a number from 0 up to but not including 1" if zero else "a fraction between 0 and 1, both excluded"
        raise ValueError(f"{name} must be {span}, not {value!r}.{hint}")


def check_choice(name: str, value: Any, choices: Sequence[Any], *, allow_none: bool = False) -> None:
    """Refuse a value that is not one of ``choices``; the message lists them.

    Raises:
        ValueError: an unknown value.
    """
    if (allow_none and value is None) or value in choices:
        return
    extra = " (or None for all)" if allow_none else ""
    raise ValueError(f"Unknown {name} {value!r}. Choose one of {tuple(choices)}{extra}.")


def to_list(values: Any) -> Any:
    """A 1-D numpy array, pandas Series or torch tensor as a plain list; anything else as it is."""
    if type(values).__module__.split(".")[0] in ("numpy", "pandas", "torch") and getattr(values, "ndim", None) == 1:
        return values.tolist()
    return values


def check_texts(texts: Sequence[str] | str, *, name: str = "texts", allow_empty_strings: bool = False) -> list[str]:
    """Validate a list of texts and return it as a plain list.

    Args:
        texts: a non-empty list (or tuple) of strings, or a 1-D numpy array or pandas Series of
            them. A single string is refused, because iterating it would yield characters.
        name: how the argument is called in error messages.
        allow_empty_strings: accept ``""`` items.

    Returns:
        The texts as a ``list[str]``.

    Raises:
        TypeError: not a list of strings (the message names the first bad item).
        ValueError: an empty list or an empty string.
    """
    texts = to_list(texts)
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
    bad_key = next((key for key in keys if not isinstance(key, str)), None)
    if bad_key is not None:
        raise TypeError(f"{what}: the column name {bad_key!r} is {type(bad_key).__name__}; column names are strings.")
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
            if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
                raise ValueError(
                    f"{what}: column {key!r} holds {_show(value)} in row {number}, too large to store (at most "
                    "2**63 - 1); store it as text or as a float."
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
        return _from_list(items, what)
    raise TypeError(
        f"The {what} must be a datasets.Dataset, a list of dicts or a pandas DataFrame, not {type(rows).__name__}."
    )


def _from_list(items: list[dict[str, Any]], what: str) -> Dataset:
    """``Dataset.from_list``, with pyarrow's refusals (cells it cannot type) as one ``ValueError``."""
    import pyarrow as pa
    from datasets import Dataset

    try:
        return Dataset.from_list(items)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as error:
        raise ValueError(
            f"The {what} cannot be stored as a table ({type(error).__name__}: {str(error)[:200]}): every cell of a "
            "column, and every item of a list cell, must be of one kind (text, number, list or dict)."
        ) from None


def check_writable(folder: Path, *, name: str, what: str) -> None:
    """Refuse a folder that cannot be written to, by creating (and removing) a file in it.

    Args:
        folder: an existing folder.
        name: the argument's name in messages.
        what: the path the argument gave, for the message.

    Raises:
        ValueError: the folder cannot be written (no permission, a read-only or special file system).
    """
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise ValueError(
            f"{name} {what!r} cannot be written: {str(folder)!r} is not writable ({error.strerror or error}). "
            "Pass a folder you can write to."
        ) from None


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
        ValueError: a file, a folder under a file, or a folder that cannot be written to.
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
    existing = path if path.is_dir() else parent
    if existing is not None:
        check_writable(existing, name=name, what=str(path))
    return path


_DEVICE_TYPES = ("cpu", "cuda", "mps")


def check_device(name: str, device: Any, *, optional: bool = True) -> str | None:
    """Check a device string (``cpu``, ``cuda``, ``cuda:1``, ``mps``) against this machine, loading no model.

    Args:
        name: the argument's name in messages (``--device`` for the command).
        device: the device, or None (then the caller picks one) when ``optional``.
        optional: accept None.

    Returns:
        The device string, stripped, or None.

    Raises:
        TypeError: not a string.
        ValueError: not a device name, a GPU this machine does not have, or ``cpu`` with an index.
    """
    if device is None and optional:
        return None
    if not isinstance(device, str) or not device.strip():
        raise TypeError(f"{name} must be a device string such as 'cpu', 'cuda' or 'cuda:0', not {device!r}.")
    import torch

    text = device.strip()
    kind, _, index = text.partition(":")
    if kind not in _DEVICE_TYPES or (index and not index.isdigit()) or text.endswith(":"):
        raise ValueError(f"{name} {device!r} is not a device: use 'cpu', 'cuda', 'cuda:N' (the N-th GPU) or 'mps'.")
    if kind == "cpu" and index:
        raise ValueError(f"{name} {device!r}: the CPU takes no index; use 'cpu'.")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"{name} {device!r}: this machine has no Apple GPU (mps); use 'cpu'.")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(
                f"{name} {device!r}: this machine has no CUDA GPU (or torch was built without CUDA); use 'cpu'."
            )
        if index and int(index) >= count:
            raise ValueError(
                f"{name} {device!r}: this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}; pick one of them."
            )
    return text


def _is_column(value: Any) -> bool:
    """A one-dimensional column of a data set or data frame (``dataset["label"]``, a pandas Series)."""
    return type(value).__name__ in ("Column", "Series") and hasattr(value, "__iter__") and hasattr(value, "__len__")


def as_tensor(name: str, value: Any, dims: Sequence[str], *, finite: bool = True) -> torch.Tensor:
    """Take a torch tensor, a numpy array or a nested list of numbers of a given shape, as a float tensor.

    Args:
        name: the argument's name in messages.
        value: the numbers.
        dims: the names of the dimensions, e.g. ``("n", "dim")``; the number of dimensions must match.
        finite: refuse NaN and inf.

    Returns:
        A floating-point ``torch.Tensor`` (a float tensor as it is; integers and booleans as float32).

    Raises:
        TypeError: another type, or items that are not numbers.
        ValueError: ragged lists, a wrong number of dimensions (the shapes are named), NaN or inf.
    """
    import numpy as np
    import torch

    shape = "(" + ", ".join(dims) + ")"
    if isinstance(value, torch.Tensor):
        tensor = value
    elif isinstance(value, np.ndarray | list | tuple) or _is_column(value):
        try:
            array = np.asarray(list(value) if _is_column(value) else value)
        except ValueError:
            raise ValueError(f"{name} is ragged (rows of different lengths); it must have shape {shape}.") from None
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} must hold numbers, not {array.dtype.name} items; pass a float array of shape {shape}."
            )
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    else:
        raise TypeError(
            f"{name} must be a torch tensor, a numpy array or a nested list of numbers of shape {shape}, "
            f"not {type(value).__name__}."
        )
    if tensor.is_complex():
        raise TypeError(f"{name} holds complex numbers; pass real numbers of shape {shape}.")
    if tensor.dim() != len(dims):
        plural = "s" if len(dims) != 1 else ""
        raise ValueError(f"{name} must have shape {shape} ({len(dims)} dimension{plural}), not {tuple(tensor.shape)}.")
    if not tensor.is_floating_point():
        tensor = tensor.float()
    if finite and tensor.numel() and not bool(torch.isfinite(tensor).all()):
        where = tuple(int(i) for i in (~torch.isfinite(tensor)).nonzero()[0])
        raise ValueError(f"{name} holds NaN or inf (first at index {where}); fix the values that produced it.")
    return tensor
