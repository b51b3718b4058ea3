"""What the laws can be checked on, besides agents and monoids: consumers of streams, sources of
chunks, and the combinators themselves.

- An :class:`agentcat.Agent` (plain, fallible, streaming, a transducer) and an
  :class:`agentcat.Monoid` are subjects as they are.
- :class:`Consumer` (:func:`consumer`): a function that reads a stream of chunks and returns a
  result, and claims not to care how the stream is chunked (law S4).
- :class:`ChunkSource` (:func:`chunk_source`): a function that makes ``Chunk`` objects itself,
  such as an adapter of a provider's streaming API; its streams must be well-formed (W1-W5).
- :class:`Combinators`: what ``>>``, ``Id``, ``&``, ``*``, ``lift``, ``map_deltas``,
  ``filter_deltas``, ``fail`` and ``recover`` mean. :data:`AGENTCAT` is agentcat's own;
  checking it runs every law on generated programs, so a replacement (your own combinator, or
  a broken one) is checked the same way.
"""

from __future__ import annotations

import operator
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Generic, TypeVar, overload

from attrs import evolve, field, frozen

from agentcat import Agent, Chunk, Id, Monoid, StreamingAgent, fail, filter_deltas, lift, map_deltas

__all__ = [
    "AGENTCAT",
    "ChunkSource",
    "Combinators",
    "Consumer",
    "chunk_source",
    "consumer",
]

T = TypeVar("T")
R = TypeVar("R")
In = TypeVar("In")
AnyAgent = Agent[Any, Any]


@frozen(repr=False)
class Consumer(Generic[T, R]):
    """A function that consumes a stream of ``Chunk[T]`` and claims to be chunk-agnostic: its
    result must not depend on where the chunk boundaries fall (law S4). ``monoid`` is how the
    input deltas accumulate (found from the values' type when ``None``)."""

    function: Callable[[AsyncIterator[Chunk[T]]], Awaitable[R]]
    monoid: Monoid[T] | None = None

    def __repr__(self) -> str:
        return f"consumer({getattr(self.function, '__name__', repr(self.function))})"


@overload
def consumer(function: Callable[[AsyncIterator[Chunk[T]]], Awaitable[R]], /) -> Consumer[T, R]: ...
@overload
def consumer(
    *, monoid: Monoid[T]
) -> Callable[[Callable[[AsyncIterator[Chunk[T]]], Awaitable[R]]], Consumer[T, R]]: ...
def consumer(function: Any = None, /, *, monoid: Any = None) -> Any:
    """Declare ``async def f(stream: AsyncIterator[Chunk[T]]) -> R`` a chunk-agnostic
    consumer: ``@consumer`` or ``@consumer(monoid=STR)``."""
    if function is None:
        return lambda inner: Consumer(inner, monoid)
    return Consumer(function, monoid)


@frozen(repr=False)
class ChunkSource(Generic[In, T]):
    """A function from an input to a stream of ``Chunk[T]`` it builds itself (an adapter of a
    provider's stream, a hand-written producer); ``monoid`` is how its deltas accumulate.
    agentcat's own streams are built by :class:`agentcat.ChunkStream` and well-formed by
    construction; a source that makes its own chunks must show it (W1-W5)."""

    function: Callable[[In], AsyncIterator[Chunk[T]]]
    monoid: Monoid[T]

    def __repr__(self) -> str:
        return f"chunk_source({getattr(self.function, '__name__', repr(self.function))})"


def chunk_source(
    function: Callable[[In], AsyncIterator[Chunk[T]]], /, *, monoid: Monoid[T]
) -> ChunkSource[In, T]:
    """Declare ``function`` a source of chunks whose deltas accumulate with ``monoid``."""
    return ChunkSource(function, monoid)


def _lift(agent: AnyAgent, monoid: Monoid[Any] | None) -> StreamingAgent[Any, Any]:
    return lift(agent, monoid=monoid)


def _as_result(agent: AnyAgent) -> AnyAgent:
    return agent.as_result()


def _recover(fallible: AnyAgent, handler: AnyAgent) -> AnyAgent:
    recover: Callable[[AnyAgent], AnyAgent] = getattr(fallible, "recover")  # noqa: B009
    return recover(handler)


def _retry(agent: AnyAgent, attempts: int) -> AnyAgent:
    return agent.with_retry(attempts)


def _fallback(agent: AnyAgent, alternative: AnyAgent) -> AnyAgent:
    return agent.with_fallback(alternative)


def _map_deltas(function: Callable[[Any], Any]) -> StreamingAgent[Any, Any]:
    return map_deltas(function)


def _filter_deltas(keep: Callable[[Any], bool]) -> StreamingAgent[Any, Any]:
    return filter_deltas(keep)


@frozen(repr=False)
class Combinators:
    """The meaning of agentcat's operators, as functions, so that their laws can be checked on
    generated programs, and a replacement checked the same way.

    Every field defaults to agentcat's own: ``compose`` is ``>>``, ``fan_out`` is ``&``,
    ``parallel`` is ``*``, ``kleisli`` is ``>>`` between fallible agents, ``retry`` and
    ``fallback`` are ``with_retry`` and ``with_fallback``, ``map_deltas`` and ``filter_deltas``
    agentcat's per-delta stages. With ``streaming`` the generated agents are lifted programs
    with drawn chunkings (``S_c(program)``), so the same laws check the streaming pipeline,
    fan-out and parallel, and chains of generated per-delta steps check ``map_deltas``,
    ``filter_deltas`` and their fusion.
    """

    name: str = "agentcat"
    compose: Callable[[AnyAgent, AnyAgent], AnyAgent] = operator.rshift
    identity: AnyAgent = Id
    fan_out: Callable[[AnyAgent, AnyAgent], AnyAgent] = operator.and_
    parallel: Callable[[AnyAgent, AnyAgent], AnyAgent] = operator.mul
    kleisli: Callable[[AnyAgent, AnyAgent], AnyAgent] = operator.rshift
    lift: Callable[[AnyAgent, Monoid[Any] | None], StreamingAgent[Any, Any]] = _lift
    fail: Callable[[Exception], AnyAgent] = fail
    as_result: Callable[[AnyAgent], AnyAgent] = _as_result
    recover: Callable[[AnyAgent, AnyAgent], AnyAgent] = _recover
    retry: Callable[[AnyAgent, int], AnyAgent] = _retry
    fallback: Callable[[AnyAgent, AnyAgent], AnyAgent] = _fallback
    map_deltas: Callable[[Callable[[Any], Any]], AnyAgent] = _map_deltas
    filter_deltas: Callable[[Callable[[Any], bool]], AnyAgent] = _filter_deltas
    streaming: bool = field(default=False, kw_only=True)

    def streamed(self) -> Combinators:
        """The same combinators, checked on streaming agents."""
        return evolve(self, name=f"{self.name}, streaming", streaming=True)

    def __repr__(self) -> str:
        return f"Combinators({self.name!r})"


AGENTCAT = Combinators()
"""agentcat's own combinators: ``check_laws(AGENTCAT)`` checks the core on generated programs."""
