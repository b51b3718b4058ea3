"""Fallback and retry: an agent that tries another, or tries again, plain or streaming.

Both are a *plan* of attempts (which agent, and how long to wait first), walked by one loop
that works out each attempt only when it starts. What another attempt is for is a failure of
the agents themselves, in ``on``: agentcat's own errors (but :class:`agentcat.StreamingError`)
and :class:`RecursionError` are mistakes another attempt would make again, so they pass through
unless ``on`` names their class.

A stream can switch to the next attempt only before its first delta: after it, the deltas are
passed on already, and a silent switch would repeat or lose some, so a failure in ``on`` then
is a :class:`agentcat.StreamingError` with the partial output (a failure not in ``on`` passes
through as it is). Fed a stream, a retried stage waits for its whole input, even a transducer:
another attempt must start from the input's first delta, which only the whole input keeps.
"""

from __future__ import annotations

import functools
import random
from abc import abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any, TypeVar, final

import anyio
from attrs import field, frozen, validators

from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Once, Run, is_mistake
from agentcat._structure import Node, Walk
from agentcat.agent import Agent
from agentcat.errors import CompositionError, StreamingError
from agentcat.monoids import INFERRED, Monoid, monoid_for
from agentcat.streaming import Combinator, Lifted, StreamingAgent, lift, walk_whole_type

__all__ = ["Backoff", "Fallback", "Retry", "fallback", "retry"]

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)


@frozen
class Backoff:
    """Exponential backoff: ``initial * factor**n`` seconds before retry ``n + 1``, at most
    ``maximum``, each delay spread by up to ``jitter`` (a fraction) either way.

    Raises:
        ValueError: a field is out of its range (negative, a factor below 1, a jitter above 1).
    """

    initial: float = field(default=0.1, validator=validators.ge(0))
    """Seconds before the first retry."""
    factor: float = field(default=2.0, validator=validators.ge(1))
    """How much longer each wait is than the one before."""
    maximum: float = field(default=30.0, validator=validators.ge(0))
    """The longest wait, in seconds."""
    jitter: float = field(default=0.0, validator=[validators.ge(0), validators.le(1)])
    """The fraction by which each wait is spread, at random, either way."""

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first retry), spread by the
        jitter, then at most ``maximum``, however large ``retry`` is."""
        base = self.initial
        if base and retry:
            try:
                base *= float(self.factor) ** retry  # a float: an int power would be exact
            except OverflowError:  # far past any maximum a float can hold
                base = self.maximum
        if self.jitter:
            base *= 1 + random.uniform(-self.jitter, self.jitter)
        return min(base, self.maximum)


_NO_BACKOFF = Backoff(initial=0.0)

_ON = (Exception,)
"""What ``on`` is when it is not given."""

Opener = Callable[[Agent[Any, Any], Any, Run], AsyncIterator[Any]]
"""Opens one attempt: the deltas of an agent's output, recorded in a run."""


class _Attempting(Combinator[In, Out]):
    """What :class:`Fallback` and :class:`Retry` share: a plan of attempts on the same input,
    the first that does not fail with ``on`` answering, and what they say of themselves, from
    the agents of the plan (any of which may be the one that answers)."""

    __slots__ = ()

    on: tuple[type[Exception], ...]

    @property
    @abstractmethod
    def _agents(self) -> tuple[Agent[In, Any], ...]:
        """Every agent of the plan, once each, in order."""

    @property
    @abstractmethod
    def _count(self) -> int:
        """How many attempts the plan has."""

    @abstractmethod
    def _attempt(self, number: int) -> tuple[Agent[In, Any], float]:
        """Which agent makes attempt ``number`` (from 0), and the seconds to wait before it."""

    @property
    @abstractmethod
    def _summary(self) -> str:
        """What happened when every attempt failed (rendered only then)."""

    async def invoke(self, value: In, /) -> Out:
        if self.streams:
            return await self._whole(value)
        return await _first_success(self, value)  # type: ignore[no-any-return]

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        return run.opened(_attempts(self, value, run, _streaming))

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self._agents[0]._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        found: object | None = yield walk_whole_type(self._agents[0])
        return found

    @property
    def _streaming_agents(self) -> tuple[StreamingAgent[In, Any], ...]:
        return self._agents  # type: ignore[return-value]  # `streams`: every one streams

    def _walk_element(self) -> Walk[object | None]:
        found: object | None = yield self._streaming_agents[0]._walk_element()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        for agent in self._streaming_agents:
            if (yield agent._walk_tasks()):
                return True
        return False

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None]:
        """The most specific monoid among the agents' (any may be the one that answers): the
        first one known by type, else :data:`INFERRED` if one infers, else ``None``."""
        known: list[Monoid[Any] | None] = []
        for agent in self._streaming_agents:
            known.append((yield agent._walk_monoid(upstream)))
        specific = [m for m in known if m is not None and m is not INFERRED]
        return specific[0] if specific else next((m for m in known if m is not None), None)


