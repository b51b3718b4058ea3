"""Errors as values: agents that return ``returns``' ``Result`` and compose by short-circuiting."""

from __future__ import annotations

from typing import Any, Generic, NoReturn, final, overload

from attrs import frozen
from returns.result import Failure, Result, Success

from agentcat._vars import AnyAgent, E, Err, F, In, Out, X, Y, Z
from agentcat.agent import Agent, Identity
from agentcat.structure import Node

__all__ = ["Catching", "Fallible", "FallibleSequence", "Recovered", "fail", "fallible_sequence"]


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
    def __rshift__(self: Agent[X, Y], other: Agent[Y, Z], /) -> Agent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        return super().__rshift__(other)

    def recover(self: Fallible[X, Y, Any], handler: Agent[Any, Y], /) -> Agent[X, Y]:
        """An agent that returns the success value, or ``handler``'s answer to the failure."""
        return Recovered(self, handler)


@final
@frozen(repr=False)
class Catching(Fallible[In, Out, Exception]):
    """``agent.as_result(*errors)``: the exceptions of the given types become ``Failure``s."""

    agent: Agent[In, Out]
    errors: tuple[type[Exception], ...]

    async def invoke(self, value: In, /) -> Result[Out, Exception]:
        try:
            return Success(await self.agent.invoke(value))
        except self.errors as error:
            return Failure(error)

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    def describe(self) -> Node:
        errors = ", ".join(e.__name__ for e in self.errors if e is not Exception)
        return Node("result", "{}" + f".as_result({errors})", (self.agent.describe(),))


@final
@frozen(repr=False)
class Failing(Fallible[object, Any, E]):
    """The agent that fails with the same error whatever its input (see :func:`fail`)."""

    error: E

    async def invoke(self, value: object, /) -> Result[NoReturn, E]:
        return Failure(self.error)

    def describe(self) -> Node:
        return Node("agent", f"fail({self.error!r})")


def fail(error: E) -> Fallible[object, NoReturn, E]:
    """An agent that always returns ``Failure(error)``: ``fail(e) >> f`` never invokes ``f``."""
    return Failing(error)


@final
@frozen(repr=False)
class FallibleSequence(Fallible[In, Out, Err]):
    """Fallible agents in sequence, stopping at the first ``Failure`` (flat, like `Pipeline`)."""

    stages: tuple[Fallible[Any, Any, Any], ...]

    async def invoke(self, value: In, /) -> Result[Out, Err]:
        result: Result[Any, Any] = Success(value)
        for stage in self.stages:
            if not isinstance(result, Success):
                break
            result = await stage.invoke(result.unwrap())
        return result

    @property
    def input_type(self) -> object | None:
        return self.stages[0].input_type

    def describe(self) -> Node:
        return Node("result_sequence", "", tuple(stage.describe() for stage in self.stages))


def fallible_sequence(
    left: Fallible[Any, Any, Any], right: Fallible[Any, Any, Any]
) -> FallibleSequence[Any, Any, Any]:
    """``left >> right`` for two fallible agents, flattened."""
    from agentcat.compose import check_compatible

    check_compatible(left, _success_type(left), right)
    return FallibleSequence(_stages(left) + _stages(right))


def _stages(agent: Fallible[Any, Any, Any]) -> tuple[Fallible[Any, Any, Any], ...]:
    return agent.stages if isinstance(agent, FallibleSequence) else (agent,)


def _success_type(agent: Fallible[Any, Any, Any]) -> object | None:
    last = _stages(agent)[-1]
    return last.agent.output_type if isinstance(last, Catching) else None


@final
@frozen(repr=False)
class Recovered(Agent[In, Out]):
    """``fallible.recover(handler)``: a success passes through untouched, a failure goes to
    ``handler``."""

    fallible: Fallible[In, Out, Any]
    handler: Agent[Any, Out]

    async def invoke(self, value: In, /) -> Out:
        result = await self.fallible.invoke(value)
        if isinstance(result, Success):
            return result.unwrap()  # type: ignore[no-any-return]
        return await self.handler.invoke(result.failure())

    def describe(self) -> Node:
        return Node(
            "recover", "{}.recover({})", (self.fallible.describe(), self.handler.describe())
        )
