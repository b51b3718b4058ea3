"""Configuration of the agentcat-laws tests: every ``anyio`` test runs under asyncio and trio.

The root ``tests/conftest.py`` belongs to the core's tests; this one is the laws member's own.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loops every ``@pytest.mark.anyio`` test runs under."""
    backend: str = request.param
    return backend
