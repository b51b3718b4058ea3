"""Running coroutines side by side under one anyio task group, failures surfacing unchanged."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from agentcat._vars import T
from agentcat.sources import aclose_all

__all__ = ["Starter", "gather", "merge"]


async def gather(jobs: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run every job concurrently and return their results in order.

    The first job to fail cancels the others, and its exception is raised as it is (not wrapped
    in an exception group); if several fail on their own, they are raised together in a
    :class:`BaseExceptionGroup`, so no failure is lost.
    """
    results: list[Any] = [None] * len(jobs)
    failures: list[Exception] = []

    async def run(index: int, job: Callable[[], Awaitable[Any]]) -> None:
        try:
            results[index] = await job()
        except Exception as error:
            failures.append(error)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for index, job in enumerate(jobs):
            group.start_soon(run, index, job)
    _raise(failures)
    return results


Starter = Callable[[list[AsyncIterator[Any]]], AsyncIterator[Any]]
"""Opens one producer, recording the iterators it makes so they can all be closed."""


async def merge(
    starters: Sequence[Starter],
    tag: Callable[[int, Any], T],
    background: Sequence[Callable[[], Awaitable[None]]] = (),
) -> AsyncGenerator[T, None]:
    """Yield ``tag(index, piece)`` for the pieces of every producer, in the order they arrive.

    Each producer runs in its own task of a task group that lives exactly as long as this
    generator, and hands its pieces over one at a time (no buffer: a slow consumer slows every
    producer). ``background`` jobs (a distributor of shared input, say) run alongside. The
    first failure cancels the rest and is raised unchanged; closing the generator, or
    cancelling its consumer, cancels every producer.
    """
    send, receive = anyio.create_memory_object_stream[tuple[int, Any]]()
    failures: list[Exception] = []

    async def guarded(job: Callable[[], Awaitable[None]]) -> None:
        try:
            await job()
        except Exception as error:
            failures.append(error)
            group.cancel_scope.cancel()

    async def pump(
        index: int, start: Starter, out: MemoryObjectSendStream[tuple[int, Any]]
    ) -> None:
        chain: list[AsyncIterator[Any]] = []
        try:
            async with out:
                async for piece in start(chain):
                    await out.send((index, piece))
        finally:
            with anyio.CancelScope(shield=True):
                await aclose_all(chain)

    closed = False
    async with anyio.create_task_group() as group:
        for job in background:
            group.start_soon(guarded, job)
        for index, start in enumerate(starters):
            group.start_soon(guarded, functools.partial(pump, index, start, send.clone()))
        send.close()
        async with receive:
            async for index, piece in receive:
                try:
                    yield tag(index, piece)
                except GeneratorExit:  # closed by the consumer: stop the producers, then end
                    closed = True
                    group.cancel_scope.cancel()
                    break
    if not closed:
        _raise(failures)


def _raise(failures: list[Exception]) -> None:
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup("several concurrent agents failed", failures)
