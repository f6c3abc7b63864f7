"""Exercises of notebook 08: training with in-batch negatives."""

from __future__ import annotations
