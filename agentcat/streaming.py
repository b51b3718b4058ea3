"""Streaming agents: `StreamingAgent[In, Out]`, `StreamingFunctor.lift`, and their composition."""

from __future__ import annotations

import collections.abc
import inspect
import typing
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast, final, overload

from attrs import field, frozen

from agentcat._vars import AnyAgent, In, Out, T, U, W, X, Y, Z
from agentcat.agent import Agent, FunctionAgent, Identity
from agentcat.monoid import INFERRED, Monoid, monoid_for
from agentcat.sources import Ending, accumulate
from agentcat.stream import ChunkStream
from agentcat.structure import Node

if TYPE_CHECKING:
    from agentcat.resilience import Backoff
    from agentcat.streaming_products import StreamingFanOut

__all__ = ["Lifted", "StreamingAgent", "StreamingFunctor", "StreamingPipeline", "lift", "streaming"]

Chain = list[AsyncIterator[Any]]
"""The iterators of one run of a pipeline, upstream first, closed together when it ends."""


class StreamingAgent(Agent[In, ChunkStream[Out]]):
    """An agent whose output is a stream: ``invoke`` returns a :class:`ChunkStream` at once, and
    its chunks arrive as they are produced. It is an ``Agent[In, AsyncIterator[Chunk[Out]]]``.

    There are two kinds, and which one a stage is never changes behind your back:

    * a **whole-input** stage (:func:`lift`, :func:`streaming`, or a subclass defining
      :meth:`open`) needs its entire input: fed a stream, it waits for the stream's accumulated
      value, then streams its own output;
    * a **transducer** (:func:`agentcat.transducer`, or a :class:`agentcat.Transducer` subclass
      defining ``transduce``) takes its input a piece at a time and passes each piece on as soon
      as it can.

    ``a >> b`` between streaming agents feeds ``b`` from ``a``'s deltas: downstream stages start
    at once, and a chain of transducers moves every token through without waiting.
    """

    __slots__ = ()

    @property
    def needs_whole_input(self) -> bool:
        """Whether the stage needs its whole input before it can produce anything."""
        return True

    @abstractmethod
    def open(self, value: In, /) -> AsyncIterator[Out]:
        """The deltas of the output for a whole input ``value``."""

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        """The deltas of the output for an input that arrives as deltas. A whole-input stage
        accumulates them first (inferring the monoid from the first delta)."""
        return self.feed(source, None, [])

    @property
    def monoid(self) -> Monoid[Out] | None:
        """How the output deltas accumulate, when the output type tells (else found at run time
        from the first delta)."""
        return monoid_for(self.element_type)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        """How the output deltas accumulate when the input deltas accumulate with ``upstream``
        (a forwarder's output is its input's type; most stages ignore it)."""
        return self.monoid

    def monoid_for_input(self, value: In, /) -> Monoid[Out] | None:
        """How the output deltas accumulate when the stage is opened on ``value``."""
        return self.monoid_after(monoid_for(type(value)))

    @property
    def element_type(self) -> object | None:
        """The annotation of the output deltas, where it is known."""
        return None

    @property
    def output_type(self) -> object | None:
        element = self.element_type
        return None if element is None else ChunkStream[element]  # type: ignore[valid-type]

    # The wiring of one run. `chain` collects every iterator made, so that the stream can close
    # them all, downstream first, whether it ends, fails, is closed or is cancelled.
    def start(self, value: In, chain: Chain, /) -> AsyncIterator[Out]:
        """Open the stage on a whole input, recording its iterators in ``chain``."""
        iterator = self.open(value)
        chain.append(iterator)
        return iterator

    def feed(
        self, source: AsyncIterator[In], monoid: Monoid[In] | None, chain: Chain, /
    ) -> AsyncIterator[Out]:
        """Open the stage on an input stream whose deltas combine with ``monoid``."""
        iterator: AsyncIterator[Out] = _OpenAfter(self, source, monoid)
        chain.append(iterator)
        return iterator

    def stream(self, value: In, /) -> ChunkStream[Out]:
        """The output stream for ``value`` (what ``invoke`` returns, without awaiting)."""
        chain: Chain = []
        iterator = self.start(value, chain)
        monoid = self.monoid_for_input(value)
        # The agent names the stream: its repr is rendered only if someone asks.
        return ChunkStream(iterator, monoid, upstream=chain[:-1], name=self)

    async def invoke(self, value: In, /) -> ChunkStream[Out]:
        return self.stream(value)

    # ``>>`` between streaming agents feeds the right one from the left one's deltas; this is
    # what a streaming pipeline means, so the override refines the inherited plain ``>>``.
    @overload  # type: ignore[override]
    def __rshift__(self: AnyAgent, other: Identity, /) -> AnyAgent: ...
    @overload
    def __rshift__(
        self: StreamingAgent[X, Y], other: StreamingAgent[Y, Z], /
    ) -> StreamingAgent[X, Z]: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: Agent[Y, Z], /) -> Agent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__rshift__(other)

    def __and__(  # type: ignore[override]
        self: StreamingAgent[X, Y], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, Y, Z]:
        from agentcat.streaming_products import streaming_fan_out

        return streaming_fan_out(self, other)

    def __mul__(  # type: ignore[override]
        self: StreamingAgent[X, Y], other: StreamingAgent[W, Z], /
    ) -> StreamingAgent[tuple[X, W], tuple[Y, Z]]:
        from agentcat.streaming_products import StreamingParallel

        if not isinstance(other, StreamingAgent):
            raise TypeError(
                f"{self!r} * {other!r}: both sides of a streaming parallel must stream; lift() "
                "the plain one"
            )
        return StreamingParallel(self, other)

    def with_fallback(  # type: ignore[override]
        self: StreamingAgent[X, Y],
        *alternatives: StreamingAgent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]:
        """Try the alternatives in turn while a stage fails with ``on`` *before its first delta*;
        a failure after it raises :class:`agentcat.StreamingError` with the partial output."""
        from agentcat.streaming_resilience import StreamingFallback

        return StreamingFallback((self, *alternatives), on)

    def with_retry(
        self: StreamingAgent[X, Y],
        attempts: int = 3,
        *,
        backoff: Backoff | None = None,
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]:
        """Retry while the stage fails with ``on`` before its first delta; a failure after it
        raises :class:`agentcat.StreamingError` with the partial output."""
        from agentcat.resilience import no_backoff
        from agentcat.streaming_resilience import StreamingRetry

        return StreamingRetry(self, attempts, backoff or no_backoff, on)


