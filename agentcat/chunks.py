"""Chunks and the one stream of them: `Chunk[T]` and `ChunkStream[T]`, what a streaming agent
returns and a message's tokens are, and `Invocation[T]`, the call that gives one."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Generator, Iterable
from types import TracebackType
from typing import Any, Generic, Self, final

import anyio
import anyio.abc
from returns.result import Failure, Result, Success
from typing_extensions import TypeVar

from agentcat._promise import _SKIPPED, StreamedPromise, _Said
from agentcat._runtime import Ending, Run, deltas, is_mistake
from agentcat.errors import MonoidError
from agentcat.monoids import INFERRED, Monoid, monoid_for, monoid_of

__all__ = ["Chunk", "ChunkStream", "Invocation", "ResultStream"]

T = TypeVar("T")
W = TypeVar("W", default=T)
E = TypeVar("E")


class _Accumulation(Generic[T]):
    """The deltas of one stream (the stream's own list, not a copy), from which its chunks read
    their prefix lazily: the accumulated value is built only when asked for."""

    __slots__ = ("_last", "monoid", "parts")

    def __init__(self, parts: list[T], monoid: Monoid[T]) -> None:
        self.parts = parts
        self.monoid = monoid
        self._last: tuple[int, T] | None = None

    def prefix(self, count: int) -> T:
        """The accumulation of the first ``count`` deltas (the latest one asked for is kept, so
        reading every chunk's ``accumulated`` in order costs one ``combine`` each)."""
        last = self._last
        if last is not None and last[0] == count:
            return last[1]
        if last is not None and last[0] == count - 1:
            value = self.monoid.combine(last[1], self.parts[count - 1])
        else:
            value = self.monoid.concat(self.parts[:count])
        self._last = (count, value)
        return value


@final
class Chunk(Generic[T]):
    """One step of a stream: ``delta`` is what it adds, ``accumulated`` what the stream adds up
    to so far, ``done`` marks the one last chunk. Its fields cannot be set.

    ``delta`` and ``accumulated`` are the stream's own values, shared with its other chunks and
    readers rather than copied (which keeps reading them free): do not mutate them. Appending to
    one chunk's accumulated list, say, would change the later chunks and the stream's whole
    value; copy it first.

    ``index`` (the position in the stream) is metadata: equality and hashing look only at
    ``delta``, ``accumulated`` and ``done``, which is what "equal up to chunk boundaries" needs.

    Four slots, not attrs: four times cheaper to make, and a stream makes one on every token.
    """

    __slots__ = ("_accumulated", "_delta", "_done", "_index")
    _delta: T
    _accumulated: Any  # the value, or the stream's accumulation, read when asked for
    _done: bool
    _index: int

    def __init__(self, delta: T, accumulated: T, done: bool = False, *, index: int = 0) -> None:
        self._delta, self._accumulated, self._done, self._index = delta, accumulated, done, index

    @property
    def delta(self) -> T:
        """What this chunk adds to the ones before it."""
        return self._delta

    @property
    def done(self) -> bool:
        """Whether this is the last chunk of its stream (exactly one is)."""
        return self._done

    @property
    def index(self) -> int:
        """The position of the chunk in its stream, from 0."""
        return self._index

    @property
    def accumulated(self) -> T:
        """The combination of every delta up to and including this one.

        Built when read, from the stream's deltas: reading it at every chunk of a long stream
        builds every prefix, which for text copies each prefix once (quadratic in the length).
        A view that shows text as it arrives should append ``delta``s instead.
        """
        value = self._accumulated
        if type(value) is _Accumulation:
            return value.prefix(self._index + 1 if not self._done else len(value.parts))  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def _key(self) -> tuple[Any, Any, bool]:
        return (self._delta, self.accumulated, self._done)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Chunk(delta={self.delta!r}, accumulated={self.accumulated!r}, done={self.done})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_chunk, (self._delta, self.accumulated, self._done, self._index))


def _chunk(delta: T, accumulated: Any, done: bool, index: int) -> Chunk[T]:
    """A chunk, made the fast way (positional, no keywords): how a stream makes its chunks."""
    chunk: Chunk[T] = object.__new__(Chunk)
    chunk._delta, chunk._accumulated, chunk._done, chunk._index = delta, accumulated, done, index
    return chunk


class ChunkStream(StreamedPromise[Chunk[T], W]):
    """The chunks of one streamed value: an ``AsyncIterator[Chunk[T]]`` that is also a promise.

    Every chunk but the last carries one non-empty delta with ``done=False``; the last has
    ``done=True`` and an empty delta, unless the source knew its one delta was the last (a
    lifted plain agent gives exactly one chunk, ``done=True``). An empty stream is that one
    terminal chunk. :attr:`accumulated` is what has arrived so far, also after an error, and
    ``await stream`` is the whole value: the accumulated value of every delta (a subclass may
    resolve it to another type ``W``, as :class:`agentcat.MessagePromise` resolves its text to a
    :class:`agentcat.Message`).

    The stream keeps each delta once (for replay, for the whole value and for ``accumulated``)
    and builds each chunk when it is read, so a long stream holds no per-token objects beyond its
    deltas. ``monoid`` says how the deltas add up; without one, the first delta's type tells.
    ``name`` is what the stream is of (an agent, say), shown only when the stream is shown.

    As a :class:`agentcat.StreamedPromise`, it is read by any number of consumers, in one task
    or many, each from the first chunk; a chunk is produced in the task of the consumer that
    asks for it first, so cancelling that consumer while it produces ends the stream for every
    consumer (:class:`agentcat.StreamClosedError`), and ``aclose()``, from any task, stops the
    producer (once the chunk under way, if another task is producing one).

    Raises (when read):
        MonoidError: a delta is not of the stream's type (the message names the stage that
            produced it); or the stream produced no delta and its type is unknown, so its empty
            value is too.
        StreamClosedError: the stream was closed (``aclose()``, leaving ``async with``), or
            the consumer producing it cancelled, before the chunk asked for was produced.
        StreamScopeError: the stream runs tasks (a fan-out or a parallel product) and is
            iterated outside ``async with stream:``; raised at the first read, before anything
            runs.
    """

    def __init__(
        self,
        source: AsyncIterator[T],
        monoid: Monoid[T] | None = None,
        *,
        name: object = "stream",
    ) -> None:
        super().__init__(source)
        self._name = name
        self._monoid = monoid
        self._kind = None if monoid is None else monoid.kind
        self._run: Run | None = None
        self._accumulation: _Accumulation[T] | None = None
        self._ending = source if isinstance(source, Ending) else None
        self._one_chunk = False  # its one delta was final at once: the stream is that one chunk

    @staticmethod
    def of(items: Iterable[T], monoid: Monoid[T] | None = None) -> ChunkStream[T]:
        """The stream of deltas known already: ``ChunkStream.of(["Hel", "lo"])``."""
        listed = list(items)
        return ChunkStream(deltas(listed), monoid, name=repr(listed))

    @classmethod
    def _of_run(
        cls,
        source: AsyncIterator[T],
        monoid: Monoid[T] | None,
        run: Run,
        name: object,
        hosted: bool,
    ) -> Self:
        """The stream of a stage's run: closing the stream closes every iterator of the run.
        A ``hosted`` run starts tasks (a fan-out's branches), in the task group that ``async
        with stream:`` opens; until then, reading it is a :class:`StreamScopeError`."""
        stream = cls(source, monoid, name=name)
        stream._run = run
        if hosted:
            stream._needs_scope(
                _Said(
                    "the stream of {} runs tasks (a fan-out or a parallel product), which need "
                    "a scope that owns them: read it inside `async with stream:` (as in `async "
                    "with agent.stream(x) as stream:`, then `async for chunk in stream:`), or "
                    "`await stream` for the whole value",
                    name,
                )
            )
        return stream

    def __repr__(self) -> str:
        if self._items or self._finished or self._pulling:
            return f"<{type(self).__name__} of {self._name!s}>"
        read = "iterate it" if self._unscoped is None else "read it inside `async with`"
        return (
            f"<{type(self).__name__} of {self._name!s}, unread: {read}, or await it for the "
            "whole value>"
        )

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How IPython shows the stream, as a cell's last expression say. Showing cannot run
        it (a formatter runs inside the kernel's loop, and a task reading on would outlive the
        cell), so an unread stream says how to watch it instead."""
        if self._items or self._finished or self._pulling:
            printer.text(repr(self))
            return
        printer.text(
            f"<{type(self).__name__} of {self._name!s}, unread: `await agentcat.show(stream)` "
            "shows it here as it streams, `await stream` gives the whole value>"
        )

    @property
    def monoid(self) -> Monoid[T] | None:
        """How the deltas add up: the one given, else the one found from the first delta (or
        ``None`` while no delta has told)."""
        if self._accumulation is not None:
            return self._accumulation.monoid
        return self._found_from(self._items[0]) if self._one_chunk else self._monoid

    def _kept(self, delta: T) -> T:
        kind = self._kind
        if kind is not None and not isinstance(delta, kind):
            raise MonoidError(
                f"{self._name!s} produced {delta!r} ({type(delta).__qualname__}), but its "
                f"deltas are {kind.__qualname__}: yield {kind.__qualname__} values, or "
                "annotate what it yields (or pass monoid=)"
            )
        if not delta and self._accumulate(delta).monoid.is_empty(delta):
            return _SKIPPED  # type: ignore[no-any-return]  # an empty delta says nothing
        if not self._items and self._ending is not None and self._ending.ended:
            self._one_chunk = self._last_given = True  # the one delta, final at once
        elif self._accumulation is None:
            self._accumulate(delta)
        return delta

    def _accumulate(self, first: T) -> _Accumulation[T]:
        """The accumulation of the deltas, made at the first one. A stream whose type was
        known only at run time (:data:`INFERRED`, or no monoid) takes the monoid of the first
        delta's type when there is one: its terminal chunk's delta is then that monoid's empty
        value (``""``, not ``None``), and a later delta of another type is a
        :class:`MonoidError` naming the stage."""
        accumulation = self._accumulation
        if accumulation is None:
            monoid = self._found_from(first) or monoid_of(first)
            self._kind = monoid.kind
            accumulation = _Accumulation(self._items, monoid)
            self._accumulation = accumulation
        return accumulation

    def _found_from(self, first: T) -> Monoid[T] | None:
        """The monoid given, unless it says only that the type is known at run time: then the
        monoid of the first delta's type, if it has one."""
        monoid = self._monoid
        if monoid is None or monoid is INFERRED:
            return monoid_for(type(first)) or monoid
        return monoid

    def _tail_count(self) -> int:
        return 0 if self._one_chunk else 1

    def _present(self, index: int) -> Chunk[T]:
        items = self._items
        if self._one_chunk:
            return _chunk(items[0], items[0], True, 0)
        if index < len(items):
            return _chunk(items[index], self._accumulation, False, index)
        totals = self._accumulation or _Accumulation(items, self._require_monoid())
        return _chunk(totals.monoid.empty(), totals, True, index)

    def _require_monoid(self) -> Monoid[T]:
        if self._monoid is None:
            raise MonoidError(
                f"{self._name!s} produced no delta and its type is unknown, so its empty value "
                "is too: annotate it or pass monoid="
            )
        return self._monoid

    async def _assemble(self) -> W:
        return self.accumulated  # type: ignore[return-value]  # W is T unless a subclass resolves

    async def _close_source(self) -> None:
        if self._run is not None:
            await self._run.aclose()
        else:
            await super()._close_source()

    def _entered(self, group: anyio.abc.TaskGroup) -> None:
        assert self._run is not None
        self._run.host = group

    @property
    def accumulated(self) -> T:
        """The value accumulated from the deltas produced so far (after an error too).

        Raises:
            MonoidError: no delta has been produced and the stream's type is unknown, so its
                empty value is too.
        """
        if self._one_chunk:
            return self._items[0]  # type: ignore[no-any-return]
        if self._accumulation is not None:
            return self._accumulation.prefix(len(self._items))
        return self._require_monoid().empty()


class ResultStream(ChunkStream[T, Result[T, E]]):
    """The stream of ``streaming_agent.as_result(*errors)``: the chunks of the agent's stream,
    and, where it would raise one of ``errors``, an end instead. ``await`` gives ``Success`` of
    the whole value, or ``Failure`` of the error (the same exception); the partial output stays
    in :attr:`accumulated`, and the chunks before the failure were passed on.

    agentcat's own mistakes (an :class:`agentcat.AgentcatError`, a delta of the wrong type, say)
    are raised as they are, unless ``errors`` names their class: they are not the agent's
    failure. :class:`agentcat.StreamingError` is one, the failure of a stream midway. An agent
    that fails before its first delta, its type unknown, ends with a terminal chunk of
    :data:`agentcat.monoids.INFERRED`'s empty value, ``None``.
    """

    _errors: tuple[type[Exception], ...] = (Exception,)
    """The errors that end the stream as a value (set by the agent that makes it)."""
    _caught: Exception | None = None
    """The one of them that ended it, if one did."""

    async def _finish(self, error: BaseException | None) -> None:
        if isinstance(error, self._errors) and not is_mistake(error, self._errors):
            self._caught, error = error, None
        await super()._finish(error)

    def _require_monoid(self) -> Monoid[T]:
        if self._monoid is None and self._caught is not None:
            return INFERRED  # it failed before a delta told its type: there is nothing to add up
        return super()._require_monoid()

    async def _assemble(self) -> Result[T, E]:
        if self._caught is not None:
            return Failure(self._caught)  # type: ignore[arg-type]  # one of the errors caught
        return Success(self.accumulated)


@final
class Invocation(Awaitable[ChunkStream[T, Any]], AsyncIterable[Chunk[T]]):
    """What :meth:`agentcat.StreamingAgent.invoke` returns: the call of a streaming agent,
    which is its stream both ways the Messenger Protocol writes it. ``await agent.invoke(x)``
    is the agent's output, the :class:`ChunkStream` (as for every agent, ``await invoke`` gives
    the output), and ``async for chunk in agent.invoke(x)`` reads that stream's chunks at once;
    ``async with agent.invoke(x) as stream`` enters its scope. Nothing runs until it is read.

    Awaiting it never suspends: the stream is made when the agent is invoked. It is not a
    coroutine, so give ``agent.stream`` (which returns the stream) where a coroutine function
    is asked for.
    """

    __slots__ = ("stream",)

    def __init__(self, stream: ChunkStream[T, Any]) -> None:
        self.stream = stream
        """The stream of the call."""

    def __await__(self) -> Generator[Any, None, ChunkStream[T, Any]]:
        yield from ()
        return self.stream

    def __aiter__(self) -> AsyncIterator[Chunk[T]]:
        return self.stream.__aiter__()

    async def __aenter__(self) -> ChunkStream[T, Any]:
        return await self.stream.__aenter__()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stream.__aexit__(kind, error, traceback)

    def __repr__(self) -> str:
        return f"<invocation of {self.stream!r}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How IPython shows the call: as its stream (which says how to watch it)."""
        self.stream._repr_pretty_(printer, cycle)
