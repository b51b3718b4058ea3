"""`Agent[In, Out]`: a typed morphism from ``In`` to ``Out``, and the operators that compose it.

The operators are defined here, once, for every agent, plain or streaming; each builds its
combinator from the module that holds it (``>>`` from :mod:`agentcat.sequence`, ``&`` and ``*``
from :mod:`agentcat.products`, fallback and retry from :mod:`agentcat.resilience`, ``as_result``
from :mod:`agentcat.fallible`). Those modules build on this one, so the operators import them
when called: that is the one import cycle of the package, and it is this one by design.
"""

from __future__ import annotations

import functools
import inspect
import types
from abc import ABCMeta, abstractmethod
from collections.abc import Awaitable, Callable, Container
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Never,
    NoReturn,
    TypeVar,
    final,
    get_args,
    get_origin,
    overload,
)

from attrs import frozen

from agentcat._annotations import awaited, hints_of
from agentcat._functions import check_function, name_of
from agentcat._meta import NoPublicConstructor, create
from agentcat._structure import Node, Walk, mimebundle, render, walk
from agentcat.errors import CompositionError

if TYPE_CHECKING:
    from agentcat.fallible import Fallible
    from agentcat.products import FanOut, StreamingFanOut
    from agentcat.resilience import Backoff
    from agentcat.streaming import StreamingAgent