class _OpenAfter(Ending[U]):
    """A whole-input stage fed a stream: accumulate the input, then open the stage on it."""

    __slots__ = ("_agent", "_inner", "_monoid", "_source", "ended")

    def __init__(
        self,
        agent: StreamingAgent[T, U],
        source: AsyncIterator[T],
        monoid: Monoid[T] | None,
    ) -> None:
        self._agent, self._source, self._monoid = agent, source, monoid
        self._inner: AsyncIterator[U] | None = None
        self.ended = False

    async def __anext__(self) -> U:
        inner = self._inner
        if inner is None:
            value = await accumulate(self._source, self._monoid)
            inner = self._inner = self._agent.open(value)
        piece = await anext(inner)
        self.ended = isinstance(inner, Ending) and inner.ended
        return piece

    async def aclose(self) -> None:
        if self._inner is not None:
            aclose = getattr(self._inner, "aclose", None)
            if aclose is not None:
                await aclose()


@final
@frozen(repr=False)
class Lifted(StreamingAgent[In, Out]):
    """``lift(agent)``: a plain agent gives one final chunk; an agent whose output is an async
    iterator (an ``async`` generator function, a model) gives a chunk per delta."""

    agent: Agent[In, Any]
    given_monoid: Monoid[Out] | None = field(default=None, alias="monoid")

    def open(self, value: In, /) -> AsyncIterator[Out]:
        agent = self.agent
        if isinstance(agent, FunctionAgent) and inspect.isasyncgenfunction(agent.function):
            return cast(AsyncIterator[Out], agent.function(value))  # its own delta source
        return _LiftedSource(agent, value)

    @property
    def monoid(self) -> Monoid[Out]:
        """``monoid=`` if given, else the monoid of the output type, else :data:`INFERRED`."""
        return self.given_monoid or monoid_for(self.element_type) or INFERRED

    @property
    def element_type(self) -> object | None:
        output = self.agent.output_type
        if typing.get_origin(output) in _ITERATORS:
            return typing.get_args(output)[0] if typing.get_args(output) else None
        return output

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    @property
    def name(self) -> str:
        return self.agent.name

    def describe(self) -> Node:
        if isinstance(self.agent, FunctionAgent):
            return Node("agent", self.agent.name)
        return Node("lift", "lift({})", (self.agent.describe(),))


_ITERATORS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.AsyncIterable,
)


class _LiftedSource(Ending[U]):
    __slots__ = ("_agent", "_inner", "_started", "_value", "ended")

    def __init__(self, agent: Agent[Any, Any], value: Any) -> None:
        self._agent, self._value = agent, value
        self._inner: AsyncIterator[U] | None = None
        self._started = False
        self.ended = False

    async def __anext__(self) -> U:
        if self._inner is not None:
            return await anext(self._inner)
        if self._started:
            raise StopAsyncIteration
        self._started = True
        output = await self._agent.invoke(self._value)
        if isinstance(output, AsyncIterator):
            self._inner = output
            return await anext(output)
        self.ended = True
        return output  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()


