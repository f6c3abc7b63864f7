"""The course's command lines: ``stutor-train`` and ``stutor-encode``, one module each.

A command only parses its arguments and calls the library: every check and every step it runs is
a function of :mod:`stutor` that a notebook can call too. Bad arguments exit with code 2 and a
message, before any model loads.

Taught in: notebook 07 (the training recipe that ``stutor-train`` runs); the README's "Scale out" and
"Memory guide" sections.
"""

from __future__ import annotations
