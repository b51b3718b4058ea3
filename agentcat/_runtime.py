"""The plumbing of the stream runtime: the iterators between stages, and the run that closes them.

A streaming pipeline is, inside, plain chained async iterators of deltas, pulled in the
consumer's task, so a stage that forwards costs one generator hop per token and nothing else.
What this module adds to that is small: a :class:`Run` that closes every iterator of one stream
(downstream first), a source that knows its one delta was its last (:class:`Ending`), and the
two places where tasks run (:func:`gather` for plain products, :class:`Branches` for streaming
ones).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import anyio
import anyio.abc
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from agentcat.errors import (
    AgentcatError,
    MonoidError,
    ProviderError,
    StreamingError,
    StreamScopeError,
    ToolArgumentsError,
    ToolRoundsError,
)
from agentcat.monoids import Monoid, monoid_of

__all__ = [
    "HOST",
    "Branches",
    "Deferred",
    "DeltaStep",
    "Ending",
    "Once",
    "Run",
    "Starter",
    "accumulate",
    "aclose",
    "deltas",
    "gather",
    "given",
    "is_mistake",
    "side_by_side",
    "stepped",
]

T = TypeVar("T")
I = TypeVar("I", bound=AsyncIterator[Any])  # noqa: E741 (an iterator type, as in typeshed)


class Run:
    """The iterators one stream has opened, closed together when it ends, fails, is closed or is
    cancelled: downstream first, so that each producer hears that its consumer is gone.

    Every stage registers what it opens (:meth:`opened`); a generator that stops reading its
    source does not close it, so the run does. ``host`` is the task group that stages which
    run tasks start them in (:class:`Branches`); ``None`` until a scope provides one.
    """

    __slots__ = ("_closers", "host")

    def __init__(self, host: anyio.abc.TaskGroup | None = None) -> None:
        self._closers: list[Callable[[], Awaitable[object]]] = []
        self.host = host

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

    __slots__ = ("ended",)

    ended: bool


class Once(Ending[T]):
    """The source of one delta, produced by awaiting ``produce()`` when first asked for."""

    __slots__ = ("_produce",)

    def __init__(self, produce: Callable[[], Awaitable[T]]) -> None:
        self._produce = produce
        self.ended = False

    async def __anext__(self) -> T:
        if self.ended:
            raise StopAsyncIteration
        value = await self._produce()
        self.ended = True
        return value


class Deferred(Ending[T]):
    """The deltas of an iterator made only when the first delta is asked for: ``start()``
    awaits what it needs first (a whole input, say) and gives the iterator. Nothing to close of
    its own: what ``start`` opens is recorded in the run."""

    __slots__ = ("_inner", "_inner_tells_end", "_start")

    def __init__(self, start: Callable[[], Awaitable[AsyncIterator[T]]]) -> None:
        self._start = start
        self._inner: AsyncIterator[T] | None = None
        self._inner_tells_end = False
        self.ended = False

    async def __anext__(self) -> T:
        inner = self._inner
        if inner is None:
            inner = self._inner = await self._start()
            self._inner_tells_end = isinstance(inner, Ending)
        piece = await anext(inner)
        if self._inner_tells_end:
            self.ended = inner.ended  # type: ignore[attr-defined]
        return piece


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
"""Opens one producer of :class:`Branches`, recording the iterators it makes in its run."""

Job = Callable[[], Awaitable[None]]
"""A job that runs beside the producers of :class:`Branches` (a distributor of their input)."""

Prepare = Callable[[], tuple[Sequence[Starter], Sequence[Job], Sequence[Any]]]
"""Makes, when the branches start, their producers, their jobs and the channels to close."""

HOST: contextvars.ContextVar[anyio.abc.TaskGroup | None] = contextvars.ContextVar(
    "agentcat_host", default=None
)
"""The task group the current task reads streams in (set inside ``async with stream:`` and in
every producer task of :class:`Branches`), for stages opened through the public ``open``."""


class Branches(AsyncIterator[T]):
    """The pieces of several producers that run at once, ``tag(index, piece)``, in the order
    they arrive.

    The producers run in tasks of a task group that a *host task* holds, started in the run's
    host (the task group of ``async with stream:``), never in the reader's own task: so this
    iterator holds no cancel scope across its reads, and whoever reads it, in whatever task,
    only waits on a channel. Each producer hands its pieces over one at a time (no buffer: a
    slow reader slows every producer). The first failure cancels the rest and is raised
    unchanged when the pieces before it are read; several failures on their own are raised
    together. A failure that every producer raises (``shared``: the failure of the input they
    are all fed) cancels none: each passes on what it had, and it is raised once. Closing the
    iterator cancels every producer and waits until they have stopped.
    """

    __slots__ = (
        "_failures",
        "_prepare",
        "_receive",
        "_run",
        "_scope",
        "_shared",
        "_stopped",
        "_tag",
    )

    def __init__(
        self,
        prepare: Prepare,
        tag: Callable[[int, Any], T],
        run: Run,
        shared: Callable[[Exception], bool] | None = None,
    ) -> None:
        self._prepare, self._tag, self._run = prepare, tag, run
        self._shared = shared  # a failure every producer raises (their input's): no cancelling
        self._receive: MemoryObjectReceiveStream[tuple[int, Any]] | None = None
        self._scope: anyio.CancelScope | None = None
        self._stopped = anyio.Event()
        self._failures: list[Exception] = []

    async def __anext__(self) -> T:
        receive = self._receive
        if receive is None:
            receive = self._start()
        try:
            index, piece = await receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            with anyio.CancelScope(shield=True):  # the producers have ended: let the host end
                await self._stopped.wait()
            _raise(self._failures)
            raise StopAsyncIteration from None
        return self._tag(index, piece)

    def _start(self) -> MemoryObjectReceiveStream[tuple[int, Any]]:
        host = self._run.host
        if host is None:
            raise StreamScopeError(
                "branches that run in tasks were read outside a scope that owns them: read "
                "the stream inside `async with stream:`"
            )
        send, receive = anyio.create_memory_object_stream[tuple[int, Any]]()
        self._receive, self._scope = receive, anyio.CancelScope()
        host.start_soon(self._host, send)
        return receive

    async def _host(self, send: MemoryObjectSendStream[tuple[int, Any]]) -> None:
        assert self._scope is not None
        starters, jobs, channels = self._prepare()
        try:
            with self._scope, send:
                # Branches nested inside the producers start their hosts in the stream's own
                # scope, beside this one, not inside it: however deep a fan-out nests, its cancel
                # scopes stay two deep (the event loop walks them at every checkpoint).
                host = self._run.host
                HOST.set(host)
                async with anyio.create_task_group() as group:
                    for job in jobs:
                        group.start_soon(self._guarded, group, job)
                    pumps = _Countdown(len(starters), group.cancel_scope)
                    for index, start in enumerate(starters):
                        pump = functools.partial(_pump, index, start, send.clone(), host)
                        group.start_soon(self._guarded, group, pumps.counting(pump))
        finally:
            for channel in channels:
                channel.close()
            self._stopped.set()

    async def _guarded(self, group: anyio.abc.TaskGroup, job: Job) -> None:
        try:
            await job()
        except Exception as error:
            if not any(error is failure for failure in self._failures):
                self._failures.append(error)
            if self._shared is None or not self._shared(error):
                group.cancel_scope.cancel()

    async def aclose(self) -> None:
        """Cancel every producer, and return once they have all stopped."""
        if self._scope is not None:
            self._scope.cancel()
            with anyio.CancelScope(shield=True):
                await self._stopped.wait()
        if self._receive is not None:
            self._receive.close()


async def _pump(
    index: int,
    start: Starter,
    out: MemoryObjectSendStream[tuple[int, Any]],
    host: anyio.abc.TaskGroup | None,
) -> None:
    """Run one producer in its own task, handing its pieces over tagged with ``index``."""
    run = Run(host)
    try:
        async with out:
            async for piece in start(run):
                await out.send((index, piece))
    finally:
        with anyio.CancelScope(shield=True):
            await run.aclose()


class _Countdown:
    """Cancels ``scope`` once ``count`` producers have ended: the jobs beside them (the
    distributor of their input) have nothing left to do."""

    __slots__ = ("_count", "_scope")

    def __init__(self, count: int, scope: anyio.CancelScope) -> None:
        self._count, self._scope = count, scope

    def counting(self, producer: Job) -> Job:
        async def counted() -> None:
            try:
                await producer()
            finally:
                self._count -= 1
                if not self._count:
                    self._scope.cancel()

        return counted


def _raise(failures: list[Exception]) -> None:
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ExceptionGroup("several concurrent agents failed", failures)


class DeltaStep(NamedTuple):
    """What a per-delta stage does to each delta: maps it with ``function``, or, when
    ``is_filter``, passes it on only when ``function(delta)`` is true."""

    is_filter: bool
    function: Callable[[Any], Any]


def stepped(steps: Sequence[DeltaStep], source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Apply a run of per-delta steps (maps and filters) to every delta of ``source``, in one
    generator step: the fused form of ``map_deltas(f) >> filter_deltas(p) >> ...``, which the
    functor laws allow (``map(f) >> map(g) = map(g ∘ f)``)."""
    if not any(step.is_filter for step in steps):
        functions = [function for _, function in steps]
        return _mapped(functions[0], source) if len(functions) == 1 else _maps(functions, source)
    return _steps(steps, source)