def _keywords(on: tuple[type[Exception], ...], backoff: Backoff = _NO_BACKOFF) -> list[str]:
    """The keyword arguments of ``with_retry`` or ``with_fallback`` that are not the defaults,
    as they are written, for a :class:`Node`'s label (a format string: braces are doubled)."""
    written = []
    if backoff != _NO_BACKOFF:
        written.append("backoff=" + repr(backoff).replace("{", "{{").replace("}", "}}"))
    if on != _ON:
        names = ", ".join(kind.__name__ for kind in on)
        written.append(f"on=({names},)" if len(on) == 1 else f"on=({names})")
    return written


async def _attempts(
    owner: _Attempting[Any, Any], value: Any, run: Run, open_attempt: Opener
) -> AsyncGenerator[Any, None]:
    """The deltas of the first attempt of ``owner``'s plan that does not fail with ``owner.on``
    before its first delta; such a failure after it is a :class:`agentcat.StreamingError`, and
    a failure not in ``on`` (or one of agentcat's own mistakes that ``on`` does not name) passes
    through unchanged.

    Each attempt has a run of its own, closed when the attempt ends, in the host that ``run``
    has by the time the attempt starts (the scope of ``async with stream:``, entered after the
    stream was made). When every attempt fails, the last failure is raised with the earlier ones
    as its ``__context__`` chain, and a note that names them all.
    """
    on, count = owner.on, owner._count
    failures: list[Exception] = []
    for number in range(count):
        agent, delay = owner._attempt(number)
        if delay:
            await anyio.sleep(delay)
        attempt = Run(run.host)
        passed = _Passed(agent, value)
        deltas = passed.deltas
        try:
            async for delta in open_attempt(agent, value, attempt):
                if delta or not passed.says_nothing(delta):  # an empty delta is no output
                    deltas.append(delta)
                    if len(deltas) == _BLOCK:
                        passed.fold()
                yield delta
            return
        except on as error:
            if is_mistake(error, on):
                raise
            if passed.count:
                raise StreamingError(
                    f"{owner!r}: {agent!r} failed after {passed.count} deltas: {error}",
                    partial=passed.value(),
                    recoverable=number + 1 < count,
                ) from error
            if failures:
                _link_context(error, failures[-1])
            failures.append(error)
        finally:
            await attempt.aclose()
    raise _exhausted(owner, failures)


_BLOCK = 64
"""How many values :class:`_Passed` keeps at each level before it concatenates them."""


class _Passed:
    """What an attempt has passed on, kept for its partial output should it fail midway: every
    :data:`_BLOCK` deltas are concatenated into one value, every :data:`_BLOCK` of those into
    one of the level above, and so on, so what is kept is that output, fewer than
    :data:`_BLOCK` values a level, and no delta for long (the stream keeps its own)."""

    __slots__ = ("_agent", "_input", "_levels", "_monoid", "deltas")

    def __init__(self, agent: Agent[Any, Any], value: Any) -> None:
        self._agent, self._input = agent, value
        self.deltas: list[Any] = []
        """The deltas passed on since the last fold (the first level)."""
        self._levels = [self.deltas]
        self._monoid: Monoid[Any] | None = None

    @property
    def count(self) -> int:
        """How many deltas were passed on."""
        return sum(len(level) * _BLOCK**height for height, level in enumerate(self._levels))

    def fold(self) -> None:
        """Concatenate each full level into one value of the level above."""
        monoid, levels = self._concatenation(), self._levels
        height = 0
        while len(levels[height]) == _BLOCK:
            if height + 1 == len(levels):
                levels.append([])
            levels[height + 1].append(monoid.concat(levels[height]))
            levels[height].clear()
            height += 1

    def value(self) -> Any:
        """The accumulated output passed on: the highest level holds its beginning."""
        parts = [part for level in reversed(self._levels) for part in level]
        return self._concatenation().concat(parts)

    def says_nothing(self, delta: Any) -> bool:
        """Whether ``delta`` is empty, as a stream drops it: then it was not output passed on,
        and a failure after it can still be retried."""
        monoid = self._concatenation()
        if monoid is INFERRED:
            monoid = monoid_for(type(delta)) or INFERRED
        return monoid.is_empty(delta)

    def _concatenation(self) -> Monoid[Any]:
        """How the deltas add up: as in the attempt's stream, else as their type says."""
        if self._monoid is None:
            agent = self._agent
            known = (
                agent._monoid_for_input(self._input) if isinstance(agent, StreamingAgent) else None
            )
            self._monoid = known or INFERRED
        return self._monoid


