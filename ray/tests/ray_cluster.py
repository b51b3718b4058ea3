"""What every agentcat-ray test shares: one local Ray cluster for the whole session, both
event loops, a deadline around every test (a stuck remote generator would otherwise hang the
run: Ray has no timeout of its own), and the remote agents the tests use.

The agents live in this module so that each test module builds its stages once: every
``on_ray`` stage starts an actor, whose worker process takes about half a second to start.
"""

from __future__ import annotations

import functools
import inspect
import sys
import uuid
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any

import anyio
import pytest

import ray
from agentcat import ChunkStream, streaming
from ray import cloudpickle

# The workers cannot import the test folder: what is defined here travels by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

DEADLINE = 60.0
"""Seconds a test may take before it fails with TimeoutError."""


@pytest.fixture(scope="session", autouse=True)
def cluster() -> Iterator[None]:
    """A local cluster of two CPUs, without the dashboard, stopped when the session ends."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 1024 * 1024,
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="module", params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The event loops every ``@pytest.mark.anyio`` test runs under."""
    backend: str = request.param
    return backend


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run every async test under a deadline of :data:`DEADLINE` seconds."""
    test = pyfuncitem.obj
    if inspect.iscoroutinefunction(test):

        @functools.wraps(test)
        async def deadlined(*args: Any, **kwargs: Any) -> Any:
            with anyio.fail_after(DEADLINE):
                return await test(*args, **kwargs)

        pyfuncitem.obj = deadlined
    return (yield)


class Tally:
    """A Ray actor that remote producers report to, so that a test on the driver can tell how
    far they went and whether they closed (an agent's own state stays in its actor)."""

    def __init__(self) -> None:
        self.pulled: dict[str, int] = {}
        self.closed: dict[str, int] = {}
        self._waiting: dict[str, list[anyio.Event]] = {}

    async def pull(self, key: str) -> None:
        self.pulled[key] = self.pulled.get(key, 0) + 1
        self._wake(key)

    async def close(self, key: str) -> None:
        self.closed[key] = self.closed.get(key, 0) + 1
        self._wake(key)

    async def read(self, key: str) -> tuple[int, int]:
        """How many deltas the producer ``key`` made, and how many times it closed."""
        return self.pulled.get(key, 0), self.closed.get(key, 0)

    async def wait(self, key: str, pulled: int = 0, closed: int = 0) -> tuple[int, int]:
        """:meth:`read`, once the producer ``key`` has made ``pulled`` deltas and closed
        ``closed`` times."""
        while self.pulled.get(key, 0) < pulled or self.closed.get(key, 0) < closed:
            event = anyio.Event()
            self._waiting.setdefault(key, []).append(event)
            await event.wait()
        return await self.read(key)

    def _wake(self, key: str) -> None:
        for event in self._waiting.pop(key, []):
            event.set()


TALLY: Any = None
"""The session's :class:`Tally` actor (see :func:`tally`)."""


def tally() -> Any:
    """The session's :class:`Tally` actor, started on first use (on the driver)."""
    global TALLY
    if TALLY is None:
        TALLY = ray.remote(Tally).remote()
    return TALLY


Count = tuple[Any, str, int, float]
"""What :data:`numbers` is asked: the tally, a key, how many deltas, the pause after each."""


def count(n: int, pause: float = 0.0) -> tuple[Count, str]:
    """An input for :data:`numbers`, and the key its producer reports under."""
    name = uuid.uuid4().hex
    return (tally(), name, n, pause), name


@streaming
async def numbers(request: Count) -> AsyncIterator[str]:
    """The deltas ``"0 "``, ``"1 "``... up to ``n``, each reported to the tally under ``key``
    before it is yielded (and ``pause`` seconds after), and the close (its ``finally``)
    reported once it ran."""
    counter, name, n, pause = request
    try:
        for index in range(n):
            await counter.pull.remote(name)
            if pause:
                await anyio.sleep(pause)
            yield f"{index} "
    finally:
        await counter.close.remote(name)


async def read(key: str) -> tuple[int, int]:
    """:meth:`Tally.read`, from the driver, under either event loop."""
    return await _ask(tally().read.remote(key))


async def wait(key: str, *, pulled: int = 0, closed: int = 0) -> tuple[int, int]:
    """:meth:`Tally.wait`, from the driver, under either event loop."""
    return await _ask(tally().wait.remote(key, pulled, closed))


async def _ask(ref: Any) -> tuple[int, int]:
    result: tuple[int, int] = await anyio.to_thread.run_sync(ray.get, ref)
    return result


async def chunks_of(stream: ChunkStream[Any]) -> list[tuple[Any, bool]]:
    """Every chunk of ``stream`` as ``(delta, done)``, read inside ``async with``."""
    async with stream:
        return [(chunk.delta, chunk.done) async for chunk in stream]