@final
@frozen(repr=False)
class StreamingPipeline(StreamingAgent[In, Out]):
    """Streaming stages in sequence, each fed from the deltas of the one before (flat).

    A run of consecutive per-delta maps is fused into one step (the functor law
    ``map(f) >> map(g) = map(g ∘ f)``), so such stages cost a function call per token each.
    """

    stages: tuple[StreamingAgent[Any, Any], ...]

    @property
    def needs_whole_input(self) -> bool:
        return self.stages[0].needs_whole_input

    def open(self, value: In, /) -> AsyncIterator[Out]:
        return self.start(value, [])

    def start(self, value: In, chain: Chain, /) -> AsyncIterator[Out]:
        first = self.stages[0]
        monoid = first.monoid_for_input(value)
        return _feed_stages(self.stages[1:], first.start(value, chain), monoid, chain)

    def feed(
        self, source: AsyncIterator[In], monoid: Monoid[In] | None, chain: Chain, /
    ) -> AsyncIterator[Out]:
        return _feed_stages(self.stages, source, monoid, chain)

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        monoid = upstream
        for stage in self.stages:
            monoid = stage.monoid_after(monoid)
        return monoid

    def monoid_for_input(self, value: In, /) -> Monoid[Out] | None:
        monoid = self.stages[0].monoid_for_input(value)
        for stage in self.stages[1:]:
            monoid = stage.monoid_after(monoid)
        return monoid

    @property
    def element_type(self) -> object | None:
        return self.stages[-1].element_type

    @property
    def input_type(self) -> object | None:
        return self.stages[0].input_type

    def describe(self) -> Node:
        return Node("sequence", "", tuple(stage.describe() for stage in self.stages))


def _feed_stages(
    stages: tuple[StreamingAgent[Any, Any], ...],
    iterator: AsyncIterator[Any],
    monoid: Monoid[Any] | None,
    chain: Chain,
) -> AsyncIterator[Any]:
    from agentcat.transducers import MapDeltas, fused_maps

    index = 0
    while index < len(stages):
        stage = stages[index]
        if isinstance(stage, MapDeltas):
            run: list[MapDeltas[Any, Any]] = [stage]
            while index + 1 < len(stages) and isinstance(after := stages[index + 1], MapDeltas):
                index += 1
                run.append(after)
            iterator = fused_maps(run, iterator)
            chain.append(iterator)
            monoid = run[-1].monoid_after(monoid)
        else:
            iterator = stage.feed(iterator, monoid, chain)
            monoid = stage.monoid_after(monoid)
        index += 1
    return iterator


def streaming_sequence(
    left: Agent[Any, Any], right: StreamingAgent[Any, Any]
) -> StreamingAgent[Any, Any]:
    """``left >> right`` when ``right`` streams: a flat :class:`StreamingPipeline`, where a
    plain agent is a whole-input stage, as if lifted."""
    from agentcat.compose import check_compatible

    produced = left.element_type if isinstance(left, StreamingAgent) else left.output_type
    check_compatible(left, produced, right)
    return StreamingPipeline(_stages(left) + _stages(right))


def _stages(agent: Agent[Any, Any]) -> tuple[StreamingAgent[Any, Any], ...]:
    if isinstance(agent, StreamingPipeline):
        return agent.stages
    return (agent if isinstance(agent, StreamingAgent) else Lifted(agent),)


class StreamingFunctor:
    """The functor from agents to streaming agents: ``lift`` maps ``Agent[A, B]`` to
    ``StreamingAgent[A, B]``, an ``Agent[A, AsyncIterator[Chunk[B]]]``, and preserves identity
    and composition up to chunk boundaries (laws S0-S2)."""

    @staticmethod
    @overload
    def lift(
        agent: StreamingAgent[X, Y], /, *, monoid: Monoid[Y] | None = None
    ) -> StreamingAgent[X, Y]: ...
    @staticmethod
    @overload
    def lift(
        agent: Agent[X, AsyncIterator[Y]], /, *, monoid: Monoid[Y] | None = None
    ) -> StreamingAgent[X, Y]: ...
    @staticmethod
    @overload
    def lift(agent: Agent[X, Y], /, *, monoid: Monoid[Y] | None = None) -> StreamingAgent[X, Y]: ...
    @staticmethod
    def lift(
        agent: Agent[Any, Any], /, *, monoid: Monoid[Any] | None = None
    ) -> StreamingAgent[Any, Any]:
        """Make ``agent`` a streaming agent (a streaming agent is returned as it is)."""
        if isinstance(agent, StreamingAgent):
            return agent
        if not isinstance(agent, Agent):
            raise TypeError(f"lift() takes an Agent, not {agent!r}: decorate functions with @agent")
        return Lifted(agent, monoid)


lift = StreamingFunctor.lift


def streaming(function: Callable[[X], AsyncIterator[Y]], /) -> StreamingAgent[X, Y]:
    """Make a streaming agent of an ``async`` generator function that takes a whole input and
    yields deltas (``lift(agent(function))``)."""
    return Lifted(FunctionAgent(function))
