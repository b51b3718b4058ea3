"""`Agent[In, Out]`: a typed morphism from ``In`` to ``Out``, and the operators that compose it."""

from __future__ import annotations

import inspect
from abc import ABCMeta, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, final, get_args, get_origin, overload

from attrs import frozen

from agentcat._vars import AnyAgent, Ex, Ex2, In, Out, T, W, X, Y, Z
from agentcat.annotations import hints_of
from agentcat.structure import Node, render

if TYPE_CHECKING:
    from agentcat.products import FanOut
    from agentcat.resilience import Backoff
    from agentcat.results import Fallible
    from agentcat.streaming import StreamingAgent

__all__ = ["Agent", "FunctionAgent", "Id", "Identity", "agent"]


class Agent(Generic[In, Out], metaclass=ABCMeta):
    """An asynchronous, typed step from an ``In`` to an ``Out``.

    Subclass it and define :meth:`invoke`, or decorate a function with :func:`agent`. Agents are
    composed with ``>>`` (sequence), ``&`` (fan-out: one input, every output) and ``*`` (parallel:
    a pair of inputs, a pair of outputs); every combinator gives an agent again.
    """

    __slots__ = ()

    @abstractmethod
    async def invoke(self, value: In, /) -> Out:
        """Turn ``value`` into this agent's output."""

    @property
    def name(self) -> str:
        """What the agent is called in ``repr`` and in error messages."""
        return type(self).__name__

    @property
    def input_type(self) -> object | None:
        """The annotation of the input, or ``None`` where it is not known at run time."""
        return _declared_types(self)[0]

    @property
    def output_type(self) -> object | None:
        """The annotation of the output, or ``None`` where it is not known at run time."""
        return _declared_types(self)[1]

    def describe(self) -> Node:
        """The structure of the agent, as a tree (a single leaf for a plain agent)."""
        return Node("agent", self.name)

    def __repr__(self) -> str:
        return render(self.describe())

    # Sequence. Subclasses refine it: `Identity`, `Fallible` and the streaming agents.
    @overload
    def __rshift__(self: AnyAgent, other: Identity, /) -> AnyAgent: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: StreamingAgent[Y, Z], /) -> StreamingAgent[X, Z]: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: Agent[Y, Z], /) -> Agent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        from agentcat.compose import compose

        return compose(self, other)

    def __and__(self: Agent[X, Y], other: Agent[X, Z], /) -> FanOut[X, Y, Z]:
        from agentcat.products import fan_out

        return fan_out(self, other)

    def __mul__(self: Agent[X, Y], other: Agent[W, Z], /) -> Agent[tuple[X, W], tuple[Y, Z]]:
        from agentcat.products import Parallel

        if not isinstance(other, Agent):
            raise TypeError(f"{self!r} * {other!r}: the right operand is not an Agent")
        return Parallel(self, other)

    def with_fallback(
        self: Agent[X, Y],
        *alternatives: Agent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> Agent[X, Y]:
        """An agent that tries this one, then each alternative in turn while they fail with ``on``.

        When every one fails, the last failure is raised, with the earlier ones as its
        ``__context__`` chain and named in a note.
        """
        from agentcat.resilience import Fallback

        return Fallback((self, *alternatives), on)

    def with_retry(
        self: Agent[X, Y],
        attempts: int = 3,
        *,
        backoff: Backoff | None = None,
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> Agent[X, Y]:
        """An agent that invokes this one up to ``attempts`` times while it fails with ``on``,
        sleeping as ``backoff`` says between attempts (no sleep when ``backoff`` is ``None``)."""
        from agentcat.resilience import Retry, no_backoff

        return Retry(self, attempts, backoff or no_backoff, on)

    @overload
    def as_result(self: Agent[X, Y], /) -> Fallible[X, Y, Exception]: ...
    @overload
    def as_result(self: Agent[X, Y], error: type[Ex], /) -> Fallible[X, Y, Ex]: ...
    @overload
    def as_result(
        self: Agent[X, Y], error: type[Ex], other: type[Ex2], /
    ) -> Fallible[X, Y, Ex | Ex2]: ...
    @overload
    def as_result(self: Agent[X, Y], /, *errors: type[Exception]) -> Fallible[X, Y, Exception]: ...
    def as_result(self, /, *errors: type[Exception]) -> Fallible[Any, Any, Any]:
        """An agent that returns ``Success(output)``, or ``Failure(error)`` for the exception
        types given (every ``Exception`` when none is), instead of raising them."""
        from agentcat.results import Catching

        return Catching(self, errors or (Exception,))


@final
@frozen(repr=False)
class FunctionAgent(Agent[In, Out]):
    """An agent made of a plain or ``async`` function of one argument (see :func:`agent`)."""

    function: Callable[[In], Out | Awaitable[Out]]

    async def invoke(self, value: In, /) -> Out:
        result = self.function(value)
        if inspect.isawaitable(result):
            return await result
        return result

    @property
    def name(self) -> str:
        return getattr(self.function, "__name__", repr(self.function))

    @property
    def input_type(self) -> object | None:
        return hints_of(self.function)[0]

    @property
    def output_type(self) -> object | None:
        return hints_of(self.function)[1]


@overload
def agent(function: Callable[[X], Awaitable[Y]], /) -> Agent[X, Y]: ...
@overload
def agent(function: Callable[[X], Y], /) -> Agent[X, Y]: ...
def agent(function: Callable[[Any], Any], /) -> Agent[Any, Any]:
    """Make an agent of a function of one argument; ``async`` functions are awaited.

    The type checker infers ``In`` and ``Out`` from the function's annotations, and ``>>`` checks
    them at run time too. An ``async`` generator function gives an agent whose output is the
    generator: :func:`agentcat.lift` streams it a delta at a time.
    """
    if not callable(function):
        raise TypeError(f"agent() takes a function of one argument, not {function!r}")
    return FunctionAgent(function)


@final
@frozen(repr=False)
class Identity(Agent[Any, Any]):
    """The identity agent: its output is its input. ``Id >> f`` and ``f >> Id`` are ``f``."""

    async def invoke(self, value: T, /) -> T:
        return value

    def __rshift__(self, other: AnyAgent, /) -> AnyAgent:
        from agentcat.compose import compose

        return compose(self, other)  # type: ignore[return-value]  # `compose` returns `other`

    @property
    def name(self) -> str:
        return "Id"


Id = Identity()


def _declared_types(instance: Agent[Any, Any]) -> tuple[object | None, object | None]:
    """The ``In`` and ``Out`` an agent class declares: from a base written ``Agent[A, B]``, or
    else from the annotations of its ``invoke``. Type variables count as unknown."""
    for klass in type(instance).__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if get_origin(base) is Agent:
                declared = tuple(None if _is_variable(a) else a for a in get_args(base))
                if any(a is not None for a in declared):
                    return declared[0], declared[1]
    return hints_of(type(instance).invoke)


def _is_variable(annotation: object) -> bool:
    return isinstance(annotation, TypeVar) or annotation is Any