def _link_context(error: BaseException, earlier: BaseException) -> None:
    """Make ``earlier`` the end of ``error``'s ``__context__`` chain, as if ``error`` had been
    raised while ``earlier`` was handled (unless it is in the chain already: the same exception
    raised by every attempt)."""
    while True:
        if error is earlier:
            return
        if error.__context__ is None:
            error.__context__ = earlier
            return
        error = error.__context__


def _exhausted(owner: _Attempting[Any, Any], failures: list[Exception]) -> Exception:
    """The last failure, annotated with what ``owner`` says of it and the earlier failures, so
    none is lost."""
    last = failures[-1]
    earlier = "".join(f"\n  {type(e).__name__}: {e}" for e in failures[:-1])
    last.add_note(owner._summary + (f"; earlier failures:{earlier}" if earlier else ""))
    return last


def _invoking(agent: Agent[Any, Any], value: Any, run: Run) -> AsyncIterator[Any]:
    """A plain attempt: its output is its one delta."""
    return Once(lambda: agent.invoke(value))


def _streaming(agent: Agent[Any, Any], value: Any, run: Run) -> AsyncIterator[Any]:
    """A streaming attempt: its deltas as they come."""
    return agent._open(value, run)  # type: ignore[attr-defined, no-any-return]


async def _first_success(owner: _Attempting[Any, Any], value: Any) -> Any:
    """The output of the first plain attempt of ``owner``'s plan that does not fail with
    ``owner.on``."""
    attempts = _attempts(owner, value, Run(), _invoking)
    try:
        return await anext(attempts)
    finally:
        await attempts.aclose()


@final
@frozen(repr=False)
class Fallback(_Attempting[In, Out], metaclass=NoPublicConstructor):
    """``f.with_fallback(g, ..., on=...)``: the first alternative that does not fail with ``on``
    answers; a streaming one switches only before its first delta. After it, a failure in
    ``on`` is a :class:`agentcat.StreamingError` with the partial output, and any other failure
    passes through unchanged, as do agentcat's own errors that ``on`` does not name (see the
    module).

    Fed a stream, it waits for its whole input, even when the alternatives are transducers: the
    next alternative must start from the input's first delta, which only the whole input keeps.
    """

    _built_by = "agent.with_fallback(...)"

    alternatives: tuple[Agent[In, Any], ...]
    on: tuple[type[Exception], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.alternatives[0], StreamingAgent)

    @property
    def _agents(self) -> tuple[Agent[In, Any], ...]:
        return self.alternatives

    @property
    def _count(self) -> int:
        return len(self.alternatives)

    def _attempt(self, number: int) -> tuple[Agent[In, Any], float]:
        return self.alternatives[number], 0.0

    @property
    def _summary(self) -> str:
        return f"every alternative of {self!r} failed"

    def _walk_node(self) -> Walk[Node]:
        nodes: list[Node] = []
        for alternative in self.alternatives:
            nodes.append((yield alternative._walk_node()))
        arguments = ", ".join(["{}"] * (len(nodes) - 1) + _keywords(self.on))
        return Node("fallback", "{}.with_fallback(" + arguments + ")", tuple(nodes))


