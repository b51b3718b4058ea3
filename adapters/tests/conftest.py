"""Configuration of the agentcat-adapters tests: every ``anyio`` test runs under asyncio and
trio, each adapter through its real SDK against a loopback server in the test's own loop."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loops every ``@pytest.mark.anyio`` test runs under."""
    backend: str = request.param
    return backend
