"""Fallback and retry: an agent that tries another, or tries again, plain or streaming.

Both are a *plan* of attempts (which agent, and how long to wait first), walked by one loop.
A stream can switch to the next attempt only before its first delta: after it, the deltas are
passed on already, and a silent switch would repeat or lose some, so a failure then is a
:class:`agentcat.StreamingError` with the partial output.
"""

from __future__ import annotations

import functools
import random
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any, TypeVar, final

import anyio
from attrs import field, frozen, validators

from agentcat._meta import NoPublicConstructor, create
from agentcat._runtime import Once, Run
from agentcat._structure import Node, Walk
from agentcat.agent import Agent
from agentcat.errors import CompositionError, StreamingError
from agentcat.monoids import INFERRED, Monoid, monoid_of
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
        """Seconds to wait before retry number ``retry`` (0 for the first retry)."""
        base = min(self.initial * self.factor**retry, self.maximum)
        return base * (1 + random.uniform(-self.jitter, self.jitter)) if self.jitter else base


_NO_BACKOFF = Backoff(initial=0.0)

Plan = Sequence[tuple[Agent[Any, Any], float]]
"""The attempts, in order: which agent, and the seconds to wait before it."""

Opener = Callable[[Agent[Any, Any], Any, Run], AsyncIterator[Any]]
"""Opens one attempt: the deltas of an agent's output, recorded in a run."""


async def _attempts(
    owner: Agent[Any, Any],
    plan: Plan,
    value: Any,
    on: tuple[type[Exception], ...],
    summary: str,
    open_attempt: Opener,
) -> AsyncGenerator[Any, None]:
    """The deltas of the first attempt of ``plan`` that does not fail with ``on`` before its
    first delta; a failure after it is a :class:`agentcat.StreamingError`.

    When every attempt fails, the last failure is raised with the earlier ones as its
    ``__context__`` chain, and a note that names them all.
    """
    failures: list[Exception] = []
    for number, (agent, delay) in enumerate(plan, 1):
        if delay:
            await anyio.sleep(delay)
        run = Run()
        emitted: list[Any] = []  # for the partial output, should the attempt fail midway
        try:
            async for delta in open_attempt(agent, value, run):
                emitted.append(delta)
                yield delta
            return
        except on as error:
            if emitted:
                monoid: Monoid[Any] = _monoid_of(agent) or monoid_of(emitted[0])
                raise StreamingError(
                    f"{owner!r}: {agent!r} failed after {len(emitted)} deltas: {error}",
                    partial=monoid.concat(emitted),
                    recoverable=number < len(plan),
                ) from error
            if failures:
                _chain(error, failures[-1])
            failures.append(error)
        finally:
            await run.aclose()
    raise _exhausted(failures, summary)


def _monoid_of(agent: Agent[Any, Any]) -> Monoid[Any] | None:
    monoid = agent.monoid if isinstance(agent, StreamingAgent) else None
    return None if monoid is INFERRED else monoid


def _chain(error: BaseException, earlier: BaseException) -> None:
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


def _exhausted(failures: list[Exception], summary: str) -> Exception:
    """The last failure, annotated with a summary and the earlier failures, so none is lost."""
    last = failures[-1]
    earlier = "".join(f"\n  {type(e).__name__}: {e}" for e in failures[:-1])
    last.add_note(summary + (f"; earlier failures:{earlier}" if earlier else ""))
    return last


def _invoking(agent: Agent[Any, Any], value: Any, run: Run) -> AsyncIterator[Any]:
    """A plain attempt: its output is its one delta."""
    return Once(lambda: agent.invoke(value))


def _streaming(agent: Agent[Any, Any], value: Any, run: Run) -> AsyncIterator[Any]:
    """A streaming attempt: its deltas as they come."""
    return agent._open(value, run)  # type: ignore[attr-defined, no-any-return]


async def _first(
    owner: Combinator[Any, Any],
    plan: Plan,
    value: Any,
    on: tuple[type[Exception], ...],
    summary: str,
) -> Any:
    """The output of the first plain attempt of ``plan`` that does not fail with ``on``."""
    attempts = _attempts(owner, plan, value, on, summary, _invoking)
    try:
        return await anext(attempts)
    finally:
        await attempts.aclose()


@final
@frozen(repr=False)
class Fallback(Combinator[In, Out], metaclass=NoPublicConstructor):
    """``f.with_fallback(g, ...)``: the first alternative that does not fail with ``on`` answers."""

    _built_by = "agent.with_fallback(...)"

    alternatives: tuple[Agent[In, Any], ...]
    on: tuple[type[Exception], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.alternatives[0], StreamingAgent)

    @property
    def _plan(self) -> Plan:
        return [(alternative, 0.0) for alternative in self.alternatives]

    @property
    def _summary(self) -> str:
        return f"every alternative of {self!r} failed"

    async def invoke(self, value: In, /) -> Out:
        if self.streams:
            return await self._whole(value)
        return await _first(self, self._plan, value, self.on, self._summary)  # type: ignore[no-any-return]

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.alternatives[0]._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        found: object | None = yield walk_whole_type(self.alternatives[0])
        return found

    def _walk_node(self) -> Walk[Node]:
        nodes: list[Node] = []
        for alternative in self.alternatives:
            nodes.append((yield alternative._walk_node()))
        slots = ", ".join("{}" for _ in self.alternatives[1:])
        return Node("fallback", "{}.with_fallback(" + slots + ")", tuple(nodes))

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        return run.opened(_attempts(self, self._plan, value, self.on, self._summary, _streaming))

    @property
    def _streaming_alternatives(self) -> tuple[StreamingAgent[In, Any], ...]:
        return self.alternatives  # type: ignore[return-value]  # `streams`: every one streams

    def _walk_element(self) -> Walk[object | None]:
        found: object | None = yield self._streaming_alternatives[0]._walk_element()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        for alternative in self._streaming_alternatives:
            if (yield alternative._walk_tasks()):
                return True
        return False

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None]:
        """The most specific monoid among the alternatives' (any may be the one that answers):
        the first one known by type, else :data:`INFERRED` if one infers, else ``None``."""
        known: list[Monoid[Any] | None] = []
        for alternative in self._streaming_alternatives:
            known.append((yield alternative._walk_monoid(upstream)))
        specific = [m for m in known if m is not None and m is not INFERRED]
        return specific[0] if specific else next((m for m in known if m is not None), None)


