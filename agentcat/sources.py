"""Delta sources: the async iterators that connect streaming stages.

Internally a streaming pipeline is plain chained async iterators of deltas, so a stage that
forwards costs one generator hop per token and nothing else. A source that knows when it has
produced its last delta (an :class:`Ending`) lets the stream mark that delta ``done`` at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Generic

from agentcat._vars import T
from agentcat.monoid import Monoid, MonoidError, monoid_of

__all__ = ["Ending", "Once", "accumulate", "aclose_all", "given"]


class Ending(AsyncIterator[T], Generic[T]):
    """A source that knows, right after producing a delta, whether it was the last one."""

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


async def accumulate(source: AsyncIterator[T], monoid: Monoid[T] | None) -> T:
    """Drain ``source`` and combine its deltas (the monoid is inferred from the first delta
    when none is given; an empty source then needs one)."""
    parts = [part async for part in source]
    if monoid is None:
        if not parts:
            raise MonoidError("cannot accumulate an empty stream of unknown type: pass monoid=")
        monoid = monoid_of(parts[0])
    return parts[0] if len(parts) == 1 else monoid.concat(parts)


async def aclose_all(iterators: Sequence[AsyncIterator[Any]]) -> None:
    """Close iterators from the last (most downstream) to the first, so that each producer
    is told to stop even when the consumer abandoned the stream midway."""
    for iterator in reversed(iterators):
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
