"""Hypothesis settings for the laws member's own tests: few examples, derandomised (so a run is
reproducible and its counterexamples are the same every time), no example database."""

from __future__ import annotations

from agentcat_laws import CI
from hypothesis import settings

FAST = settings(CI, max_examples=25)
"""For checks that must pass: 25 examples per law."""

SHRINK = settings(CI, max_examples=60)
"""For checks that must fail: enough examples to find the bug, then Hypothesis shrinks it."""

GLANCE = settings(CI, max_examples=10)
"""For checks that must pass on every law of a subject, cheaply: 10 examples per law."""
