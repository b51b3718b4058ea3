"""Errors as values: agents that return ``returns``' ``Result`` and compose by short-circuiting."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any, Generic, NoReturn, TypeVar, final, overload

from attrs import frozen
from returns.result import Failure, Result, Success

from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Run, is_mistake
from agentcat._structure import Node, Walk
from agentcat.agent import Agent, Composite, Identity
from agentcat.chunks import ResultStream
from agentcat.errors import CompositionError
from agentcat.monoids import Monoid
from agentcat.streaming import Combinator, Lifted, StreamingAgent

__all__ = ["Catching", "Failing", "Fallible", "FallibleStream", "Recovered", "catching", "fail"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
Err = TypeVar("Err", covariant=True)
E = TypeVar("E")
F = TypeVar("F")
X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")
AnyAgent = TypeVar("AnyAgent", bound=Agent[Any, Any])


class Fallible(Agent[In, Result[Out, Err]], Generic[In, Out, Err]):
    """An agent whose failures are values: it returns ``Success(out)`` or ``Failure(err)``.

    ``f >> g`` between two fallible agents is their Kleisli composition: ``g`` runs on the value
    inside ``f``'s ``Success``, and after a ``Failure`` no later agent is invoked; the failure
    comes out unchanged. Make one with :meth:`Agent.as_result` or :func:`fail`.
    """

    __slots__ = ()

    # ``>>`` between fallible agents is Kleisli composition: it accepts fallible agents that the
    # inherited plain ``>>`` would not, a deliberate refinement of the operator.
    @overload  # type: ignore[override]
    def __rshift__(self: AnyAgent, other: Identity, /) -> AnyAgent: ...
    @overload
    def __rshift__(
        self: Fallible[X, Y, E], other: Fallible[Y, Z, F], /
    ) -> Fallible[X, Z, E | F]: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: StreamingAgent[Y, Z], /) -> StreamingAgent[X, Z]: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: Agent[Y, Z], /) -> Agent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__rshift__(other)

    def recover(self: Fallible[X, Y, Any], handler: Agent[Any, Y], /) -> Agent[X, Y]:
        """An agent that returns the success value, or ``handler``'s answer to the failure.

        Raises:
            CompositionError: ``handler`` is not an agent.
        """
        if not isinstance(handler, Agent):
            raise CompositionError(f"{self!r}.recover({handler!r}): the handler is not an Agent")
        return create(Recovered, self, handler)


@final
@frozen(repr=False)
class Catching(
    Fallible[In, Out, Exception],
    Combinator[In, Result[Out, Exception]],
    metaclass=NoPublicConstructor,
):
    """``agent.as_result(*errors)``: the exceptions of the given types become ``Failure``s.

    Of a streaming agent, its streaming face is a :class:`FallibleStream`: the same chunks, and
    where the stream would raise, an end, with ``await`` giving the ``Failure`` (so the partial
    output is never lost: it was passed on, and stays the stream's ``accumulated``). As a stage
    of a pipeline it streams as its agent does; put ``as_result`` at the end of the pipeline to
    have the whole pipeline's failure as a value.
    """

    _built_by = "agent.as_result(...)"

    agent: Agent[In, Out]
    errors: tuple[type[Exception], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.agent, StreamingAgent)

    async def invoke(self, value: In, /) -> Result[Out, Exception]:
        if self.streams:
            return await self._results(value)
        try:
            return Success(await self.agent.invoke(value))
        except self.errors as error:
            if is_mistake(error, self.errors):
                raise
            return Failure(error)

    def _results(self, value: In, /) -> ResultStream[Out, Exception]:
        """The stream of the streaming agent on ``value``, its failures as the whole value."""
        run = Run()
        deltas = self._open(value, run)
        stream: ResultStream[Out, Exception] = ResultStream._of_run(
            deltas, self._monoid_for_input(value), run, self, self._runs_tasks
        )
        stream._errors = self.errors
        return stream

    @property
    def _streaming_agent(self) -> StreamingAgent[In, Out]:
        return self.agent  # type: ignore[return-value]  # `streams`: it streams

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        return self._streaming_agent._open(value, run)

    def _feed(
        self, source: AsyncIterator[Any], monoid: Monoid[Any] | None, run: Run, /
    ) -> AsyncIterator[Any]:
        return self._streaming_agent._feed(source, monoid, run)

    def _walk_whole(self) -> Walk[bool]:
        found: bool = yield self._streaming_agent._walk_whole()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        found: bool = yield self._streaming_agent._walk_tasks()
        return found

    def _walk_element(self) -> Walk[object | None]:
        found: object | None = yield self._streaming_agent._walk_element()
        return found

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None]:
        found: Monoid[Any] | None = yield self._streaming_agent._walk_monoid(upstream)
        return found

    def _walk_input_monoid(self, value: In, /) -> Walk[Monoid[Any] | None]:
        found: Monoid[Any] | None = yield self._streaming_agent._walk_input_monoid(value)
        return found

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.agent._walk_input()
        return found

    def _walk_output(self) -> object | None:
        return None  # a Result, of the types checked where two fallible agents meet

    def _walk_node(self) -> Walk[Node]:
        node: Node = yield self.agent._walk_node()
        errors = "" if self.errors == (Exception,) else ", ".join(e.__name__ for e in self.errors)
        return Node("result", "{}" + f".as_result({errors})", (node,))


def catching(agent: Agent[Any, Any], errors: tuple[type[Exception], ...]) -> Agent[Any, Any]:
    """``agent.as_result(*errors)``: every ``Exception`` when ``errors`` is empty; of a
    streaming agent, its :class:`FallibleStream`.

    Raises:
        CompositionError: an item of ``errors`` is not an exception class.
    """
    for error in errors:
        if not (isinstance(error, type) and issubclass(error, Exception)):
            raise CompositionError(f"{agent!r}.as_result() takes exception classes, not {error!r}")
    made: Catching[Any, Any] = create(Catching, agent, errors or (Exception,))
    return create(FallibleStream, made) if made.streams else made


@final
@frozen(repr=False)
class FallibleStream(Lifted[In, Out], Generic[In, Out, Err]):
    """The streaming face of ``streaming_agent.as_result(*errors)``: an agent whose stream, a
    :class:`agentcat.chunks.ResultStream`, gives the agent's chunks and resolves to
    ``Success(whole)`` or to ``Failure(error)`` where the agent would raise one of the errors.
    It adds no behaviour to the :class:`Catching` it views but that stream."""

    _built_by = "streaming_agent.as_result(...)"

    def stream(self, value: In, /) -> ResultStream[Out, Err]:  # type: ignore[override]
        """The stream for ``value``, its failure as its whole value."""
        catching: Catching[In, Out] = self.agent  # type: ignore[assignment]
        return catching._results(value)  # type: ignore[return-value]

    async def invoke(self, value: In, /) -> ResultStream[Out, Err]:  # type: ignore[override]
        return self.stream(value)


@final
@frozen(repr=False)
class Failing(Fallible[object, Any, E], metaclass=NoPublicConstructor):
    """The agent that fails with the same error whatever its input (see :func:`fail`)."""

    _built_by = "fail(error)"

    error: E

    async def invoke(self, value: object, /) -> Result[NoReturn, E]:
        return Failure(self.error)

    def describe(self) -> Node:
        return Node("agent", f"fail({self.error!r})")


def fail(error: E) -> Fallible[object, NoReturn, E]:
    """An agent that always returns ``Failure(error)``: ``fail(e) >> f`` never invokes a
    fallible ``f`` (they compose by short-circuiting); a plain ``f`` is given the ``Failure``."""
    return create(Failing, error)


@final
@frozen(repr=False)
class Recovered(Composite[In, Out], metaclass=NoPublicConstructor):
    """``fallible.recover(handler)``: a success passes through untouched, a failure goes to
    ``handler``."""

    _built_by = "fallible.recover(handler)"

    fallible: Fallible[In, Out, Any]
    handler: Agent[Any, Out]

    async def invoke(self, value: In, /) -> Out:
        result = await self.fallible.invoke(value)
        if isinstance(result, Success):
            return result.unwrap()  # type: ignore[no-any-return]
        return await self.handler.invoke(result.failure())

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.fallible._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        found: object | None = yield self.handler._walk_output()
        return found

    def _walk_node(self) -> Walk[Node]:
        fallible: Node = yield self.fallible._walk_node()
        handler: Node = yield self.handler._walk_node()
        return Node("recover", "{}.recover({})", (fallible, handler))
