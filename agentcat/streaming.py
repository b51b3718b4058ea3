"""Streaming agents: `StreamingAgent[In, Out]`, the functor `lift` that makes one of any agent,
and `Combinator`, the base of the agents made of others, which stream when their parts do.

One algebra, two views of it. A combinator (a sequence, a fan-out, a fallback...) is written
once; it is a plain agent when its parts are plain, and when its parts stream the operators hand
out its lifted view, ``lift(combinator)``, whose chunks come from the parts' own deltas. So
``model >> up`` and ``up >> model`` are both streaming pipelines: the plain ``up`` takes part as
``lift(up)``, a stage that waits for its whole input.
"""

from __future__ import annotations

import collections.abc
import functools
import inspect
import typing
from abc import abstractmethod
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, final, overload

from attrs import field, frozen

from agentcat._functions import check_function
from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import HOST, Deferred, DeltaStep, Ending, Run, accumulate
from agentcat._structure import Node, Walk, walk
from agentcat.agent import Agent, Composite, FunctionAgent, Identity, declared_arguments
from agentcat.chunks import ChunkStream, Invocation
from agentcat.errors import CompositionError
from agentcat.monoids import INFERRED, Monoid, monoid_for

if TYPE_CHECKING:
    from agentcat.fallible import FallibleStream
    from agentcat.products import StreamingFanOut
    from agentcat.resilience import Backoff

