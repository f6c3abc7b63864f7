"""Exercises of notebook 09: semantic search, measured."""

from __future__ import annotations