@final
@frozen(repr=False)
class Retry(Combinator[In, Out], metaclass=NoPublicConstructor):
    """``f.with_retry(attempts, backoff=..., on=...)``: bounded attempts with backoff between."""

    _built_by = "agent.with_retry(...)"

    agent: Agent[In, Any]
    attempts: int = field(validator=validators.ge(1))
    backoff: Backoff
    on: tuple[type[Exception], ...]

    @functools.cached_property
    def streams(self) -> bool:
        return isinstance(self.agent, StreamingAgent)

    @property
    def _plan(self) -> Plan:
        delay = self.backoff.delay
        return [
            (self.agent, delay(number - 1) if number else 0.0) for number in range(self.attempts)
        ]

    @property
    def _summary(self) -> str:
        return f"{self!r} failed on all {self.attempts} attempts"

    async def invoke(self, value: In, /) -> Out:
        if self.streams:
            return await self._whole(value)
        return await _first(self, self._plan, value, self.on, self._summary)  # type: ignore[no-any-return]

    def _walk_input(self) -> Walk[object | None]:
        found: object | None = yield self.agent._walk_input()
        return found

    def _walk_output(self) -> Walk[object | None]:
        found: object | None = yield walk_whole_type(self.agent)
        return found

    def _walk_node(self) -> Walk[Node]:
        node: Node = yield self.agent._walk_node()
        return Node("retry", "{}" + f".with_retry({self.attempts})", (node,))

    def _open(self, value: In, run: Run, /) -> AsyncIterator[Any]:
        return run.opened(_attempts(self, self._plan, value, self.on, self._summary, _streaming))

    @property
    def _streaming_agent(self) -> StreamingAgent[In, Any]:
        return self.agent  # type: ignore[return-value]  # `streams`: it streams

    def _walk_element(self) -> Walk[object | None]:
        found: object | None = yield self._streaming_agent._walk_element()
        return found

    def _walk_tasks(self) -> Walk[bool]:
        found: bool = yield self._streaming_agent._walk_tasks()
        return found

    def _walk_monoid(self, upstream: Monoid[Any] | None, /) -> Walk[Monoid[Any] | None]:
        found: Monoid[Any] | None = yield self._streaming_agent._walk_monoid(upstream)
        return found


def _exception_classes(on: object, where: str) -> tuple[type[Exception], ...]:
    if isinstance(on, tuple) and all(isinstance(e, type) and issubclass(e, Exception) for e in on):
        return on
    raise CompositionError(f"{where}: on= takes a tuple of exception classes, not {on!r}")


def fallback(
    agents: tuple[Agent[Any, Any], ...], on: tuple[type[Exception], ...]
) -> Agent[Any, Any]:
    """``agents[0].with_fallback(*agents[1:], on=on)``; when one streams, every one does.

    Raises:
        CompositionError: an alternative is not an agent, or ``on`` is not a tuple of
            exception classes.
    """
    first = agents[0]
    for alternative in agents[1:]:
        if not isinstance(alternative, Agent):
            raise CompositionError(f"{first!r}.with_fallback(...): {alternative!r} is not an Agent")
    on = _exception_classes(on, f"{first!r}.with_fallback(...)")
    if any(isinstance(a, StreamingAgent) for a in agents):
        return create(Lifted, create(Fallback, tuple(lift(a) for a in agents), on))
    return create(Fallback, agents, on)


def retry(
    agent: Agent[Any, Any],
    attempts: int,
    backoff: Backoff | None,
    on: tuple[type[Exception], ...],
) -> Agent[Any, Any]:
    """``agent.with_retry(attempts, backoff=backoff, on=on)``.

    Raises:
        ValueError: ``attempts`` is less than 1.
        TypeError: ``attempts`` is not an int, ``backoff`` not a :class:`Backoff`, or ``on``
            not a tuple of exception classes.
    """
    if not isinstance(attempts, int) or isinstance(attempts, bool):
        raise TypeError(f"{agent!r}.with_retry(): attempts must be an int, not {attempts!r}")
    if backoff is not None and not isinstance(backoff, Backoff):
        raise TypeError(f"{agent!r}.with_retry(): backoff must be a Backoff, not {backoff!r}")
    on = _exception_classes(on, f"{agent!r}.with_retry(...)")
    made: Retry[Any, Any] = create(Retry, agent, attempts, backoff or _NO_BACKOFF, on)
    return create(Lifted, made) if made.streams else made