__all__ = ["Combinator", "Lifted", "StreamingAgent", "StreamingFunctor", "lift", "streaming"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
T = TypeVar("T")
U = TypeVar("U")
W = TypeVar("W")
X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")
Ex = TypeVar("Ex", bound=Exception)
Ex2 = TypeVar("Ex2", bound=Exception)
AnyAgent = TypeVar("AnyAgent", bound=Agent[Any, Any])


class StreamingAgent(Agent[In, ChunkStream[Out]]):
    """An agent whose output is a stream: ``invoke`` returns a :class:`ChunkStream` at once, and
    its chunks arrive as they are produced. It is an ``Agent[In, AsyncIterator[Chunk[Out]]]``.

    There are two kinds, and which one a stage is never changes behind your back:

    * a **whole-input** stage needs its entire input: fed a stream, it waits for the stream's
      accumulated value, then streams its own output. Write one with :func:`streaming`, or
      subclass and define :meth:`open` (a model adapter does), or lift a plain agent;
    * a **transducer** takes its input a piece at a time and passes each piece on as soon as it
      can: :func:`agentcat.transducer`, or a :class:`agentcat.Transducer` subclass.

    ``a >> b`` feeds ``b`` from ``a``'s deltas: downstream stages start at once, and a chain of
    transducers moves every token through without waiting.

    For authors: define :meth:`open` (or ``transduce`` on a transducer), and say what the deltas
    are with :attr:`element_type` or :attr:`monoid` when the annotations do not. The methods
    whose names start with ``_`` are the wiring the combinators use; leave them alone.
    """

    __slots__ = ()

    @abstractmethod
    def open(self, value: In, /) -> AsyncIterator[Out]:
        """The deltas of the output for a whole input ``value``."""

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        """The deltas of the output for an input that arrives as deltas. A whole-input stage
        accumulates them first (inferring how from the first delta), then opens."""
        return _running(lambda run: _opened_after(self._open, source, None, run))

    @property
    def needs_whole_input(self) -> bool:
        """Whether the stage needs its whole input before it can produce anything."""
        return True

    @property
    def runs_tasks(self) -> bool:
        """Whether streaming this stage runs tasks (a fan-out or a parallel product inside it),
        so that its stream is read inside ``async with stream:`` (see
        :class:`agentcat.StreamScopeError`). A stage whose ``open`` reads such a stream of its
        own says so here."""
        return False

    @property
    def element_type(self) -> object | None:
        """The annotation of the output deltas, where it is known: by default what the class
        declares (``class Model(StreamingAgent[str, str])``)."""
        declared = declared_arguments(type(self), StreamingAgent)
        return None if declared is None else declared[1]

    @property
    def monoid(self) -> Monoid[Out] | None:
        """How the output deltas accumulate, when the output type tells (else found at run time
        from the first delta)."""
        return monoid_for(self.element_type)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        """How the output deltas accumulate when the input deltas accumulate with ``upstream``
        (a forwarder's output is its input's type; most stages ignore it)."""
        return self.monoid

    @property
    def output_type(self) -> object | None:
        element = self.element_type
        return None if element is None else ChunkStream[element]  # type: ignore[valid-type]

    def stream(self, value: In, /) -> ChunkStream[Out]:
        """The output stream for ``value`` (what ``invoke`` returns, without awaiting)."""
        run = Run()
        deltas = self._open(value, run)
        return ChunkStream._of_run(
            deltas, self._monoid_for_input(value), run, self, self.runs_tasks
        )

    def invoke(self, value: In, /) -> Invocation[Out]:
        """The stream for ``value``: ``await`` it for the :class:`ChunkStream`, or read it
        at once with ``async for``."""
        return Invocation(self.stream(value))

    # The wiring of one run: how a combinator opens this stage, on a whole input or fed a stream.
    # Every iterator made is recorded in `run`, which closes them all when the stream ends.
    def _open(self, value: In, run: Run, /) -> AsyncIterator[Out]:
        return run.opened(self.open(value))

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Out]:
        if self.needs_whole_input:
            return _opened_after(self._open, source, monoid, run)
        return run.opened(self.transduce(source))

    def _monoid_for_input(self, value: In, /) -> Monoid[Out] | None:
        return self.monoid_after(monoid_for(type(value)))

    # What a combinator asks of its parts, as steps of a walk (see `Combinator`); a leaf
    # answers with its value.
    def _walk_element(self) -> Walk[object | None] | object | None:
        return self.element_type

    def _walk_whole(self) -> Walk[bool] | bool:
        return self.needs_whole_input

    def _walk_tasks(self) -> Walk[bool] | bool:
        return self.runs_tasks

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None] | Any:
        return self.monoid_after(upstream)

    def _walk_input_monoid(self, value: In, /) -> Walk[Monoid[Any] | None] | Any:
        return self._monoid_for_input(value)

    _delta_step: DeltaStep | None = None
    """What a per-delta stage does to each delta (``map_deltas``, ``filter_deltas``), so that a
    pipeline can fuse a run of them into one step; ``None`` for every other stage."""

    _forwards: bool = False
    """Whether the stage passes every delta on unchanged (``forward``): a pipeline leaves it out,
    as the identity law allows."""

    # The operators refine `Agent`'s: streaming in, streaming out.
    @overload  # type: ignore[override]
    def __rshift__(self: AnyAgent, other: Identity, /) -> AnyAgent: ...
    @overload
    def __rshift__(
        self: StreamingAgent[X, Y], other: StreamingAgent[Y, Z], /
    ) -> StreamingAgent[X, Z]: ...
    @overload
    def __rshift__(self: StreamingAgent[X, Y], other: Agent[Y, Z], /) -> StreamingAgent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__rshift__(other)

    @overload  # type: ignore[override]
    def __and__(
        self: StreamingAgent[X, Y], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, Y, Z]: ...
    @overload
    def __and__(self: StreamingAgent[X, Y], other: Agent[X, Z], /) -> StreamingFanOut[X, Y, Z]: ...
    def __and__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__and__(other)

    @overload  # type: ignore[override]
    def __mul__(
        self: StreamingAgent[X, Y], other: StreamingAgent[W, Z], /
    ) -> StreamingAgent[tuple[X, W], tuple[Y, Z]]: ...
    @overload
    def __mul__(
        self: StreamingAgent[X, Y], other: Agent[W, Z], /
    ) -> StreamingAgent[tuple[X, W], tuple[Y, Z]]: ...
    def __mul__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__mul__(other)

    def with_fallback(  # type: ignore[override]
        self: StreamingAgent[X, Y],
        /,
        *alternatives: StreamingAgent[X, Y] | Agent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]:
        """Try the alternatives in turn while a stage fails with ``on`` *before its first delta*;
        a failure in ``on`` after it raises :class:`agentcat.StreamingError` with the partial
        output, any other failure passes through unchanged. The stage waits for its whole input,
        even a transducer: another alternative must start from the input's first delta.

        Raises:
            CompositionError: an alternative is not an agent, or ``on`` is not a tuple of
                exception classes.
        """
        return super().with_fallback(*alternatives, on=on)  # type: ignore[arg-type, return-value]

    @overload  # type: ignore[override]
    def as_result(self: StreamingAgent[X, Y], /) -> FallibleStream[X, Y, Exception]: ...
    @overload
    def as_result(self: StreamingAgent[X, Y], error: type[Ex], /) -> FallibleStream[X, Y, Ex]: ...
    @overload
    def as_result(
        self: StreamingAgent[X, Y], error: type[Ex], other: type[Ex2], /
    ) -> FallibleStream[X, Y, Ex | Ex2]: ...
    @overload
    def as_result(
        self: StreamingAgent[X, Y], /, *errors: type[Exception]
    ) -> FallibleStream[X, Y, Exception]: ...
    def as_result(self, /, *errors: type[Exception]) -> Agent[Any, Any]:
        """A streaming agent whose stream gives the same chunks, and resolves to
        ``Success(whole)``, or to ``Failure(error)`` where this one would raise one of the
        ``errors`` (every ``Exception`` when none is given): the failure as a value, the partial
        output kept (see :class:`agentcat.fallible.FallibleStream`).

        Raises:
            CompositionError: an argument is not an exception class.
        """
        return super().as_result(*errors)

    def with_retry(
        self: StreamingAgent[X, Y],
        attempts: int = 3,
        *,
        backoff: Backoff | None = None,
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]:
        """Retry while the stage fails with ``on`` before its first delta; a failure in ``on``
        after it raises :class:`agentcat.StreamingError` with the partial output, any other
        failure passes through unchanged. The stage waits for its whole input, even a
        transducer: another attempt must start from the input's first delta.

        Raises:
            CompositionError: ``attempts`` is not an int, ``backoff`` not a
                :class:`agentcat.Backoff`, or ``on`` not a tuple of exception classes.
            ValueError: ``attempts`` is less than 1.
        """
        return super().with_retry(attempts, backoff=backoff, on=on)  # type: ignore[return-value]


