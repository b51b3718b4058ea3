"""Hypothesis settings for checking laws in CI and in long nightly runs.

The settings objects are plain values: pass one as ``settings=`` to
:func:`agentcat_laws.check_laws`. :func:`register_profiles` also registers them as the
Hypothesis profiles ``agentcat-ci`` and ``agentcat-nightly``, so ``pytest
--hypothesis-profile agentcat-ci`` selects one; the pytest plugin and the command line do that,
nothing does it when the package is imported.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

__all__ = ["CI", "NIGHTLY", "register_profiles"]

_PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

CI = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    phases=_PHASES,
    suppress_health_check=[HealthCheck.too_slow],
)
"""For CI: 100 examples per law, derandomised (the same examples on every run, so a red build
is reproducible), no example database, no deadline."""

NIGHTLY = settings(CI, max_examples=2_000, derandomize=False)
"""For a scheduled long run: 2,000 random examples per law, new ones every night."""


def register_profiles() -> None:
    """Register :data:`CI` and :data:`NIGHTLY` as ``agentcat-ci`` and ``agentcat-nightly``
    (registering again replaces them with the same values)."""
    settings.register_profile("agentcat-ci", CI)
    settings.register_profile("agentcat-nightly", NIGHTLY)
