"""Progress bars for people, silence for tests.

A person running a notebook sees progress bars. Under ``make test`` (and when the committed
notebook outputs are produced) ``STUTOR_QUIET=1`` is set: progress bars and library chatter are
switched off so the stored outputs hold only what the cell teaches.

Taught in: every notebook (its set-up cell, after the Colab install cell; ``configure`` also checks the
memory left: :mod:`stutor.memory`).
"""

from __future__ import annotations

import logging
import os
import warnings

QUIET_ENV = "STUTOR_QUIET"
_frozen = False  # set once the imports' objects are out of the garbage collector's sight


def is_quiet() -> bool:
    """Tell whether quiet mode is on.

    Returns:
        True when the environment variable ``STUTOR_QUIET`` is set to a true value.
    """
    return os.environ.get(QUIET_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def show_progress() -> bool:
    """Tell whether long-running helpers should draw progress bars.

    Returns:
        The opposite of :func:`is_quiet`.
    """
    return not is_quiet()


def _freeze_imports() -> None:
    """Once per process: import sentence-transformers, collect, then freeze everything alive (``gc.freeze``)."""
    global _frozen
    if _frozen:
        return
    import gc

    import sentence_transformers  # noqa: F401 - imported here so that its objects are frozen too

    gc.collect()
    gc.freeze()
    _frozen = True


def configure(notebook: str | None = None) -> None:
    """Set up library logging once: errors only, progress bars only when not quiet; check the memory.

    Safe to call many times. Freed memory goes back to the system at once
    (:func:`stutor.memory.return_memory_promptly`), so a finished section does not keep its peak.
    A notebook's call (with ``notebook``) also imports sentence-transformers (every notebook uses it)
    and freezes what the imports created (``gc.freeze``): those half a million objects live as long as the process, and
    every later ``gc.collect()`` (stutor runs one after each training run, to hand memory back)
    skips them: a few milliseconds instead of a quarter of a second.
    The "some weights were not used" chatter of ``transformers`` is
    hidden in every mode: the course explains those cases in prose instead.

    Args:
        notebook: the calling notebook's name (``"05_choosing_a_loss"``): its measured memory need
            is compared with what is left under the machine's limit, and a warning with the fix is
            printed when it will not fit (:func:`stutor.memory.check_room`); nothing is printed
            when it fits, and nothing is checked in quiet mode.
    """
    import transformers
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    from stutor import memory

    memory.return_memory_promptly()
    if notebook is not None:
        _freeze_imports()

    transformers.logging.set_verbosity_error()
    logging.getLogger("sentence_transformers").setLevel(logging.ERROR)
    # The interactive IPython kernel reports this once per session; it is noise for a learner.
    warnings.filterwarnings("ignore", message=".*IProgress not found.*")
    if is_quiet():
        transformers.logging.disable_progress_bar()
        disable_progress_bars()
        try:
            import datasets

            datasets.disable_progress_bars()
            datasets.logging.set_verbosity_error()
        except ImportError:  # pragma: no cover - datasets is a hard dependency
            pass
    else:
        transformers.logging.enable_progress_bar()
        enable_progress_bars()
    if notebook is not None and not is_quiet():  # quiet: tests and committed outputs, no claim about this machine
        memory.check_room(notebook)