def _opened_after(
    open: Callable[[Any, Run], AsyncIterator[U]],
    source: AsyncIterator[Any],
    monoid: Monoid[Any] | None,
    run: Run,
) -> Deferred[U]:
    """A whole-input stage fed a stream: its input accumulated, then the stage opened on it."""

    async def start() -> AsyncIterator[U]:
        return open(await accumulate(source, monoid), run)

    return Deferred(start)


class Combinator(Composite[In, Out]):
    """An agent made of other agents (a sequence, a fan-out, a fallback...), written once for
    plain and streaming parts.

    The operators keep its parts of one kind: all plain, or all streaming (a plain operand next
    to a streaming one is lifted). With plain parts it is a plain agent, and lifting it gives one
    chunk, its output. With streaming parts the operators hand out ``lift(combinator)``, whose
    deltas come from the methods below, and ``invoke`` gives the whole value of that stream.
    Like every :class:`Composite`, it defines what it says of itself over its parts as walks.
    """

    __slots__ = ()

    @property
    @abstractmethod
    def streams(self) -> bool:
        """Whether the parts stream (and with them, the combinator's lifted view)."""

    async def _whole(self, value: In, /) -> Out:
        """The accumulated value of the combinator's stream on ``value``."""
        run = Run()
        deltas = self._open(value, run)
        monoid = self._monoid_for_input(value)
        return await ChunkStream._of_run(deltas, monoid, run, self, self._runs_tasks)

    # The wiring of the streaming form, as in `StreamingAgent`; used only when `streams`.
    @abstractmethod
    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]: ...

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        return _opened_after(self._open, source, monoid, run)

    @property
    def _runs_tasks(self) -> bool:
        return walk(self._walk_tasks())

    def _monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Any] | None:
        return walk(self._walk_monoid(upstream))

    def _monoid_for_input(self, value: In, /) -> Monoid[Any] | None:
        return walk(self._walk_input_monoid(value))

    def _walk_whole(self) -> Walk[bool] | bool:
        return True

    @abstractmethod
    def _walk_tasks(self) -> Walk[bool] | bool: ...

    @abstractmethod
    def _walk_element(self) -> Walk[object | None] | object | None: ...

    @abstractmethod
    def _walk_monoid(
        self, upstream: Monoid[Any] | None, /
    ) -> Walk[Monoid[Any] | None] | Monoid[Any] | None: ...

    def _walk_input_monoid(self, value: In, /) -> Walk[Monoid[Any] | None] | Monoid[Any] | None:
        monoid: Monoid[Any] | None = yield self._walk_monoid(monoid_for(type(value)))
        return monoid


def walk_whole_type(agent: Agent[Any, Any]) -> Walk[object | None] | object | None:
    """The step of a walk that asks what ``agent``'s output adds up to: its deltas' type when it
    streams, else its output's."""
    return agent._walk_element() if isinstance(agent, StreamingAgent) else agent._walk_output()


def whole_type(agent: Agent[Any, Any]) -> object | None:
    """What an agent's output adds up to: its deltas' type when it streams, else its output's."""
    return walk(walk_whole_type(agent))


