"""`ChunkStream[T]`: what a streaming agent returns, a promise of ``Chunk[T]``s."""

from __future__ import annotations

import time
from array import array
from collections.abc import AsyncIterator, Sequence
from typing import Any, Final

from agentcat._vars import T
from agentcat.chunk import Accumulation, Chunk
from agentcat.monoid import Monoid, MonoidError, monoid_of
from agentcat.promise import StreamedPromise
from agentcat.sources import Ending, aclose_all

__all__ = ["ChunkStream"]

_END: Final = object()
"""Kept after the last delta: it reads as the terminal chunk."""


class ChunkStream(StreamedPromise[Chunk[T], T]):
    """The chunks of one streamed value, an ``AsyncIterator[Chunk[T]]`` that is also a promise.

    Every chunk but the last carries one (non-empty) delta with ``done=False``; the last has
    ``done=True`` and an empty delta, unless the source knew its one delta was the last (a
    lifted plain agent gives exactly one chunk, ``done=True``). An empty stream is that one
    terminal chunk. ``await stream`` is the accumulated value; :attr:`accumulated` is what has
    arrived so far, also after an error.

    The stream keeps only the deltas (for replay and for the whole value) and builds each chunk
    when it is read, so a long stream holds no per-token objects beyond its text. ``name`` is
    what the stream is of (an agent, say), shown with ``str`` only when the stream is shown.
    """

    def __init__(
        self,
        deltas: AsyncIterator[T],
        monoid: Monoid[T] | None = None,
        *,
        upstream: Sequence[AsyncIterator[Any]] = (),
        name: object = "stream",
    ) -> None:
        super().__init__(deltas)
        self._upstream = upstream
        self._name = name
        self._monoid = monoid
        self._accumulation: Accumulation[T] | None = None
        self._latencies = array("d")
        self._ending = deltas if isinstance(deltas, Ending) else None
        self._single = False
        self._started: float | None = None

    def __repr__(self) -> str:
        return f"<ChunkStream of {self._name!s}>"

    async def _produce(self) -> Any:
        if self._single or (self._items and self._items[-1] is _END):
            raise StopAsyncIteration
        if self._started is None:
            self._started = time.perf_counter()
        source = self._source
        while True:
            try:
                delta = await anext(source)
            except StopAsyncIteration:
                self._latencies.append(time.perf_counter() - self._started)
                return _END
            if delta or not self._accumulate(delta).monoid.is_empty(delta):
                break
        self._latencies.append(time.perf_counter() - self._started)
        if self._ending is not None and self._ending.ended and not self._items:
            self._single = True  # the one delta, final at once: nothing follows it
            return delta
        self._accumulate(delta).parts.append(delta)
        return delta

    def _accumulate(self, delta: T) -> Accumulation[T]:
        accumulation = self._accumulation
        if accumulation is None:
            accumulation = Accumulation(self._monoid or monoid_of(delta))
            self._accumulation = accumulation
        return accumulation

    def _present(self, index: int) -> Chunk[T]:
        item = self._items[index]
        latency = self._latencies[index]
        if self._single:
            return Chunk(item, item, True, index=0, latency=latency)
        if item is _END:
            totals = self._accumulation or Accumulation(self._require_monoid())
            return Chunk(totals.monoid.empty(), totals, True, index=index, latency=latency)
        return Chunk(item, self._accumulation, False, index=index, latency=latency)

    def _require_monoid(self) -> Monoid[T]:
        if self._monoid is None:
            raise MonoidError(
                f"{self._name!s} produced no delta and its type is unknown, so its empty value "
                "is too: annotate it or pass monoid="
            )
        return self._monoid

    async def _assemble(self) -> T:
        return self.accumulated

    async def _close_source(self) -> None:
        await aclose_all((*self._upstream, self._source))

    @property
    def accumulated(self) -> T:
        """The value accumulated from the deltas produced so far (after an error too)."""
        if self._single:
            return self._items[0]  # type: ignore[no-any-return]
        if self._accumulation is not None:
            return self._accumulation.prefix(len(self._accumulation.parts))
        return self._require_monoid().empty()

    @property
    def time_to_first_chunk(self) -> float | None:
        """Seconds from the first request to the first chunk, once there is one."""
        return self._latencies[0] if self._latencies else None
