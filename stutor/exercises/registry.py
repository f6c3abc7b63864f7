"""The exercise registry: :class:`Feedback`, :class:`Exercise`, the ``@exercise`` decorator and :func:`check`.

A chapter module registers each checker with ``@exercise(id, task)``. What the checker needs from the
notebook is read from its signature: the first parameter is the learner's answer, every other
parameter without a default is a required keyword of :func:`check`, and one with a default is
optional (it lets the checker say more, e.g. which wrong value the answer matches).

Taught in: the exercise cells at the end of notebooks 01-09 (each calls ``exercises.check``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

Checker = Callable[..., str | None]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer.

    Attributes:
        exercise: the exercise id, e.g. ``"01.2"``.
        passed: True when the answer is right.
        message: on a pass, what the answer shows; otherwise a hint (never the solution), or the
            task while the exercise is not answered yet.
        answered: False while the answer is still ``None``.
    """

    exercise: str
    passed: bool
    message: str = ""
    answered: bool = True

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        if self.passed:
            return f"✅ Exercise {self.exercise} passed" + (f": {self.message}" if self.message else "")
        if not self.answered:
            return f"❌ Exercise {self.exercise}: not answered yet — {self.message}"
        return f"❌ Exercise {self.exercise}: not yet — hint: {self.message}"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # IPython display
        printer.text(str(self))


@dataclass(frozen=True)
class Exercise:
    """One registered exercise.

    Attributes:
        id: ``"NN.k"``: notebook NN, exercise k.
        task: the exercise in one line (shown while it is not answered yet).
        needs: names of the notebook objects the checker needs as keyword arguments (its
            parameters after the answer that have no default).
        checker: ``checker(answer, **needs)``; returns an optional pass message and calls
            :func:`hint` (which raises) when the answer is not right yet.
        optional: names it also accepts, to say more (its parameters with a default).
    """

    id: str
    task: str
    needs: tuple[str, ...]
    checker: Checker
    optional: tuple[str, ...] = ()


REGISTRY: dict[str, Exercise] = {}
"""Every registered exercise by id (``"01.2"``); the chapter modules fill it when they are imported."""


class NotYet(Exception):
    """Raised inside a checker to answer with a hint."""


def hint(message: str) -> NoReturn:
    """Stop the checker and answer with ``message`` as the hint."""
    raise NotYet(message)


def needs_of(checker: Checker) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The required and the optional keywords of a checker, read from its signature.

    Args:
        checker: ``checker(answer, need, ..., optional=default, ...)``.

    Returns:
        ``(needs, optional)``: the names after the answer without a default, and those with one.

    Raises:
        TypeError: no positional answer parameter, or a need that is not a named parameter
            (``*args``, ``**kwargs``, positional-only): :func:`check` lists the needs by name.
    """
    kind = inspect.Parameter
    parameters = list(inspect.signature(checker).parameters.values())
    if not parameters or parameters[0].kind not in (kind.POSITIONAL_ONLY, kind.POSITIONAL_OR_KEYWORD):
        raise TypeError(f"{checker.__name__} must take the answer as its first positional parameter.")
    others = parameters[1:]
    unnamed = [p.name for p in others if p.kind not in (kind.POSITIONAL_OR_KEYWORD, kind.KEYWORD_ONLY)]
    if unnamed:
        raise TypeError(f"{checker.__name__} takes {unnamed}: name every need as its own parameter.")
    needs = tuple(p.name for p in others if p.default is inspect.Parameter.empty)
    optional = tuple(p.name for p in others if p.default is not inspect.Parameter.empty)
    return needs, optional


def exercise(exercise_id: str, task: str) -> Callable[[Checker], Checker]:
    """Register the decorated checker under ``exercise_id``; its needs come from its signature.

    Args:
        exercise_id: ``"NN.k"``.
        task: the exercise in one line.

    Raises:
        ValueError: the id is already registered.
    """

    def register(checker: Checker) -> Checker:
        if exercise_id in REGISTRY:
            raise ValueError(f"Exercise {exercise_id!r} is registered twice.")
        needs, optional = needs_of(checker)
        REGISTRY[exercise_id] = Exercise(exercise_id, task, needs, checker, optional)
        return checker

    return register


def check(exercise_id: str, answer: Any, **given: Any) -> Feedback:
    """Check an answer to one exercise.

    Args:
        exercise_id: e.g. ``"01.2"`` (the keys of :data:`REGISTRY`).
        answer: the learner's answer; ``None`` means not answered yet.
        **given: the notebook objects the exercise needs, named as in its cell
            (e.g. ``model=model``).

    Returns:
        A :class:`Feedback`: a pass, or a hint. A wrong type of answer is a hint, not an error.

    Raises:
        ValueError: an unknown exercise id (the message lists the valid ones).
        TypeError: a missing or unexpected keyword argument (the message shows the call).

    Example:
        >>> check("03.1", None).passed
        False
    """
    exercise = REGISTRY.get(exercise_id) if isinstance(exercise_id, str) else None
    if exercise is None:
        raise ValueError(f"Unknown exercise {exercise_id!r}. Valid exercises: {sorted(REGISTRY)}.")
    missing = [name for name in exercise.needs if name not in given]
    extra = [name for name in given if name not in exercise.needs + exercise.optional]
    if missing or extra:
        call = ", ".join([repr(exercise.id), "answer", *(f"{name}=..." for name in exercise.needs)])
        problem = f"lacks {missing}" if missing else f"got unexpected {extra}"
        raise TypeError(f"check({exercise.id!r}, ...) {problem}: call check({call}).")
    if answer is None:
        return Feedback(exercise.id, False, exercise.task, answered=False)
    try:
        message = exercise.checker(answer, **given)
    except NotYet as not_yet:
        return Feedback(exercise.id, False, str(not_yet))
    return Feedback(exercise.id, True, message or "")
