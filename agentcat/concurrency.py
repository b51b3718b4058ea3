"""Running coroutines side by side under one anyio task group, failures surfacing unchanged."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import anyio

__all__ = ["gather"]


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
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup("several concurrent agents failed", failures)
    return results
