"""Instruments the laws wrap around agents: call counters, chunking policies, stream sources
(whose life is recorded, failing after some deltas if asked) and failing or recording stages.

None of them changes what an agent computes; each makes something observable (how often a
stage ran, how its output was cut into deltas, where a stream broke, how far a source had got
when a delta arrived, whether a closed stream stopped its source) or builds the other side of a
law (the lifted ``S_c(f)`` of the streaming functor laws).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import anyio.lowlevel
from attrs import field, frozen

from agentcat import (
    Agent,
    ChunkStream,
    Fallible,
    Monoid,
    Node,
    StreamingAgent,
    Transducer,
    lift,
    monoid_for,
    monoids,
)
from agentcat_laws.strategies import ChunkPlan, split

__all__ = [
    "Calls",
    "Chunked",
    "Each",
    "Emit",
    "FailAfter",
    "Life",
    "Project",
    "Raising",
    "Seen",
    "Source",
    "counted",
    "deltas",
    "emitting",
    "monoid_of_value",
]

AnyAgent = Agent[Any, Any]


class Calls:
    """How many times an instrumented agent was invoked (streaming: started or fed)."""

    __slots__ = ("count", "outputs")

    def __init__(self) -> None:
        self.count = 0
        self.outputs: list[Any] = []

    async def record(self, call: Awaitable[Any]) -> Any:
        """Count a call, await it and keep its output."""
        self.count += 1
        output = await call
        self.outputs.append(output)
        return output

    def __repr__(self) -> str:
        return f"{self.count} call{'s' if self.count != 1 else ''}"


@frozen(repr=False)
class _CountedAgent(Agent[Any, Any]):
    inner: AnyAgent
    calls: Calls = field(eq=False)

    async def invoke(self, value: Any, /) -> Any:
        return await self.calls.record(self.inner.invoke(value))

    @property
    def input_type(self) -> object | None:
        return self.inner.input_type

    @property
    def output_type(self) -> object | None:
        return self.inner.output_type

    def describe(self) -> Node:
        return self.inner.describe()


@frozen(repr=False)
class _CountedFallible(Fallible[Any, Any, Any]):
    inner: Fallible[Any, Any, Any]
    calls: Calls = field(eq=False)

    async def invoke(self, value: Any, /) -> Any:
        return await self.calls.record(self.inner.invoke(value))

    @property
    def input_type(self) -> object | None:
        return self.inner.input_type

    def describe(self) -> Node:
        return self.inner.describe()


@frozen(repr=False)
class _CountedStreaming(StreamingAgent[Any, Any]):
    inner: StreamingAgent[Any, Any]
    calls: Calls = field(eq=False)

    @property
    def needs_whole_input(self) -> bool:
        return self.inner.needs_whole_input

    @property
    def runs_tasks(self) -> bool:
        return self.inner.runs_tasks

    def open(self, value: Any, /) -> AsyncIterator[Any]:
        self.calls.count += 1
        return self.inner.open(value)

    def transduce(self, source: AsyncIterator[Any], /) -> AsyncIterator[Any]:
        self.calls.count += 1
        return self.inner.transduce(source)

    @property
    def monoid(self) -> Monoid[Any] | None:
        return self.inner.monoid

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return self.inner.monoid_after(upstream)

    @property
    def element_type(self) -> object | None:
        return self.inner.element_type

    @property
    def input_type(self) -> object | None:
        return self.inner.input_type

    def describe(self) -> Node:
        return self.inner.describe()


def counted(agent: AnyAgent) -> tuple[AnyAgent, Calls]:
    """An agent that computes what ``agent`` does, of the same kind (plain, fallible or
    streaming, so ``>>`` composes it the same way), and the counter of its invocations."""
    calls = Calls()
    if isinstance(agent, StreamingAgent):
        return _CountedStreaming(agent, calls), calls
    if isinstance(agent, Fallible):
        return _CountedFallible(agent, calls), calls
    return _CountedAgent(agent, calls), calls


def monoid_of_value(value: object) -> Monoid[Any]:
    """The monoid of ``value``'s type, or ``LAST`` (the value is one delta) when it has none."""
    found = monoid_for(type(value))
    return found if found is not None else monoids.LAST


async def deltas(parts: Sequence[Any]) -> AsyncIterator[Any]:
    """An async iterator of ``parts``, in order: the output of an agent that streams them."""
    for part in parts:
        yield part


@frozen(repr=False)
class Chunked(Agent[Any, Any]):
    """``agent``, with its output cut by ``plan`` and produced as an async iterator of deltas:
    lifted, it is ``S_c(agent)``, the streaming version of ``agent`` with chunking policy c.

    The output of a streaming ``agent`` is accumulated first, then cut.
    """

    agent: AnyAgent
    plan: ChunkPlan

    async def invoke(self, value: Any, /) -> AsyncIterator[Any]:
        output = await self.agent.invoke(value)
        if isinstance(output, ChunkStream):
            output = await output
        return deltas(split(output, self.plan))

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def name(self) -> str:
        return f"chunked({self.agent!r}, {self.plan!r})"


