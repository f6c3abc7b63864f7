"""Progress bars for people, silence for tests.

A person running a notebook sees progress bars. Under ``make test`` (and when the committed
notebook outputs are produced) ``STUTOR_QUIET=1`` is set: progress bars and library chatter are
switched off so the stored outputs hold only what the cell teaches.

Taught in: every notebook (first code cell, which also checks the memory left: :mod:`stutor.memory`).
"""

from __future__ import annotations

import logging
import os
import warnings

QUIET_ENV = "STUTOR_QUIET"


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


def configure(notebook: str | None = None) -> None:
    """Set up library logging once: errors only, progress bars only when not quiet; check the memory.

    Safe to call many times. Freed memory goes back to the system at once
    (:func:`stutor.memory.return_memory_promptly`), so a finished section does not keep its peak.
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
