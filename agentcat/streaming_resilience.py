"""Fallback and retry for streams, which must not repeat or lose a delta already passed on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, final

import anyio
from attrs import field, frozen, validators

from agentcat._vars import In, Out
from agentcat.monoid import INFERRED, Monoid, monoid_of
from agentcat.resilience import (
    Backoff,
    describe_fallback,
    describe_retry,
    exhausted,
    fallback_plan,
    retry_plan,
)
from agentcat.sources import aclose_all
from agentcat.streaming import Chain, StreamingAgent
from agentcat.structure import Node

__all__ = ["StreamingError", "StreamingFallback", "StreamingRetry"]


class StreamingError(Exception):
    """A stream failed after it had passed deltas on, so it could not be retried or replaced
    without repeating them. ``partial`` is what it had produced; ``recoverable`` tells whether
    an attempt or alternative was left that would have taken over before the first delta, so a
    caller may restart the whole stream. The original failure is ``__cause__``."""

    def __init__(self, message: str, *, partial: Any, recoverable: bool) -> None:
        super().__init__(message)
        self.partial = partial
        self.recoverable = recoverable


async def first_stream(
    owner: StreamingAgent[Any, Any],
    plan: Sequence[tuple[StreamingAgent[In, Out], float]],
    value: In,
    on: tuple[type[Exception], ...],
    summary: str,
) -> AsyncIterator[Out]:
    """Stream the first attempt of ``plan`` that does not fail with ``on`` before its first
    delta; a failure after it is a :class:`StreamingError` (the deltas are passed on already)."""
    failures: list[Exception] = []
    for number, (agent, delay) in enumerate(plan, 1):
        if delay:
            await anyio.sleep(delay)
        chain: Chain = []
        emitted: list[Out] = []
        try:
            async for delta in agent.start(value, chain):
                emitted.append(delta)
                yield delta
            return
        except on as error:
            if emitted:
                monoid: Monoid[Out] = agent.monoid or monoid_of(emitted[0])
                raise StreamingError(
                    f"{owner!r}: {agent!r} failed after {len(emitted)} deltas: {error}",
                    partial=monoid.concat(emitted),
                    recoverable=number < len(plan),
                ) from error
            failures.append(error)
        finally:
            await aclose_all(chain)
    raise exhausted(failures, summary)


@final
@frozen(repr=False)
class StreamingFallback(StreamingAgent[In, Out]):
    """Alternatives tried in turn while one fails with ``on`` before its first delta."""

    alternatives: tuple[StreamingAgent[In, Out], ...]
    on: tuple[type[Exception], ...]

    def open(self, value: In, /) -> AsyncIterator[Out]:
        plan = fallback_plan(self.alternatives)
        return first_stream(self, plan, value, self.on, f"every alternative of {self!r} failed")

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.monoid_after(None)

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        """The most specific monoid among the alternatives' (any may be the one that answers):
        the first one known by type, else :data:`INFERRED` if one infers, else ``None``."""
        known = [a.monoid_after(upstream) for a in self.alternatives]
        specific = [m for m in known if m is not None and m is not INFERRED]
        return specific[0] if specific else next((m for m in known if m is not None), None)

    @property
    def element_type(self) -> object | None:
        return self.alternatives[0].element_type

    @property
    def input_type(self) -> object | None:
        return self.alternatives[0].input_type

    def describe(self) -> Node:
        return describe_fallback(self.alternatives)


@final
@frozen(repr=False)
class StreamingRetry(StreamingAgent[In, Out]):
    """Up to ``attempts`` runs while the stream fails with ``on`` before its first delta."""

    agent: StreamingAgent[In, Out]
    attempts: int = field(validator=validators.ge(1))
    backoff: Backoff
    on: tuple[type[Exception], ...]

    def open(self, value: In, /) -> AsyncIterator[Out]:
        plan = retry_plan(self.agent, self.attempts, self.backoff)
        summary = f"{self!r} failed on all {self.attempts} attempts"
        return first_stream(self, plan, value, self.on, summary)

    @property
    def monoid(self) -> Monoid[Out] | None:
        return self.agent.monoid

    def monoid_after(self, upstream: Monoid[Any] | None, /) -> Monoid[Out] | None:
        return self.agent.monoid_after(upstream)

    @property
    def element_type(self) -> object | None:
        return self.agent.element_type

    @property
    def input_type(self) -> object | None:
        return self.agent.input_type

    def describe(self) -> Node:
        return describe_retry(self.agent, self.attempts)