@frozen(repr=False)
class Emit(Agent[Any, Any]):
    """Whatever its input, produces ``deltas``: the source of a law's input stream."""

    deltas: tuple[Any, ...]

    async def invoke(self, value: Any, /) -> AsyncIterator[Any]:
        return deltas(self.deltas)

    @property
    def name(self) -> str:
        return f"emit{list(self.deltas)!r}"


def emitting(deltas: Sequence[Any], monoid: Monoid[Any]) -> StreamingAgent[Any, Any]:
    """A streaming agent whose output is the stream of ``deltas`` (accumulating with
    ``monoid``): ``emitting(chunks) >> t`` feeds ``t`` that chunking."""
    return lift(Emit(tuple(deltas)), monoid=monoid)


@frozen(repr=False)
class FailAfter(Transducer[Any, Any]):
    """Forwards the first ``count`` deltas, then raises ``error``: at the next delta, or at the
    end of its input if that comes first."""

    count: int
    error: Exception

    async def transduce(self, source: AsyncIterator[Any], /) -> AsyncIterator[Any]:
        passed = 0
        async for delta in source:
            if passed == self.count:
                raise self.error
            passed += 1
            yield delta
        raise self.error

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return upstream

    @property
    def name(self) -> str:
        return f"fail_after({self.count}, {self.error!r})"


class Life:
    """What the producers of one example did: how many started, how many deltas they produced
    in all, and how many stopped (their ``finally`` ran: they ended, failed or were closed)."""

    __slots__ = ("produced", "started", "stopped")

    def __init__(self) -> None:
        self.started = self.produced = self.stopped = 0

    def __repr__(self) -> str:
        return f"started {self.started}, produced {self.produced}, stopped {self.stopped}"


async def _produce(source: Source) -> AsyncIterator[Any]:
    life = source.life
    life.started += 1
    try:
        for index, delta in enumerate(source.deltas):
            if source.error is not None and index == source.after:
                raise source.error
            await anyio.lowlevel.checkpoint()  # a real task switch between deltas
            life.produced += 1
            yield delta
        if source.error is not None:
            raise source.error
    finally:
        life.stopped += 1


@frozen(repr=False)
class Source(Agent[Any, Any]):
    """Whatever its input, produces ``deltas`` one at a time, recording in ``life`` how many it
    has produced and whether it stopped; with ``error``, raises it after ``after`` deltas (at
    the end, if there are no more). Lifted, it is the input stream of a law."""

    deltas: tuple[Any, ...]
    life: Life = field(factory=Life, eq=False)
    error: Exception | None = None
    after: int = 0

    async def invoke(self, value: Any, /) -> AsyncIterator[Any]:
        return _produce(self)

    @property
    def name(self) -> str:
        failing = "" if self.error is None else f" failing after {self.after}: {self.error!r}"
        return f"source{list(self.deltas)!r}{failing}"


@frozen(repr=False)
class Each(Transducer[Any, Any]):
    """A hand-written transducer that maps each delta with ``function`` as it arrives: a
    per-delta stage that a pipeline runs as it is (it cannot fuse it)."""

    function: Callable[[Any], Any]

    async def transduce(self, source: AsyncIterator[Any], /) -> AsyncIterator[Any]:
        async for delta in source:
            yield self.function(delta)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return upstream

    @property
    def name(self) -> str:
        return f"each({self.function!r})"


@frozen(repr=False)
class Seen(Transducer[Any, Any]):
    """Forwards every delta, keeping it in ``deltas``: what the stage before produced, empty
    deltas included."""

    deltas: list[Any] = field(factory=list, eq=False)

    async def transduce(self, source: AsyncIterator[Any], /) -> AsyncIterator[Any]:
        async for delta in source:
            self.deltas.append(delta)
            yield delta

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return upstream

    @property
    def name(self) -> str:
        return "seen"


@frozen(repr=False)
class Project(Agent[Any, Any]):
    """``fst`` (``index`` 0) or ``snd`` (``index`` 1): one item of a pair."""

    index: int

    async def invoke(self, value: Any, /) -> Any:
        return value[self.index]

    @property
    def name(self) -> str:
        return ("fst", "snd")[self.index] if self.index < 2 else f"item({self.index})"


@frozen(repr=False)
class Raising(Agent[Any, Any]):
    """An agent that raises ``error`` whatever its input."""

    error: Exception

    async def invoke(self, value: Any, /) -> Any:
        raise self.error

    @property
    def name(self) -> str:
        return f"raising({self.error!r})"
