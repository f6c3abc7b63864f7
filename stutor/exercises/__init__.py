"""Exercises with feedback: check a learner's answer and reply with a pass or a hint.

Every notebook ends with 2-4 exercises and one code cell per exercise::

    answer = None  # your answer here
    exercises.check("01.1", answer)

Each checker *computes* the right result from the learner's own inputs (with the course's
functions), compares, and answers with a :class:`Feedback`: a pass, or a hint that points at the
concept without giving the solution. Worked solutions live in ``notebooks/solutions/``.

Layout: :mod:`~stutor.exercises.registry` holds :class:`Feedback`, :class:`Exercise`, the
registry and :func:`check`; :mod:`~stutor.exercises.answers` the answer checks the chapters share;
``ch01`` ... ``ch09`` one module per notebook, whose checkers register themselves on import. What a
checker needs from the notebook is read from its signature: the answer first, then the required
needs, then the optional ones (with a default).

Taught in: notebooks 01-09 (the exercise cells at the end of each).
"""

from __future__ import annotations

from stutor.exercises import ch01, ch02, ch03, ch04, ch05, ch06, ch07, ch08, ch09  # noqa: F401  (they register)
from stutor.exercises.registry import Exercise, Feedback, check

__all__ = ["Exercise", "Feedback", "check"]
