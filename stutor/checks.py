"""Checks on the numbers a learner passes in, done before any model work starts.

Taught in: every notebook that trains or encodes (batch sizes, epochs, learning rates).
"""

from __future__ import annotations

import math
from typing import Any


def check_positive(name: str, value: Any, kind: type = int) -> None:
    """Refuse anything but a positive, finite number of the right kind.

    Args:
        name: how the argument is called in the error message.
        value: the value to check; ``bool`` is refused even though it is an ``int``.
        kind: ``int`` for counts (batch size, steps), ``numbers.Real`` for rates.

    Raises:
        ValueError: not a positive finite number of that kind (the message names the argument).
    """
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value) or value <= 0:
        noun = "a positive integer" if kind is int else "a positive number"
        raise ValueError(f"{name} must be {noun}, not {value!r}.")