@frozen(repr=False)
class Lifted(StreamingAgent[In, Out], metaclass=NoPublicConstructor):
    """``lift(agent)``: the streaming view of an agent.

    A plain agent gives one final chunk, its output; an agent whose output is an async iterator
    (an ``async`` generator function, say) gives a chunk per item; a combinator of streaming
    parts gives the deltas of its parts, as they arrive (that is how ``model >> up`` streams).
    """

    _built_by = "lift(agent), @streaming or an operator"

    agent: Agent[In, Any]
    given_monoid: Monoid[Out] | None = field(default=None, alias="monoid")

    @functools.cached_property
    def _streaming_parts(self) -> Combinator[In, Any] | None:
        agent = self.agent
        return agent if isinstance(agent, Combinator) and agent.streams else None

    def open(self, value: In, /) -> AsyncIterator[Out]:
        return _running(lambda run: self._open(value, run))

    def transduce(self, source: AsyncIterator[In], /) -> AsyncIterator[Out]:
        return _running(lambda run: self._feed(source, None, run))

    @functools.cached_property
    def _forwards(self) -> bool:  # type: ignore[override]
        """``lift(Id)`` passes each delta on as ``forward`` does (law S0), never the whole."""
        return isinstance(self.agent, Identity) and self.given_monoid is None

    @functools.cached_property
    def _generator(self) -> Callable[[In], AsyncIterator[Out]] | None:
        """The agent's function when it is an ``async`` generator function: its own source."""
        agent = self.agent
        if isinstance(agent, FunctionAgent) and inspect.isasyncgenfunction(agent.function):
            return agent.function
        return None

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Out]:
        parts = self._streaming_parts
        if parts is not None:
            return parts._open(value, run)
        generator = self._generator
        if generator is not None:
            return run.opened(generator(value))
        return run.opened(_LiftedSource(self.agent, value))

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Out]:
        parts = self._streaming_parts
        if parts is not None:
            return parts._feed(source, monoid, run)
        if self._forwards:
            return source
        return super()._feed(source, monoid, run)

    # What the structure alone decides is worked out once: an agent never changes.
    @functools.cached_property
    def needs_whole_input(self) -> bool:
        return walk(self._walk_whole())

    @functools.cached_property
    def runs_tasks(self) -> bool:
        return walk(self._walk_tasks())

    @functools.cached_property
    def monoid(self) -> Monoid[Out]:
        """``monoid=`` if given, else the monoid of the output type, else :data:`INFERRED`."""
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out]:
        return walk(self._walk_monoid(upstream))

    def _monoid_for_input(self, value: In, /) -> Monoid[Out] | None:
        parts = self._streaming_parts
        if self.given_monoid is not None or parts is None:
            return self.monoid  # the input cannot change it
        return parts._monoid_for_input(value) or INFERRED

    @property
    def element_type(self) -> object | None:
        return walk(self._walk_element())

    @property
    def input_type(self) -> object | None:
        return walk(self._walk_input())

    @property
    def name(self) -> str:
        return self.agent.name

    def describe(self) -> Node:
        return walk(self._walk_node())

    # The view answers for its agent: what the combinator of streaming parts says, or, for a
    # lifted plain agent, one delta of its output (the items of an async iterator it returns).
    def _walk_whole(self) -> Walk[bool]:
        parts = self._streaming_parts
        if parts is None:
            return not self._forwards
        found: bool = yield parts._walk_whole()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        parts = self._streaming_parts
        return False if parts is None else (yield parts._walk_tasks())

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any]]:
        if self.given_monoid is not None:
            return self.given_monoid
        if self._forwards:
            return upstream or INFERRED
        parts = self._streaming_parts
        found: Monoid[Any] | None
        if parts is None:
            element: object | None = yield self._walk_element()
            found = monoid_for(element)
        else:
            found = yield parts._walk_monoid(upstream)
        return found or INFERRED

    def _walk_input_monoid(self, value: In, /) -> Walk[Monoid[Any]]:
        parts = self._streaming_parts
        found: Monoid[Any] | None
        if self.given_monoid is not None or parts is None:
            found = yield self._walk_monoid(None)
        else:
            found = yield parts._walk_input_monoid(value)
        return found or INFERRED

    def _walk_element(self) -> Walk[object | None]:
        parts = self._streaming_parts
        found: object | None
        if parts is not None:
            found = yield parts._walk_element()
            return found
        found = yield self.agent._walk_output()
        if typing.get_origin(found) in _ITERATORS:
            return typing.get_args(found)[0] if typing.get_args(found) else None
        return found

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.agent._walk_input()
        return found

    def _walk_node(self) -> Walk[Node]:
        agent = self.agent
        node: Node = yield agent._walk_node()
        if self.given_monoid is not None and self._generator is None:
            monoid = repr(self.given_monoid).replace("{", "{{").replace("}", "}}")
            return Node("lift", f"lift({{}}, monoid={monoid})", (node,))
        if self._streaming_parts is not None or self._generator is not None:
            return node  # `model >> up` is written as it is built; @streaming by its name
        return Node("lift", "lift({})", (node,))