async def _mapped(function: Callable[[Any], Any], source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for delta in source:
        yield function(delta)


async def _maps(
    functions: Sequence[Callable[[Any], Any]], source: AsyncIterator[Any]
) -> AsyncIterator[Any]:
    async for delta in source:
        for function in functions:
            delta = function(delta)
        yield delta


async def _steps(steps: Sequence[DeltaStep], source: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for delta in source:
        value = stepped_value(steps, delta)
        if value is not DROPPED:
            yield value


DROPPED: Any = object()
"""What :func:`stepped_value` gives for a delta that a filter does not pass on."""


def stepped_value(steps: Sequence[DeltaStep], delta: Any) -> Any:
    """``delta`` through ``steps``: mapped by each map, or :data:`DROPPED` by a filter."""
    for is_filter, function in steps:
        if not is_filter:
            delta = function(delta)
        elif not function(delta):
            return DROPPED
    return delta


async def side_by_side(
    source: AsyncIterator[Any],
    steps: Sequence[Sequence[DeltaStep]],
    tag: Callable[[int, Any], Any],
) -> AsyncIterator[Any]:
    """Branches that are runs of per-delta steps, fed each input delta in turn in the reader's
    task: ``tag(index, output)`` for each branch's output, passed on before the next delta is
    asked for (no task, nothing buffered)."""
    async for delta in source:
        for index, own in enumerate(steps):
            value = stepped_value(own, delta)
            if value is not DROPPED:
                yield tag(index, value)


_MISTAKES = (AgentcatError, RecursionError)
_FAILURES = (StreamingError, ToolArgumentsError, ToolRoundsError, ProviderError)
"""Errors that are the program's, not an agent's: agentcat's own (a stream read outside its
scope, a delta of the wrong type...), and running out of stack, which at the same depth runs out
again (and, retried at every level of nested retries, multiplies the attempts)."""


def is_mistake(error: BaseException, named: tuple[type[BaseException], ...]) -> bool:
    """Whether ``error`` is one of :data:`_MISTAKES` that ``named`` does not name by its class
    (``MonoidError`` names one; ``Exception`` or ``TypeError``, which a ``MonoidError`` also is,
    do not). Retry, fallback and ``as_result`` let such an error through, whatever they catch:
    another attempt would make it again, and a ``Failure`` would hide a bug. A
    :class:`agentcat.StreamingError` (an agent's stream failing midway) and a
    :class:`agentcat.ToolArgumentsError` (a model's bad tool arguments) and a
    :class:`agentcat.ToolRoundsError` (a model that would not stop calling tools) and a
    :class:`agentcat.ProviderError` (a provider refusing a request) are the agent's failures:
    not mistakes."""
    if not isinstance(error, _MISTAKES) or isinstance(error, _FAILURES):
        return False
    return not any(issubclass(kind, _MISTAKES) and isinstance(error, kind) for kind in named)
