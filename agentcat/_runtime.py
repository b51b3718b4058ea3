"""The plumbing of the stream runtime: the iterators between stages, and the run that closes them.

A streaming pipeline is, inside, plain chained async iterators of deltas, pulled in the
consumer's task, so a stage that forwards costs one generator hop per token and nothing else.
What this module adds to that is small: a :class:`Run` that closes every iterator of one stream
(downstream first), a source that knows its one delta was its last (:class:`Ending`), and the
two places where tasks run (:func:`gather` for plain products, :func:`merge` for streaming ones).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectSendStream

from agentcat.errors import MonoidError
from agentcat.monoids import Monoid, monoid_of

__all__ = [
    "Ending",
    "Once",
    "Run",
    "Starter",
    "accumulate",
    "aclose",
    "deltas",
    "gather",
    "given",
    "mapped",
    "merge",
]

T = TypeVar("T")
I = TypeVar("I", bound=AsyncIterator[Any])  # noqa: E741 (an iterator type, as in typeshed)


class Run:
    """The iterators one stream has opened, closed together when it ends, fails, is closed or is
    cancelled: downstream first, so that each producer hears that its consumer is gone.

    Every stage registers what it opens (:meth:`opened`); a generator that stops reading its
    source does not close it, so the run does.
    """

    __slots__ = ("_closers",)

    def __init__(self) -> None:
        self._closers: list[Callable[[], Awaitable[object]]] = []

    def opened(self, iterator: I) -> I:
        """Record ``iterator`` (if it can be closed) and return it."""
        close = getattr(iterator, "aclose", None)
        if close is not None:
            self._closers.append(close)
        return iterator

    async def aclose(self) -> None:
        """Close every iterator, the last opened first; every one is closed even when closing
        one fails, and the first failure is raised after."""
        closers, self._closers = self._closers, []
        failure: BaseException | None = None
        for close in reversed(closers):
            try:
                await close()
            except BaseException as error:
                failure = failure or error
        if failure is not None:
            raise failure


async def aclose(iterator: object) -> None:
    """Close ``iterator`` if it can be closed."""
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


class Ending(AsyncIterator[T], Generic[T]):
    """A source that knows, right after producing a delta, whether it was the last one, so the
    stream can mark that delta ``done`` at once instead of adding an empty terminal chunk."""

    ended: bool = False


class Once(Ending[T]):
    """The source of one delta, produced by awaiting ``produce()`` when first asked for."""

    __slots__ = ("_produce", "ended")

    def __init__(self, produce: Callable[[], Awaitable[T]]) -> None:
        self._produce = produce
        self.ended = False

    async def __anext__(self) -> T:
        if self.ended:
            raise StopAsyncIteration
        value = await self._produce()
        self.ended = True
        return value


def given(value: T) -> Once[T]:
    """The one-delta source of a value known already."""

    async def produce() -> T:
        return value

    return Once(produce)


async def deltas(items: Iterable[T]) -> AsyncIterator[T]:
    """The asynchronous source of deltas known already (``items``, in order)."""
    for item in items:
        yield item


async def accumulate(source: AsyncIterator[T], monoid: Monoid[T] | None) -> T:
    """Drain ``source`` and combine its deltas; the monoid is found from the first delta when
    none is given.

    Raises:
        MonoidError: the source is empty and no monoid is known, so its empty value is not.
    """
    parts = [part async for part in source]
    if len(parts) == 1:
        return parts[0]
    if monoid is None:
        if not parts:
            raise MonoidError("cannot accumulate an empty stream of unknown type: pass monoid=")
        monoid = monoid_of(parts[0])
    return monoid.concat(parts)


async def gather(jobs: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run every job concurrently and return their results in order.

    The first job to fail cancels the others, and its exception is raised as it is (not wrapped
    in an exception group); if several fail on their own, they are raised together in an
    :class:`ExceptionGroup`, so no failure is lost.
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


Starter = Callable[[Run], AsyncIterator[Any]]
"""Opens one producer of a merge, recording the iterators it makes in the run it is given."""


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
        run = Run()
        try:
            async with out:
                async for piece in start(run):
                    await out.send((index, piece))
        finally:
            with anyio.CancelScope(shield=True):
                await run.aclose()

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


async def mapped(
    functions: Sequence[Callable[[Any], Any]], source: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    """Apply a run of per-delta functions to every delta of ``source``, in one generator step
    (the fused form of ``map_deltas(f) >> map_deltas(g)``: ``map_deltas(g ∘ f)``)."""
    if len(functions) == 1:
        (only,) = functions
        async for delta in source:
            yield only(delta)
        return
    async for delta in source:
        for function in functions:
            delta = function(delta)
        yield delta