_ITERATORS = (
    collections.abc.AsyncIterator,
    collections.abc.AsyncGenerator,
    collections.abc.AsyncIterable,
)


async def _running(open: Callable[[Run], AsyncIterator[U]]) -> AsyncIterator[U]:
    """The deltas of ``open(run)`` on a run of their own, closed when they are (for the public
    ``open`` and ``transduce``, which take no run). Stages that run tasks start them in the
    scope the reading task is in (the ``async with`` of the stream being read)."""
    run = Run(HOST.get())
    try:
        async for delta in open(run):
            yield delta
    finally:
        await run.aclose()


class _LiftedSource(Ending[U]):
    """The deltas of a lifted plain agent: its output as one delta, or the items of the async
    iterator it returns."""

    __slots__ = ("_agent", "_inner", "_started", "_value")

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
        kind = type(output)  # (no ABC check per call)
        if hasattr(kind, "__anext__") or hasattr(kind, "__aiter__"):
            inner = self._inner = aiter(output)  # an async iterator, or iterable
            return await anext(inner)
        self.ended = True
        return output  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()


@final
class StreamingFunctor:
    """The functor from agents to streaming agents: ``lift`` maps ``Agent[A, B]`` to
    ``StreamingAgent[A, B]``, an ``Agent[A, AsyncIterator[Chunk[B]]]``, and preserves identity
    and composition up to chunk boundaries (laws S0-S2). A namespace for the specification's
    name; :func:`lift` is the same function."""

    @staticmethod
    @overload
    def lift(
        agent: StreamingAgent[X, Y], /, *, monoid: Monoid[Y] | None = None
    ) -> StreamingAgent[X, Y]: ...
    @staticmethod
    @overload
    def lift(
        agent: Agent[X, AsyncIterable[Y]], /, *, monoid: Monoid[Y] | None = None
    ) -> StreamingAgent[X, Y]: ...
    @staticmethod
    @overload
    def lift(agent: Agent[X, Y], /, *, monoid: Monoid[Y] | None = None) -> StreamingAgent[X, Y]: ...
    @staticmethod
    def lift(
        agent: Agent[Any, Any], /, *, monoid: Monoid[Any] | None = None
    ) -> StreamingAgent[Any, Any]:
        """Make ``agent`` a streaming agent (a streaming agent is returned as it is).

        ``monoid`` says how the deltas accumulate; given for a lifted agent, it replaces the
        one it was lifted with.

        Raises:
            CompositionError: ``agent`` is not an agent (decorate functions with ``@agent``),
                or ``monoid`` is given for a streaming agent that is not a lifted one (a
                transducer, a fan-out, a fallible stream: each says how its deltas accumulate).
        """
        if type(agent) is Lifted and monoid is not None:
            return create(Lifted, agent.agent, monoid)  # the same agent, another monoid
        if isinstance(agent, StreamingAgent):
            if monoid is not None:
                raise CompositionError(
                    f"lift({agent!r}, monoid=...): {agent!r} streams already and says how its "
                    "deltas accumulate; give monoid= where the stage is made (@streaming, "
                    "@transducer, map_deltas)"
                )
            return agent
        if not isinstance(agent, Agent):
            raise CompositionError(
                f"lift() takes an Agent, not {agent!r}: decorate functions with @agent"
            )
        return create(Lifted, agent, monoid)


lift = StreamingFunctor.lift


@overload
def streaming(
    function: Callable[[X], AsyncIterator[Y]], /, *, monoid: Monoid[Y] | None = None
) -> StreamingAgent[X, Y]: ...
@overload
def streaming(
    *, monoid: Monoid[Y]
) -> Callable[[Callable[[X], AsyncIterator[Y]]], StreamingAgent[X, Y]]: ...
def streaming(function: Any = None, /, *, monoid: Any = None) -> Any:
    """Make a streaming agent of an ``async`` generator function that takes a whole input and
    yields deltas (``lift(agent(function))``): ``@streaming``, or ``@streaming(monoid=...)`` to
    say how the deltas accumulate when their annotation does not.

    Raises:
        CompositionError: ``function`` is not an async generator function of one argument.
    """
    if function is None and monoid is not None:
        return lambda inner: streaming(inner, monoid=monoid)
    check_function("@streaming", function, "async generator")
    return create(Lifted, create(FunctionAgent, function), monoid)