@final
@frozen(repr=False)
class Retry(_Attempting[In, Out], metaclass=NoPublicConstructor):
    """``f.with_retry(attempts, backoff=..., on=...)``: up to ``attempts`` attempts while ``f``
    fails with ``on``, waiting as ``backoff`` says between them (each wait worked out when it
    comes); a streaming one tries again only before its first delta. After it, a failure in
    ``on`` is a :class:`agentcat.StreamingError` with the partial output, and any other failure
    passes through unchanged, as do agentcat's own errors that ``on`` does not name (see the
    module).

    Fed a stream, it waits for its whole input, even when ``f`` is a transducer: another attempt
    must start from the input's first delta, which only the whole input keeps.
    """

    _built_by = "agent.with_retry(...)"

    agent: Agent[In, Any]
    attempts: int
    backoff: Backoff
    on: tuple[type[Exception], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.agent, StreamingAgent)

    @property
    def _agents(self) -> tuple[Agent[In, Any], ...]:
        return (self.agent,)

    @property
    def _count(self) -> int:
        return self.attempts

    def _attempt(self, number: int) -> tuple[Agent[In, Any], float]:
        return self.agent, self.backoff.delay(number - 1) if number else 0.0

    @property
    def _summary(self) -> str:
        return f"{self!r} failed on all {self.attempts} attempts"

    def _walk_node(self) -> Walk[Node]:
        node: Node = yield self.agent._walk_node()
        arguments = ", ".join([str(self.attempts), *_keywords(self.on, self.backoff)])
        return Node("retry", "{}.with_retry(" + arguments + ")", (node,))


def _exception_classes(
    on: object, agent: Agent[Any, Any], method: str
) -> tuple[type[Exception], ...]:
    """``on``, checked: ``agent`` is rendered (its whole structure) only when ``on`` is wrong.

    Raises:
        CompositionError: ``on`` is not a tuple of exception classes.
    """
    if isinstance(on, tuple) and all(isinstance(e, type) and issubclass(e, Exception) for e in on):
        return on
    raise CompositionError(
        f"{agent!r}.{method}(...): on= takes a tuple of exception classes, not {on!r}"
    )


def fallback(
    agents: tuple[Agent[Any, Any], ...], on: tuple[type[Exception], ...]
) -> Agent[Any, Any]:
    """``agents[0].with_fallback(*agents[1:], on=on)``; when one streams, every one does (and
    the fallback waits for its whole input, see :class:`Fallback`).

    Raises:
        CompositionError: an alternative is not an agent, or ``on`` is not a tuple of
            exception classes.
    """
    first = agents[0]
    for alternative in agents[1:]:
        if not isinstance(alternative, Agent):
            raise CompositionError(f"{first!r}.with_fallback(...): {alternative!r} is not an Agent")
    on = _exception_classes(on, first, "with_fallback")
    if any(isinstance(a, StreamingAgent) for a in agents):
        return create(Lifted, create(Fallback, tuple(lift(a) for a in agents), on))
    return create(Fallback, agents, on)


def retry(
    agent: Agent[Any, Any],
    attempts: int,
    backoff: Backoff | None,
    on: tuple[type[Exception], ...],
) -> Agent[Any, Any]:
    """``agent.with_retry(attempts, backoff=backoff, on=on)`` (a streaming one waits for its
    whole input, see :class:`Retry`).

    Raises:
        CompositionError: ``attempts`` is not an int, ``backoff`` not a :class:`Backoff`, or
            ``on`` not a tuple of exception classes.
        ValueError: ``attempts`` is less than 1.
    """
    if not isinstance(attempts, int) or isinstance(attempts, bool):
        raise CompositionError(
            f"{agent!r}.with_retry({attempts!r}): attempts must be an int, not {attempts!r}"
        )
    if attempts < 1:
        raise ValueError(
            f"{agent!r}.with_retry({attempts}): attempts must be at least 1, not {attempts}"
        )
    if backoff is not None and not isinstance(backoff, Backoff):
        raise CompositionError(
            f"{agent!r}.with_retry(...): backoff must be a Backoff, not {backoff!r}"
        )
    on = _exception_classes(on, agent, "with_retry")
    made: Retry[Any, Any] = create(Retry, agent, attempts, backoff or _NO_BACKOFF, on)
    return create(Lifted, made) if made.streams else made
