"""Shared configuration: every async test runs under asyncio and trio; Hypothesis profiles.

Hypothesis profiles (choose one with ``pytest --hypothesis-profile NAME``):

- ``default``: 100 examples, no deadline (agents pass through an event loop, whose first run is
  slow), no ``too_slow`` health check; what a developer runs.
- ``ci``: Hypothesis' built-in profile, loaded automatically when the ``CI`` environment variable
  is set (derandomised, no example database, no deadline, no ``too_slow`` health check).
- ``nightly``: the ``ci`` profile with 2,000 examples per law, for a scheduled long run.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    settings.get_profile("default"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    settings.get_profile("ci"),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("nightly", settings.get_profile("ci"), max_examples=2_000)


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loops every ``@pytest.mark.anyio`` test runs under."""
    backend: str = request.param
    return backend
