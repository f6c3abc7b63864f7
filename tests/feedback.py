"""The two assertions every exercise-checker test makes: a right answer passes, a wrong one gets a hint."""

from __future__ import annotations

from stutor import exercises


def passes(exercise_id, answer, **given):
    """A right answer passes, with the pass line."""
    feedback = exercises.check(exercise_id, answer, **given)
    assert feedback.passed, str(feedback)
    assert str(feedback).startswith(f"✅ Exercise {exercise_id} passed")
    return feedback


def hints(exercise_id, answer, solution, **given):
    """A wrong answer gets a hint, and the hint does not contain the solution (a value or several)."""
    feedback = exercises.check(exercise_id, answer, **given)
    assert not feedback.passed and not feedback and feedback.answered, str(feedback)
    assert str(feedback).startswith(f"❌ Exercise {exercise_id}: not yet — hint: ")
    for value in solution if isinstance(solution, list) else [solution]:
        assert str(value) and str(value) not in feedback.message
    return feedback