__all__ = ["Agent", "Composite", "FunctionAgent", "Id", "Identity", "agent"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
T = TypeVar("T")
W = TypeVar("W")
X = TypeVar("X")
Y = TypeVar("Y")
Z = TypeVar("Z")
Ex = TypeVar("Ex", bound=Exception)
Ex2 = TypeVar("Ex2", bound=Exception)
AnyAgent = TypeVar("AnyAgent", bound="Agent[Any, Any]")


class Agent(Generic[In, Out], metaclass=ABCMeta):
    """An asynchronous, typed step from an ``In`` to an ``Out``.

    Subclass it and define :meth:`invoke`, or decorate a function with :func:`agent`. Agents are
    composed with ``>>`` (sequence), ``&`` (fan-out: one input, every output) and ``*`` (parallel:
    a pair of inputs, a pair of outputs); every combinator gives an agent again. When either
    operand streams (an :class:`agentcat.StreamingAgent`), so does the result, and the plain
    operand takes part as ``lift(operand)``, a stage that waits for its whole input.
    """

    __slots__ = ()

    @abstractmethod
    def invoke(self, value: In, /) -> Awaitable[Out]:
        """Turn ``value`` into this agent's output (``await agent.invoke(value)``). Define it
        with ``async def``."""

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

    def _repr_mimebundle_(
        self, include: Container[str] | None = None, exclude: Container[str] | None = None
    ) -> dict[str, str]:
        """What Jupyter shows of the agent: its diagram (``describe().svg()``), and its
        ``repr`` as the plain text (Jupyter passes ``include`` and ``exclude`` and filters
        itself)."""
        return mimebundle(self.describe(), repr(self))

    # What a composite asks of its parts, as steps of a walk (see `Composite`); a leaf answers
    # with its value.
    def _walk_input(self) -> Walk[object | None] | object | None:
        return self.input_type

    def _walk_output(self) -> Walk[object | None] | object | None:
        return self.output_type

    def _walk_node(self) -> Walk[Node] | Node:
        return self.describe()

    # Sequence. `Identity`, `Fallible` and `StreamingAgent` refine its types.
    @overload
    def __rshift__(self: AnyAgent, other: Identity, /) -> AnyAgent: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: StreamingAgent[Y, Z], /) -> StreamingAgent[X, Z]: ...
    @overload
    def __rshift__(self: Agent[X, Y], other: Agent[Y, Z], /) -> Agent[X, Z]: ...
    def __rshift__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        """``self >> other``: ``other`` runs on ``self``'s output.

        Raises:
            CompositionError: ``other`` is not an agent, or the annotations of ``self``'s output
                and ``other``'s input certainly disagree.
        """
        from agentcat.sequence import compose

        return compose(self, other)

    # A streaming operand makes the product stream. (The overlap with the next overload is the
    # point: the checker must pick the streaming result when it knows the operand streams.)
    @overload
    def __and__(  # type: ignore[overload-overlap]
        self: Agent[X, Y], other: StreamingAgent[X, Z], /
    ) -> StreamingFanOut[X, Y, Z]: ...
    @overload
    def __and__(self: Agent[X, Y], other: Agent[X, Z], /) -> FanOut[X, Y, Z]: ...
    def __and__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        """``self & other``: both run on the same input, concurrently; the output is the pair.

        Raises:
            CompositionError: ``other`` is not an agent.
        """
        from agentcat.products import fan_out

        return fan_out(self, other)

    @overload
    def __mul__(  # type: ignore[overload-overlap]  # as for &: a streaming operand streams
        self: Agent[X, Y], other: StreamingAgent[W, Z], /
    ) -> StreamingAgent[tuple[X, W], tuple[Y, Z]]: ...
    @overload
    def __mul__(self: Agent[X, Y], other: Agent[W, Z], /) -> Agent[tuple[X, W], tuple[Y, Z]]: ...
    def __mul__(self, other: Agent[Any, Any], /) -> Agent[Any, Any]:
        """``self * other``: ``self`` on the first item of a pair, ``other`` on the second,
        concurrently.

        Raises:
            CompositionError: ``other`` is not an agent.
        """
        from agentcat.products import parallel

        return parallel(self, other)

    # A left operand that is not an agent: Python asks the agent on the right.
    def __rrshift__(self, other: Never, /) -> NoReturn:
        raise _not_an_agent(other, ">>", self)

    def __rand__(self, other: Never, /) -> NoReturn:
        raise _not_an_agent(other, "&", self)

    def __rmul__(self, other: Never, /) -> NoReturn:
        raise _not_an_agent(other, "*", self)

    @overload
    def with_fallback(
        self: Agent[X, Y],
        first: StreamingAgent[X, Y],
        /,
        *alternatives: StreamingAgent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]: ...
    @overload
    def with_fallback(
        self: Agent[X, Y],
        /,
        *alternatives: Agent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> Agent[X, Y]: ...
    @overload
    def with_fallback(
        self: Agent[X, Y],
        /,
        *alternatives: Agent[X, Y] | StreamingAgent[X, Y],
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> StreamingAgent[X, Y]: ...
    def with_fallback(
        self, /, *alternatives: Agent[Any, Any], on: tuple[type[Exception], ...] = (Exception,)
    ) -> Agent[Any, Any]:
        """An agent that tries this one, then each alternative in turn while they fail with ``on``.

        When every one fails, the last failure is raised, with the earlier ones as its
        ``__context__`` chain and named in a note. Streaming alternatives switch only before
        their first delta (see :class:`agentcat.StreamingError`). agentcat's own errors (but
        ``StreamingError``) and ``RecursionError`` pass through unless ``on`` names their class.

        Raises:
            CompositionError: an alternative is not an agent, or ``on`` is not a tuple of
                exception classes.
        """
        from agentcat.resilience import fallback

        return fallback((self, *alternatives), on)

    def with_retry(
        self: Agent[X, Y],
        attempts: int = 3,
        *,
        backoff: Backoff | None = None,
        on: tuple[type[Exception], ...] = (Exception,),
    ) -> Agent[X, Y]:
        """An agent that invokes this one up to ``attempts`` times while it fails with ``on``,
        sleeping as ``backoff`` says between attempts (no sleep when ``backoff`` is ``None``).
        agentcat's own errors (but :class:`agentcat.StreamingError`) and ``RecursionError``
        are mistakes, not failures: they pass through unless ``on`` names their class.

        Raises:
            CompositionError: ``attempts`` is not an int, ``backoff`` not a
                :class:`agentcat.Backoff`, or ``on`` not a tuple of exception classes.
            ValueError: ``attempts`` is less than 1.
        """
        from agentcat.resilience import retry

        return retry(self, attempts, backoff, on)

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
    def as_result(self, /, *errors: type[Exception]) -> Agent[Any, Any]:
        """An agent that returns ``Success(output)``, or ``Failure(error)`` for the exception
        types given (every ``Exception`` when none is), instead of raising them.

        agentcat's own mistakes (an :class:`agentcat.AgentcatError` such as a delta of the
        wrong type, and ``RecursionError``) are still raised unless a type given names them:
        they are bugs in the program, not the agent's failure. A
        :class:`agentcat.StreamingError` is the agent's failure.

        Raises:
            CompositionError: an argument is not an exception class.
        """
        from agentcat.fallible import catching

        return catching(self, errors)


def _not_an_agent(other: object, operator: str, agent: Agent[Any, Any]) -> CompositionError:
    hint = " (decorate it with @agent to make an agent of it)" if callable(other) else ""
    return CompositionError(
        f"{other!r} {operator} {agent!r}: the left operand is not an Agent{hint}"
    )


class Composite(Agent[In, Out]):
    """An agent made of other agents. What it says of itself (its types, its structure) is
    defined over its parts as a walk, run with an explicit stack (``_structure.walk``): so a
    composite nested a thousand deep answers without meeting Python's recursion limit."""

    __slots__ = ()

    @property
    def input_type(self) -> object | None:
        return walk(self._walk_input())

    @property
    def output_type(self) -> object | None:
        return walk(self._walk_output())

    def describe(self) -> Node:
        return walk(self._walk_node())

    @abstractmethod
    def _walk_input(self) -> Walk[object | None] | object | None: ...

    @abstractmethod
    def _walk_output(self) -> Walk[object | None] | object | None: ...

    @abstractmethod
    def _walk_node(self) -> Walk[Node] | Node: ...


@final
@frozen(repr=False)
class FunctionAgent(Agent[In, Out], metaclass=NoPublicConstructor):
    """An agent made of a plain or ``async`` function of one argument (see :func:`agent`)."""

    _built_by = "@agent"

    function: Callable[[In], Out | Awaitable[Out]]

    async def invoke(self, value: In, /) -> Out:
        result = self.function(value)
        # `inspect.isawaitable`, without its ABC check on a plain value (the common case).
        if hasattr(type(result), "__await__") or (
            isinstance(result, types.GeneratorType) and inspect.isawaitable(result)
        ):
            return await result  # type: ignore[misc, no-any-return]
        return result  # type: ignore[return-value]

    @property
    def name(self) -> str:
        return name_of(self.function)

    @property
    def input_type(self) -> object | None:
        return hints_of(self.function)[0]

    @functools.cached_property
    def output_type(self) -> object | None:
        """The return annotation; for a plain function returning an awaitable (which ``invoke``
        awaits), what awaiting it gives."""
        declared = hints_of(self.function)[1]
        if inspect.iscoroutinefunction(self.function) or inspect.isasyncgenfunction(self.function):
            return declared
        return awaited(declared)


@overload
def agent(function: Callable[[X], Awaitable[Y]], /) -> Agent[X, Y]: ...
@overload
def agent(function: Callable[[X], Y], /) -> Agent[X, Y]: ...
def agent(function: Callable[[Any], Any], /) -> Agent[Any, Any]:
    """Make an agent of a function of one argument; ``async`` functions are awaited.

    The type checker infers ``In`` and ``Out`` from the function's annotations, and ``>>`` checks
    them at run time too. An ``async`` generator function gives an agent whose output is the
    generator: :func:`agentcat.lift` streams it a delta at a time (:func:`agentcat.streaming`
    does both at once).

    Raises:
        CompositionError: ``function`` is not callable, or cannot be called with one argument.
    """
    check_function("agent()", function)
    return create(FunctionAgent, function)


@final
@frozen(repr=False)
class Identity(Agent[Any, Any], metaclass=NoPublicConstructor):
    """The identity agent: its output is its input. ``Id >> f`` and ``f >> Id`` are ``f``."""

    _built_by = "agentcat.Id, the one identity"

    async def invoke(self, value: T, /) -> T:
        return value

    def __rshift__(self, other: AnyAgent, /) -> AnyAgent:
        from agentcat.sequence import compose

        return compose(self, other)  # type: ignore[return-value]  # `compose` returns `other`

    @property
    def name(self) -> str:
        return "Id"


Id = create(Identity)
"""The identity agent."""


def _declared_types(instance: Agent[Any, Any]) -> tuple[object | None, object | None]:
    """The ``In`` and ``Out`` an agent class declares: from a base written ``Agent[A, B]`` (or
    ``StreamingAgent[A, B]``...), or else from the annotations of its ``invoke``. Type variables
    count as unknown."""
    declared = declared_arguments(type(instance), Agent)
    if declared is not None and any(a is not None for a in declared):
        return declared[0], declared[1]
    return hints_of(type(instance).invoke)


@functools.cache
def declared_arguments(klass: type, generic: type) -> tuple[object | None, ...] | None:
    """The arguments ``klass`` gives ``generic`` among its bases, following type variables
    through the generic classes between them (``class M(StreamingAgent[str, str])`` gives
    ``StreamingAgent`` ``(str, str)``); ``None`` for an argument left a type variable or
    ``Any``, and ``None`` when ``generic`` is not a base at all. Cached: a class never changes
    what it declares, and streams ask at every start."""
    for base in _generic_bases(klass):
        found = _arguments(base, generic, {})
        if found is not None:
            return found
    return None


def _generic_bases(klass: type) -> list[object]:
    return [base for cls in klass.__mro__ for base in getattr(cls, "__orig_bases__", ())]


def _arguments(
    base: object, generic: type, bound: dict[object, object]
) -> tuple[object | None, ...] | None:
    origin = get_origin(base)
    if not isinstance(origin, type):
        return None
    arguments = tuple(_substituted(a, bound) for a in get_args(base))
    if origin is generic:
        return tuple(None if _is_variable(a) else a for a in arguments)
    parameters = getattr(origin, "__parameters__", ())
    if not issubclass(origin, generic) or len(parameters) != len(arguments):
        return None
    inner = dict(zip(parameters, arguments, strict=True))
    for deeper in getattr(origin, "__orig_bases__", ()):
        found = _arguments(deeper, generic, inner)
        if found is not None:
            return found
    return None


def _substituted(annotation: object, bound: dict[object, object]) -> object:
    """``annotation`` with the type variables bound so far replaced, also inside a generic
    alias (``Result[Out, Err]`` with ``Out=int, Err=ValueError`` is ``Result[int, ValueError]``)."""
    if isinstance(annotation, TypeVar):
        return bound.get(annotation, annotation)
    parameters = getattr(annotation, "__parameters__", ())
    if parameters and get_origin(annotation) is not None:
        return annotation[tuple(bound.get(p, p) for p in parameters)]  # type: ignore[index]
    return annotation


def _is_variable(annotation: object) -> bool:
    return isinstance(annotation, TypeVar) or annotation is Any
