"""`ChunkStream[T]`: what a streaming agent returns, a promise of ``Chunk[T]``s."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from agentcat._vars import T
from agentcat.chunk import Accumulation, Chunk
from agentcat.monoid import Monoid, MonoidError, monoid_of
from agentcat.promise import StreamedPromise
from agentcat.sources import Ending, aclose_all

__all__ = ["ChunkStream"]


def _whole(chunks: Sequence[Chunk[T]]) -> T:
    return chunks[-1].accumulated


class ChunkStream(StreamedPromise[Chunk[T], T]):
    """The chunks of one streamed value, an ``AsyncIterator[Chunk[T]]`` that is also a promise.

    Every chunk but the last carries one delta with ``done=False``; the last has ``done=True``
    and an empty delta, unless the source knew its one delta was the last (a lifted plain agent
    gives exactly one chunk, ``done=True``). An empty stream is that one terminal chunk.
    ``await stream`` is the accumulated value; :attr:`accumulated` is what has arrived so far,
    also after an error.
    """

    def __init__(
        self,
        deltas: AsyncIterator[T],
        monoid: Monoid[T] | None = None,
        *,
        upstream: Sequence[AsyncIterator[Any]] = (),
        name: str = "stream",
    ) -> None:
        super().__init__(deltas, _whole)
        self._upstream = upstream
        self._name = name
        self._monoid = monoid
        self._accumulation: Accumulation[T] | None = None
        self._ending = deltas if isinstance(deltas, Ending) else None
        self._ended = False
        self._started: float | None = None

    def __repr__(self) -> str:
        return f"<ChunkStream of {self._name}>"

    async def _produce(self) -> Chunk[T]:
        if self._ended:
            raise StopAsyncIteration
        if self._started is None:
            self._started = time.perf_counter()
        try:
            delta = await anext(self._source)
        except StopAsyncIteration:
            self._ended = True
            totals = self._accumulation or Accumulation(self._require_monoid())
            return Chunk(
                totals.monoid.empty(),
                totals,
                True,
                index=len(totals.parts),
                latency=time.perf_counter() - self._started,
            )
        latency = time.perf_counter() - self._started
        if self._ending is not None and self._ending.ended and self._accumulation is None:
            self._ended = True
            return Chunk(delta, delta, True, index=0, latency=latency)
        accumulation = self._accumulation
        if accumulation is None:
            accumulation = Accumulation(self._monoid or monoid_of(delta))
            self._accumulation = accumulation
        accumulation.parts.append(delta)
        return Chunk(delta, accumulation, False, index=len(accumulation.parts) - 1, latency=latency)

    def _require_monoid(self) -> Monoid[T]:
        if self._monoid is None:
            raise MonoidError(
                f"{self._name} produced no delta and its type is unknown, so its empty value "
                "is too: annotate it or pass monoid="
            )
        return self._monoid

    async def _close_source(self) -> None:
        await aclose_all((*self._upstream, self._source))

    @property
    def accumulated(self) -> T:
        """The value accumulated from the deltas produced so far (after an error too)."""
        if self._pieces and self._pieces[-1].done:
            return self._pieces[-1].accumulated
        if self._accumulation is not None:
            return self._accumulation.prefix(len(self._accumulation.parts))
        return self._require_monoid().empty()

    @property
    def time_to_first_chunk(self) -> float | None:
        """Seconds from the first request to the first chunk, once there is one."""
        return self._pieces[0].latency if self._pieces else None
