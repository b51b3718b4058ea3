"""`Chunk[T]`: one step of a stream, with its delta, the value accumulated so far, and ``done``."""

from __future__ import annotations

from typing import Any, Generic

from attrs import field, frozen

from agentcat._vars import T
from agentcat.monoid import Monoid

__all__ = ["Chunk"]


class Accumulation(Generic[T]):
    """The deltas of one stream, shared by its chunks, which read their prefix from it lazily:
    the accumulated text is built only when asked for, never copied per token."""

    __slots__ = ("_last", "monoid", "parts")

    def __init__(self, monoid: Monoid[T]) -> None:
        self.monoid = monoid
        self.parts: list[T] = []
        self._last: tuple[int, T] | None = None

    def prefix(self, count: int) -> T:
        """The accumulation of the first ``count`` deltas (the latest one asked for is kept)."""
        last = self._last
        if last is not None and last[0] == count:
            return last[1]
        if last is not None and last[0] == count - 1:
            value = self.monoid.combine(last[1], self.parts[count - 1])
        else:
            value = self.monoid.concat(self.parts[:count])
        self._last = (count, value)
        return value


@frozen(eq=False)
class Chunk(Generic[T]):
    """One step of a stream: ``delta`` is what it adds, ``accumulated`` what the stream adds up
    to so far, ``done`` marks the one last chunk.

    ``index`` (position in the stream) and ``latency`` (seconds since the stream started) are
    metadata: equality and hashing look only at ``delta``, ``accumulated`` and ``done``, which is
    what "equal up to chunk boundaries" needs.
    """

    delta: T
    _accumulated: Any = field(alias="accumulated")
    done: bool = False
    index: int = field(default=0, kw_only=True)
    latency: float | None = field(default=None, kw_only=True)

    @property
    def accumulated(self) -> T:
        """The combination of every delta up to and including this one."""
        value = self._accumulated
        if type(value) is Accumulation:
            return value.prefix(self.index + 1 if not self.done else len(value.parts))  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]

    def _key(self) -> tuple[Any, Any, bool]:
        return (self.delta, self.accumulated, self.done)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Chunk):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Chunk(delta={self.delta!r}, accumulated={self.accumulated!r}, done={self.done})"
